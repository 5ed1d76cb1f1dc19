//! `firedrill pager`: a live terminal view of open pages. Redraws every
//! second, rings the bell when a page is new to this view or escalates to
//! the person watching, and says how to act on a page.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::Value;

use crate::cli::{Cli, Output};
use crate::client::LabClient;
use crate::cmd::page::{PAGE_HEADER, page_row};
use crate::output;

pub async fn run(cli: &Cli, person: Option<&str>, duration: Option<Duration>) -> Result<()> {
    let client = LabClient::new(cli);
    let started = Instant::now();
    // Page id -> (step, round) last seen: a change rings again.
    let mut seen: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    let mut first = true;
    let interactive = cli.output == Output::Text && output::color();
    loop {
        let mut query = vec![("status", "open".to_string())];
        if let Some(p) = person {
            query.push(("person", p.to_string()));
        }
        let pages = match client.get_query("/api/pages", &query).await {
            Ok(v) => v.as_array().cloned().unwrap_or_default(),
            Err(e) if first => return Err(e),
            Err(e) => {
                eprintln!("lost the lab ({e}); stopping");
                return Ok(());
            }
        };
        let mut ring = Vec::new();
        for p in &pages {
            let id = p["id"].as_i64().unwrap_or(0);
            let at = (
                p["step"].as_i64().unwrap_or(0),
                p["round"].as_i64().unwrap_or(0),
            );
            if seen.insert(id, at) != Some(at) && p["status"] == "triggered" {
                ring.push(p.clone());
            }
        }
        seen.retain(|id, _| pages.iter().any(|p| p["id"].as_i64() == Some(*id)));
        match cli.output {
            Output::Json => {
                for p in &ring {
                    println!("{p}");
                }
            }
            // Piped: print only when something needs attention.
            Output::Text if interactive || first || !ring.is_empty() => {
                draw(&pages, person, !ring.is_empty(), interactive)
            }
            Output::Text => {}
        }
        first = false;
        if duration.is_some_and(|d| started.elapsed() >= d) {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

fn draw(pages: &[Value], person: Option<&str>, ring: bool, interactive: bool) {
    let mut out = String::new();
    if interactive {
        out.push_str("\x1b[2J\x1b[H");
    }
    if ring {
        out.push('\x07');
    }
    let who = person.map(|p| format!(" for {p}")).unwrap_or_default();
    out.push_str(&format!(
        "firedrill pager{who} — {} open page(s) — {}\n\n",
        pages.len(),
        chrono::Local::now().format("%H:%M:%S")
    ));
    let rows: Vec<Vec<String>> = pages.iter().map(page_row).collect();
    if rows.is_empty() {
        out.push_str("  all quiet.\n");
    } else {
        out.push_str(&output::render_table(&PAGE_HEADER, &rows));
    }
    out.push_str("\n  firedrill page ack ID | resolve ID | snooze ID 10m | reassign ID PERSON | note ID \"...\" | show ID\n");
    if !interactive {
        out.push_str("---\n");
    }
    print!("{out}");
    let _ = std::io::stdout().flush();
}
