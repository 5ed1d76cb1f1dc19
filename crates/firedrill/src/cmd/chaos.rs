//! `firedrill chaos critical-path`.

use anyhow::Result;

use crate::cli::{ChaosCmd, Cli, Output};
use crate::client::LabClient;
use crate::output;

pub async fn run(cli: &Cli, cmd: &ChaosCmd) -> Result<()> {
    let client = LabClient::new(cli);
    let cp = client.control_plane()?;
    match cmd {
        ChaosCmd::CriticalPath {
            services,
            window,
            settle,
            recover,
            max_time,
        } => {
            let opts = chaos::critical::Options {
                settle: *settle,
                window: *window,
                recover: *recover,
                max_time: *max_time,
                services: services.clone(),
            };
            let bar = progress_bar();
            let m = chaos::critical::run(&cp, &opts, |done, total, what| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                bar.set_message(if what == "baseline" || what == "done" {
                    what.to_string()
                } else {
                    format!("{what} down")
                });
            })
            .await;
            bar.finish_and_clear();
            let m = m?;
            match cli.output {
                Output::Json => output::json(&serde_json::to_value(&m)?),
                Output::Text => {
                    print!("{}", chaos::critical::render(&m));
                    println!(
                        "({:.0}s, {:.0}s per service window)",
                        m.seconds, m.window_seconds
                    );
                }
            }
            if m.mismatches().next().is_some() {
                // Scripts can tell a clean matrix from one with findings.
                std::process::exit(3);
            }
        }
    }
    Ok(())
}

fn progress_bar() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(1)
    } else {
        indicatif::ProgressBar::hidden()
    };
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({elapsed})")
    {
        bar.set_style(style);
    }
    bar
}
