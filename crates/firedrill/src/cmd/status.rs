//! `firedrill status`: one row per service, from the supervisor's view and
//! the lab's own metrics (PromQL over the last minute).

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::json;

use crate::cli::Cli;
use crate::client::LabClient;
use crate::output::{self, paint};

const RATE: &str = "sum by (job) (rate(http_server_request_duration_seconds_count[1m]))";
const ERRORS: &str = "sum by (job) (rate(http_server_request_duration_seconds_count{http_response_status_code=~\"5..\"}[1m])) / sum by (job) (rate(http_server_request_duration_seconds_count[1m]))";

fn quantile(q: f64) -> String {
    format!(
        "histogram_quantile({q}, sum by (job, le) (rate(http_server_request_duration_seconds_bucket[1m])))"
    )
}

/// `job -> value` from an instant vector; empty when the query fails.
async fn by_job(client: &LabClient, expr: &str) -> BTreeMap<String, f64> {
    let Ok(result) = client.query(expr).await else {
        return BTreeMap::new();
    };
    result
        .iter()
        .filter_map(|s| {
            let job = s.pointer("/metric/job")?.as_str()?.to_string();
            let v: f64 = s.pointer("/value/1")?.as_str()?.parse().ok()?;
            Some((job, v))
        })
        .collect()
}

fn fmt_opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    match v {
        Some(x) if x.is_finite() => f(x),
        _ => "-".into(),
    }
}

pub async fn run(cli: &Cli) -> Result<()> {
    let client = LabClient::new(cli);
    let data = client.get("/api/lab/services").await?;
    let (q50, q99) = (quantile(0.5), quantile(0.99));
    let (rate, errors, p50, p99) = tokio::join!(
        by_job(&client, RATE),
        by_job(&client, ERRORS),
        by_job(&client, &q50),
        by_job(&client, &q99),
    );
    let mut rows = Vec::new();
    let mut out = Vec::new();
    for s in data["services"].as_array().cloned().unwrap_or_default() {
        let name = s["name"].as_str().unwrap_or("").to_string();
        let instances = s["instances"].as_array().cloned().unwrap_or_default();
        let up = instances
            .iter()
            .filter(|i| i["state"] == "running" && i["draining"] == false)
            .count();
        let restarts: u64 = instances
            .iter()
            .filter_map(|i| i["restarts"].as_u64())
            .sum();
        let draining = instances.iter().filter(|i| i["draining"] == true).count();
        let mut health = format!("{up}/{} up", instances.len());
        if draining > 0 {
            health.push_str(&format!(", {draining} drained"));
        }
        if restarts > 0 {
            health.push_str(&format!(", {restarts} restarts"));
        }
        let health = if up == instances.len() {
            paint(&health, "32")
        } else {
            paint(&health, "31")
        };
        let (r, e, a, b) = (
            rate.get(&name).copied(),
            errors.get(&name).copied(),
            p50.get(&name).copied(),
            p99.get(&name).copied(),
        );
        rows.push(vec![
            name.clone(),
            instances.len().to_string(),
            health,
            s["version"].as_str().unwrap_or("").to_string(),
            fmt_opt(r, |x| format!("{x:.1}")),
            fmt_opt(e, |x| format!("{:.2}%", x * 100.0)),
            fmt_opt(a, |x| format!("{:.0}ms", x * 1000.0)),
            fmt_opt(b, |x| format!("{:.0}ms", x * 1000.0)),
        ]);
        out.push(json!({
            "service": name,
            "version": s["version"],
            "instances": instances,
            "up": up,
            "requests_per_second": r,
            "error_ratio": e,
            "p50_seconds": a,
            "p99_seconds": b,
        }));
    }
    let v = json!({ "lab": data["lab"], "services": out });
    output::emit(cli.output, &v, || {
        println!("lab {}", data["lab"].as_str().unwrap_or("?"));
        output::table(
            &[
                "SERVICE", "INST", "HEALTH", "VERSION", "REQ/S", "ERR%", "P50", "P99",
            ],
            &rows,
        );
        if rate.is_empty() {
            println!("(no request metrics yet: they appear after the first scrapes)");
        }
    });
    Ok(())
}
