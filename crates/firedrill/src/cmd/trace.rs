//! `firedrill trace ID`: a trace's spans as an indented tree.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::Value;

use crate::cli::Cli;
use crate::client::LabClient;
use crate::output;

pub async fn run(cli: &Cli, id: &str) -> Result<()> {
    let data = LabClient::new(cli)
        .get(&format!("/api/lab/traces/{id}"))
        .await?;
    output::emit(cli.output, &data, || {
        let spans = data["spans"].as_array().cloned().unwrap_or_default();
        print!("{}", render(&spans));
    });
    Ok(())
}

/// Renders spans as a tree by parent id.
pub fn render(spans: &[Value]) -> String {
    let mut children: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    let ids: std::collections::HashSet<&str> =
        spans.iter().filter_map(|s| s["span_id"].as_str()).collect();
    for s in spans {
        let parent = s["parent_span_id"].as_str().unwrap_or("");
        let key = if ids.contains(parent) { parent } else { "" };
        children.entry(key.to_string()).or_default().push(s);
    }
    let mut out = String::new();
    fn walk(out: &mut String, children: &BTreeMap<String, Vec<&Value>>, key: &str, depth: usize) {
        for s in children.get(key).map(Vec::as_slice).unwrap_or_default() {
            out.push_str(&format!(
                "{}{} {} {} {}ms status={}\n",
                "  ".repeat(depth),
                s["service"].as_str().unwrap_or("?"),
                s["instance"].as_str().unwrap_or(""),
                s["name"].as_str().unwrap_or(""),
                s["duration_ms"]
                    .as_f64()
                    .map(|d| format!("{d:.1}"))
                    .unwrap_or_else(|| s["duration_ms"].to_string()),
                s["status"],
            ));
            if let Some(id) = s["span_id"].as_str() {
                walk(out, children, id, depth + 1);
            }
        }
    }
    walk(&mut out, &children, "", 0);
    out
}
