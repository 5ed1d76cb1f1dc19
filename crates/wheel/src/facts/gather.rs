//! Gathers [`Facts`] from the control plane's own read APIs over loopback,
//! with the lab's instructor token, through `wire`'s one client: what a
//! player could find with the CLI, read at the moment of the spin.

use std::path::Path;

use serde_json::Value;
use wire::Client;

use super::*;
use crate::WheelError;

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn secs(v: &Value) -> f64 {
    v["secs"].as_f64().unwrap_or(0.0) + v["nanos"].as_f64().unwrap_or(0.0) / 1e9
}

async fn get(c: &Client, path: &str, query: &[(&str, String)]) -> Result<Value, WheelError> {
    c.get::<Value>(path, query)
        .await
        .map_err(|e| WheelError::Facts(format!("{path}: {e}")))
}

/// An instant query's samples, keyed by `job` and `key_label`.
async fn query(c: &Client, expr: &str, key_label: &str) -> Vec<Sample> {
    let data = match get(c, "/api/v1/query", &[("query", expr.to_string())]).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "wheel: a fact's query failed; its questions are left out");
            return Vec::new();
        }
    };
    let mut out: Vec<Sample> = data["result"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            let value: f64 = r["value"][1].as_str()?.parse().ok()?;
            value.is_finite().then(|| Sample {
                job: s(&r["metric"]["job"]),
                key: if key_label.is_empty() {
                    String::new()
                } else {
                    s(&r["metric"][key_label])
                },
                value,
            })
        })
        .collect();
    // The engine's order is not part of the truth: sort for determinism.
    out.sort_by(|a, b| (&a.job, &a.key).cmp(&(&b.job, &b.key)));
    out
}

/// The lab's truth now. `data_dir` is the lab's (for log paths and a
/// recent trace id from the entry service's request log).
pub async fn gather(c: &Client, data_dir: &Path) -> Result<Facts, WheelError> {
    let topo = get(c, "/api/lab/topology", &[]).await?;
    let svcs = get(c, "/api/lab/services", &[]).await?;
    let mut f = Facts {
        lab: s(&topo["name"]),
        entry: s(&topo["entry"]),
        logs_dir: data_dir.join("logs").display().to_string(),
        ..Facts::default()
    };
    for t in topo["services"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let name = s(&t["name"]);
        let live = svcs["services"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == t["name"]));
        let endpoints = t["endpoints"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|e| Endpoint {
                method: s(&e["method"]),
                // The topology's `route` (`/product/{id}`).
                path: s(if e["route"].is_string() {
                    &e["route"]
                } else {
                    &e["path"]
                }),
                calls: e["calls"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|c| Call {
                        service: s(&c["service"]),
                        method: s(&c["method"]),
                        path: s(&c["path"]),
                        critical: c["critical"].as_bool().unwrap_or(true),
                        fallback: !c["fallback"].is_null(),
                        timeout_ms: (secs(&c["timeout"]) * 1000.0).round(),
                        retries: c["retries"].as_u64().unwrap_or(0) as u32,
                    })
                    .collect(),
            })
            .collect();
        let mut versions: Vec<String> = live
            .and_then(|l| l["versions"].as_array())
            .map(|a| a.iter().map(s).collect())
            .unwrap_or_default();
        versions.sort();
        let instances = live
            .and_then(|l| l["instances"].as_array())
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|i| Instance {
                index: i["index"].as_u64().unwrap_or(0) as u32,
                addr: s(&i["addr"]),
                version: s(&i["version"]),
                pid: i["pid"].as_i64(),
            })
            .collect();
        f.services.push(Service {
            version: live
                .map(|l| s(&l["version"]))
                .unwrap_or_else(|| s(&t["version"])),
            name,
            versions,
            instances,
            endpoints,
        });
    }
    for j in topo["journeys"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        f.journeys.push(Journey {
            name: s(&j["name"]),
            steps: j["steps"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|st| (s(&st["method"]), s(&st["path"])))
                .collect(),
        });
    }

    let who = get(c, "/api/oncall/who", &[]).await?;
    for o in who["on_call"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        f.on_call.push(OnCall {
            schedule: s(&o["schedule"]),
            role: s(&o["role"]),
            person: o["now"]["person"].as_str().map(str::to_string),
            next: o["next"]["person"].as_str().map(str::to_string),
            shadows: o["shadows"]
                .as_array()
                .map(|a| a.iter().map(s).collect())
                .unwrap_or_default(),
        });
    }
    let people = get(c, "/api/oncall/people", &[]).await?;
    for p in people["people"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        f.people.push(Person {
            handle: s(&p["handle"]),
            apprentice_of: p["apprentice_of"]
                .as_array()
                .map(|a| a.iter().map(s).collect())
                .unwrap_or_default(),
        });
    }
    let pages = get(c, "/api/pages", &[("status", "all".into())]).await?;
    let mut pages: Vec<Page> = pages
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|p| Page {
            id: p["id"].as_i64().unwrap_or(0),
            title: s(&p["title"]),
            status: s(&p["status"]),
            assignee: s(&p["assignee"]),
            acknowledged_by: p["acknowledged_by"].as_str().map(str::to_string),
        })
        .collect();
    pages.sort_by_key(|p| std::cmp::Reverse(p.id));
    f.pages = pages;

    let rules = get(c, "/api/v1/rules", &[]).await?;
    for g in rules["groups"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        for r in g["rules"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let slo = r["labels"]["sloth_id"].as_str().map(str::to_string);
            if r["type"] == "alerting" {
                let name = s(&r["name"]);
                if r["state"] == "firing" && !f.firing.contains(&name) {
                    f.firing.push(name.clone());
                }
                f.alert_rules.push(AlertRule {
                    name,
                    severity: s(&r["labels"]["severity"]),
                    query: s(&r["query"]),
                    slo,
                });
            } else if let Some(id) = slo
                && let Some(j) = journey_of(r["query"].as_str().unwrap_or_default())
                && !f.metrics.slo_journeys.iter().any(|(x, _)| *x == id)
            {
                f.metrics.slo_journeys.push((id, j));
            }
        }
    }
    f.firing.sort();

    f.metrics.route_p99 = query(c, queries::ROUTE_P99, "http_route").await;
    f.metrics.instance_p99 = query(c, queries::INSTANCE_P99, "instance").await;
    f.metrics.route_errors = query(c, queries::ROUTE_ERRORS, "http_route").await;
    f.metrics.service_rps = query(c, queries::SERVICE_RPS, "").await;
    f.metrics.instance_rps = query(c, queries::INSTANCE_RPS, "instance").await;
    f.metrics.instance_memory = query(c, queries::INSTANCE_MEMORY, "instance").await;

    f.trace = recent_trace(c, data_dir, &f.entry).await;
    Ok(f)
}

/// `journey="checkout"` in an SLO's recording rule.
fn journey_of(query: &str) -> Option<String> {
    let at = query.find("journey=\"")? + "journey=\"".len();
    let rest = &query[at..];
    Some(rest[..rest.find('"')?].to_string())
}

/// The trace of a recent request to the entry service: its id from the
/// first instance's request log, its spans from `/api/lab/traces/{id}`.
async fn recent_trace(c: &Client, data_dir: &Path, entry: &str) -> Option<Trace> {
    let log = data_dir.join("logs").join(format!("{entry}-0.jsonl"));
    let text = tokio::fs::read(&log).await.ok()?;
    let tail = &text[text.len().saturating_sub(64 * 1024)..];
    let tail = String::from_utf8_lossy(tail);
    for line in tail.lines().rev().take(50) {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(id) = v["trace_id"].as_str() else {
            continue;
        };
        let Ok(t) = get(c, &format!("/api/lab/traces/{id}"), &[]).await else {
            continue;
        };
        let spans: Vec<Span> = t["spans"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|sp| Span {
                service: s(&sp["service"]),
                instance: s(&sp["instance"]),
                kind: s(&sp["kind"]),
                name: s(&sp["name"]),
                duration_ms: sp["duration_ms"].as_f64().unwrap_or(0.0),
            })
            .collect();
        if spans.iter().any(|sp| sp.kind == "client") {
            return Some(Trace {
                id: id.to_string(),
                spans,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn journey_from_a_recording_rule() {
        assert_eq!(
            super::journey_of(
                "sum(rate(loadgen_journeys_total{journey=\"checkout\",outcome=\"failure\"}[5m]))"
            ),
            Some("checkout".into())
        );
        assert_eq!(super::journey_of("up == 0"), None);
    }
}
