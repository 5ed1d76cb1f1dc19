//! `firedrill page list|show|ack|resolve|snooze|reassign|note|open` and
//! `firedrill ticket list|assign|close`.

use anyhow::Result;
use serde_json::{Value, json};

use crate::cli::{Cli, PageCmd, TicketCmd};
use crate::client::LabClient;
use crate::output;

/// One line per page for tables (also used by the pager view).
pub fn page_row(p: &Value) -> Vec<String> {
    let since = p["created"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| {
            let s = (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
                .num_seconds()
                .max(0);
            if s < 120 {
                format!("{s}s")
            } else if s < 7200 {
                format!("{}m", s / 60)
            } else {
                format!("{}h", s / 3600)
            }
        })
        .unwrap_or_default();
    let shadows: Vec<&str> = p["recipients"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["role"] == "shadow")
        .filter_map(|r| r["person"].as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    vec![
        p["id"].to_string(),
        p["status"].as_str().unwrap_or("").into(),
        p["assignee"].as_str().unwrap_or("").into(),
        shadows.join(","),
        format!(
            "{}/{}",
            p["step"].as_i64().unwrap_or(0) + 1,
            p["round"].as_i64().unwrap_or(0) + 1
        ),
        since,
        p["title"].as_str().unwrap_or("").into(),
    ]
}

pub const PAGE_HEADER: [&str; 7] = [
    "ID",
    "STATUS",
    "ASSIGNEE",
    "SHADOW",
    "STEP/ROUND",
    "AGE",
    "TITLE",
];

fn said(cli: &Cli, v: &Value, what: &str) {
    output::emit(cli.output, v, || {
        println!(
            "page {} {what}: {} (assignee {})",
            v["id"],
            v["status"].as_str().unwrap_or(""),
            v["assignee"].as_str().unwrap_or("")
        )
    });
}

pub async fn run(cli: &Cli, cmd: &PageCmd) -> Result<()> {
    let client = LabClient::new(cli);
    let act = |id: i64, action: &str, body: Value| {
        let client = &client;
        let path = format!("/api/pages/{id}/{action}");
        async move { client.post(&path, body).await }
    };
    match cmd {
        PageCmd::List { status } => {
            let v = client
                .get_query("/api/pages", &[("status", status.clone())])
                .await?;
            output::emit(cli.output, &v, || {
                let rows: Vec<Vec<String>> =
                    v.as_array().into_iter().flatten().map(page_row).collect();
                output::table(&PAGE_HEADER, &rows);
            });
        }
        PageCmd::Show { id } => {
            let v = client.get(&format!("/api/pages/{id}")).await?;
            output::emit(cli.output, &v, || {
                let p = &v["page"];
                println!("page {id}: {}", p["title"].as_str().unwrap_or(""));
                println!(
                    "  status {}  assignee {}  policy {}",
                    p["status"].as_str().unwrap_or(""),
                    p["assignee"].as_str().unwrap_or(""),
                    p["policy"].as_str().unwrap_or("")
                );
                if let Some(s) = p["summary"].as_str().filter(|s| !s.is_empty()) {
                    println!("  {s}");
                }
                println!();
                for e in v["timeline"].as_array().into_iter().flatten() {
                    let a = &e["attributes"];
                    let detail = match e["kind"].as_str().unwrap_or("") {
                        "page.triggered" | "page.escalated" | "page.unsnoozed" => a["recipients"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|r| {
                                format!(
                                    "{} ({})",
                                    r["person"].as_str().unwrap_or(""),
                                    r["role"].as_str().unwrap_or("")
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                        "page.noted" => format!(
                            "{}: {}",
                            a["by"].as_str().unwrap_or(""),
                            a["text"].as_str().unwrap_or("")
                        ),
                        "page.reassigned" => format!(
                            "{} → {}",
                            a["from"].as_str().unwrap_or(""),
                            a["to"].as_str().unwrap_or("")
                        ),
                        _ => a["by"].as_str().unwrap_or("").to_string(),
                    };
                    println!(
                        "  {}  {:<20} {detail}",
                        e["time"].as_str().unwrap_or("").get(..19).unwrap_or(""),
                        e["kind"].as_str().unwrap_or("")
                    );
                }
            });
        }
        PageCmd::Ack { id, actor } => said(
            cli,
            &act(*id, "acknowledge", json!({"by": actor.person})).await?,
            "acknowledged",
        ),
        PageCmd::Resolve { id, actor } => said(
            cli,
            &act(*id, "resolve", json!({"by": actor.person})).await?,
            "resolved",
        ),
        PageCmd::Snooze {
            id,
            duration,
            actor,
        } => {
            let v = act(
                *id,
                "snooze",
                json!({"by": actor.person, "for": format!("{}s", duration.as_secs())}),
            )
            .await?;
            said(
                cli,
                &v,
                &format!(
                    "snoozed until {}",
                    v["snoozed_until"].as_str().unwrap_or("")
                ),
            );
        }
        PageCmd::Reassign { id, to, actor } => said(
            cli,
            &act(*id, "reassign", json!({"by": actor.person, "to": to})).await?,
            "reassigned",
        ),
        PageCmd::Note { id, text, actor } => {
            let v = act(*id, "notes", json!({"by": actor.person, "text": text})).await?;
            output::emit(cli.output, &v, || println!("note added to page {id}"));
        }
        PageCmd::Open { title, summary } => {
            let v = client
                .post("/api/pages", json!({"title": title, "summary": summary}))
                .await?;
            output::emit(cli.output, &v, || {
                let p = &v["page"];
                println!(
                    "page {} {} (assignee {})",
                    p["id"],
                    if v["created"] == true {
                        "opened"
                    } else {
                        "already open"
                    },
                    p["assignee"].as_str().unwrap_or("")
                );
            });
        }
    }
    Ok(())
}

pub async fn ticket(cli: &Cli, cmd: &TicketCmd) -> Result<()> {
    let client = LabClient::new(cli);
    let v = match cmd {
        TicketCmd::List { status } => {
            let v = client
                .get_query("/api/tickets", &[("status", status.clone())])
                .await?;
            output::emit(cli.output, &v, || {
                let rows: Vec<Vec<String>> = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        vec![
                            t["id"].to_string(),
                            t["status"].as_str().unwrap_or("").into(),
                            t["assignee"].as_str().unwrap_or("").into(),
                            t["created"]
                                .as_str()
                                .unwrap_or("")
                                .get(..19)
                                .unwrap_or("")
                                .into(),
                            t["title"].as_str().unwrap_or("").into(),
                        ]
                    })
                    .collect();
                output::table(&["ID", "STATUS", "ASSIGNEE", "OPENED", "TITLE"], &rows);
            });
            return Ok(());
        }
        TicketCmd::Assign { id, to, actor } => {
            client
                .post(
                    &format!("/api/tickets/{id}/assign"),
                    json!({"by": actor.person, "to": to}),
                )
                .await?
        }
        TicketCmd::Close { id, actor } => {
            client
                .post(
                    &format!("/api/tickets/{id}/close"),
                    json!({"by": actor.person}),
                )
                .await?
        }
    };
    output::emit(cli.output, &v, || {
        println!(
            "ticket {}: {} (assignee {})",
            v["id"],
            v["status"].as_str().unwrap_or(""),
            v["assignee"].as_str().unwrap_or("")
        )
    });
    Ok(())
}
