//! `firedrill events [--kind K] [--subject S] [--since D] [--follow]`: the
//! event journal, read over `/api/events`; following resumes by event id so
//! nothing is skipped or shown twice.

use std::time::Duration;

use anyhow::Result;
use serde_json::Value;

use crate::cli::{Cli, Output};
use crate::client::LabClient;
use crate::output;

/// Which events to show.
pub struct Selection {
    pub kind: Option<String>,
    pub subject: Option<String>,
    pub since: Option<Duration>,
    /// Leave out hidden kinds (a drill runs and the answer stays hidden).
    pub hide: bool,
}

fn line(e: &Value) -> String {
    let attrs = e["attributes"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}={s}"),
                    other => format!("{k}={other}"),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let time = e["time"].as_str().unwrap_or("");
    format!(
        "{:<24} {:<22} {:<16} {:<10} {attrs}",
        time.get(..23).unwrap_or(time),
        e["kind"].as_str().unwrap_or(""),
        e["subject"].as_str().unwrap_or(""),
        e["source"].as_str().unwrap_or(""),
    )
}

fn query(sel: &Selection, limit: usize, after_id: Option<i64>) -> Vec<(&'static str, String)> {
    let mut q = vec![("limit", limit.to_string())];
    if let Some(k) = &sel.kind {
        q.push(("kind", k.clone()));
    }
    if let Some(s) = &sel.subject {
        q.push(("subject", s.clone()));
    }
    if let Some(d) = sel.since {
        let since = chrono::Utc::now() - chrono::Duration::from_std(d).unwrap_or_default();
        q.push(("since", since.to_rfc3339()));
    }
    if let Some(a) = after_id {
        q.push(("after_id", a.to_string()));
    }
    if sel.hide {
        q.push(("hidden", "false".to_string()));
    }
    q
}

pub async fn run(cli: &Cli, sel: &Selection, follow: bool, limit: usize) -> Result<()> {
    let client = LabClient::new(cli);
    let list = client
        .get_query("/api/events", &query(sel, limit, None))
        .await?;
    if !follow && cli.output == Output::Json {
        output::json(&list);
        return Ok(());
    }
    let show = |e: &Value| match cli.output {
        Output::Json => println!("{e}"),
        Output::Text => println!("{}", line(e)),
    };
    let mut last_id = 0;
    for e in list.as_array().into_iter().flatten() {
        last_id = last_id.max(e["id"].as_i64().unwrap_or(0));
        show(e);
    }
    if !follow {
        return Ok(());
    }
    let sel = Selection {
        since: None,
        kind: sel.kind.clone(),
        subject: sel.subject.clone(),
        hide: sel.hide,
    };
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let Ok(list) = client
            .get_query("/api/events", &query(&sel, 10_000, Some(last_id)))
            .await
        else {
            eprintln!("lost the lab; stopping");
            return Ok(());
        };
        for e in list.as_array().into_iter().flatten() {
            last_id = last_id.max(e["id"].as_i64().unwrap_or(0));
            show(e);
        }
    }
}
