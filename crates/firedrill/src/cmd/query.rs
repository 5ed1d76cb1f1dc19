//! `firedrill query EXPR` (a table) and `--range 15m` (a chart), and
//! `firedrill targets`: PromQL over the lab's Prometheus-compatible API.

use anyhow::Result;
use serde_json::Value;

use crate::chart::{self, Line};
use crate::cli::{Cli, QueryArgs};
use crate::client::LabClient;
use crate::output;

/// `{a="b", c="d"}` with `__name__` in front, as Prometheus prints a series.
pub fn series_name(metric: &Value) -> String {
    let Some(obj) = metric.as_object() else {
        return "{}".into();
    };
    let name = obj.get("__name__").and_then(Value::as_str).unwrap_or("");
    let labels: Vec<String> = obj
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={}", v))
        .collect();
    if labels.is_empty() && !name.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", labels.join(", "))
    }
}

pub async fn run(cli: &Cli, args: &QueryArgs) -> Result<()> {
    let client = LabClient::new(cli);
    let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    if let Some(range) = args.range {
        let end = args.time.unwrap_or(now);
        let start = end - range.as_secs_f64();
        let step = args
            .step
            .map(|s| s.as_secs_f64())
            .unwrap_or_else(|| (range.as_secs_f64() / 120.0).max(1.0));
        let data = client
            .get_query(
                "/api/v1/query_range",
                &[
                    ("query", args.expr.clone()),
                    ("start", format!("{start:.3}")),
                    ("end", format!("{end:.3}")),
                    ("step", format!("{step}")),
                ],
            )
            .await?;
        output::emit(cli.output, &data, || {
            let lines: Vec<Line> = data["result"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .take(8)
                .map(|s| Line {
                    label: series_name(&s["metric"]),
                    points: s["values"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|p| Some((p[0].as_f64()?, p[1].as_str()?.parse().ok()?)))
                        .collect(),
                })
                .collect();
            print!("{}", chart::render(&lines, 72, 12));
            let n = data["result"].as_array().map_or(0, Vec::len);
            if n > 8 {
                println!(
                    "  … and {} more series (narrow the query, or use --output json)",
                    n - 8
                );
            }
        });
        return Ok(());
    }
    let mut q = vec![("query", args.expr.clone())];
    if let Some(t) = args.time {
        q.push(("time", format!("{t:.3}")));
    }
    let data = client.get_query("/api/v1/query", &q).await?;
    output::emit(cli.output, &data, || print_instant(&data));
    Ok(())
}

fn print_instant(data: &Value) {
    match data["resultType"].as_str() {
        Some("vector") => {
            let rows: Vec<Vec<String>> = data["result"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|s| {
                    vec![
                        series_name(&s["metric"]),
                        s["value"][1].as_str().unwrap_or("").to_string(),
                    ]
                })
                .collect();
            if rows.is_empty() {
                println!("(empty result)");
            } else {
                output::table(&["SERIES", "VALUE"], &rows);
            }
        }
        Some("scalar") | Some("string") => {
            println!("{}", data["result"][1].as_str().unwrap_or(""));
        }
        Some("matrix") => {
            for s in data["result"].as_array().cloned().unwrap_or_default() {
                let vals: Vec<String> = s["values"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|p| format!("{} @{}", p[1].as_str().unwrap_or(""), p[0]))
                    .collect();
                println!("{}\n  {}", series_name(&s["metric"]), vals.join("\n  "));
            }
        }
        _ => output::json(data),
    }
}

pub async fn targets(cli: &Cli) -> Result<()> {
    let data = LabClient::new(cli).get("/api/v1/targets").await?;
    output::emit(cli.output, &data, || {
        let rows: Vec<Vec<String>> = data["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|t| {
                vec![
                    t["labels"]["job"].as_str().unwrap_or("").to_string(),
                    t["labels"]["instance"].as_str().unwrap_or("").to_string(),
                    t["health"].as_str().unwrap_or("").to_string(),
                    t["lastScrapeDuration"]
                        .as_f64()
                        .map(|d| format!("{:.1}ms", d * 1000.0))
                        .unwrap_or_default(),
                    t["lastScrape"].as_str().unwrap_or("").to_string(),
                    t["lastError"].as_str().unwrap_or("").to_string(),
                ]
            })
            .collect();
        output::table(
            &[
                "JOB",
                "INSTANCE",
                "HEALTH",
                "DURATION",
                "LAST SCRAPE",
                "ERROR",
            ],
            &rows,
        );
    });
    Ok(())
}
