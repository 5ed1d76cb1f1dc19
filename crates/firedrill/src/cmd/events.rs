//! `firedrill events [--kind K] [--follow]`.

use std::time::Duration;

use anyhow::Result;
use serde_json::Value;

use crate::cli::{Cli, Output};
use crate::client::LabClient;
use crate::output;

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
    format!(
        "{}  {:<20} {:<16} {:<10} {attrs}",
        e["time"].as_str().unwrap_or(""),
        e["kind"].as_str().unwrap_or(""),
        e["subject"].as_str().unwrap_or(""),
        e["source"].as_str().unwrap_or(""),
    )
}

pub async fn run(cli: &Cli, kind: Option<&str>, follow: bool, limit: usize) -> Result<()> {
    let client = LabClient::new(cli);
    let mut query = vec![("limit", limit.to_string())];
    if let Some(k) = kind {
        query.push(("kind", k.to_string()));
    }
    let list = client.get_query("/api/lab/events", &query).await?;
    let events = list.as_array().cloned().unwrap_or_default();
    let mut last_id = 0;
    let show = |e: &Value| match cli.output {
        Output::Json => println!("{e}"),
        Output::Text => println!("{}", line(e)),
    };
    if !follow && cli.output == Output::Json {
        output::json(&list);
        return Ok(());
    }
    for e in &events {
        last_id = last_id.max(e["id"].as_u64().unwrap_or(0));
        show(e);
    }
    if !follow {
        return Ok(());
    }
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut q = query.clone();
        q[0].1 = "1000".into();
        let Ok(list) = client.get_query("/api/lab/events", &q).await else {
            eprintln!("lost the lab; stopping");
            return Ok(());
        };
        for e in list.as_array().cloned().unwrap_or_default() {
            let id = e["id"].as_u64().unwrap_or(0);
            if id > last_id {
                last_id = id;
                show(&e);
            }
        }
    }
}
