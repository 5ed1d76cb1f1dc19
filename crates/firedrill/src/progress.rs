//! A spinner for long operations; a plain line when not on a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Spinner {
    bar: Option<ProgressBar>,
}

impl Spinner {
    pub fn new(msg: &str) -> Spinner {
        if !std::io::stderr().is_terminal() {
            eprintln!("{msg}…");
            return Spinner { bar: None };
        }
        let bar = ProgressBar::new_spinner();
        let style = if crate::output::color() {
            "{spinner:.cyan} {msg}"
        } else {
            "{spinner} {msg}"
        };
        bar.set_style(
            ProgressStyle::with_template(style)
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(80));
        bar.set_message(msg.to_string());
        Spinner { bar: Some(bar) }
    }

    pub fn set(&self, msg: &str) {
        if let Some(b) = &self.bar {
            b.set_message(msg.to_string());
        }
    }

    pub fn done(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.finish_with_message(format!("✔ {msg}")),
            None => eprintln!("{msg}"),
        }
    }

    pub fn fail(&self) {
        if let Some(b) = &self.bar {
            b.abandon();
        }
    }
}
