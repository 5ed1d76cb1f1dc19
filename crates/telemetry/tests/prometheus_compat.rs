//! Our engine against a real Prometheus (Debian's package) on the same data:
//! the 50-query suite at timestamps away from sample times, and promtool
//! querying our API.

mod compat;

use std::process::Command;

use compat::{data, diff, instant, peer, queries::QUERIES, start_ours};

/// Data start: three hours ago, 3.7 s past a 10 s boundary, so that neither
/// evaluation times nor subquery steps (whole minutes) fall on sample times.
/// (At sample times the range boundaries differ between Prometheus 2, which
/// CI's Debian package is, and Prometheus 3: closed vs left-open.)
fn start_ms() -> i64 {
    let now = chrono::Utc::now().timestamp_millis();
    (now - 3 * 3600 * 1000) / data::STEP_MS * data::STEP_MS + 3_700
}

/// Evaluation times (s) inside the data, away from sample times, and late
/// enough that 1 h windows do not reach before the first sample (where
/// Prometheus 2 and 3 extrapolate a counter's start differently).
fn eval_times(start_ms: i64) -> Vec<f64> {
    [66 * 60 + 3, 75 * 60 + 1, 88 * 60 + 7, 110 * 60 + 4]
        .iter()
        .map(|off| start_ms as f64 / 1000.0 + *off as f64 + 0.37)
        .collect()
}

#[test]
fn fifty_queries_agree_with_prometheus() {
    let (Some(prom), Some(promtool)) = (peer::tool("prometheus"), peer::tool("promtool")) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let start = start_ms();
    let om = data::openmetrics(start);
    let theirs = peer::start(&prom, &promtool, dir.path(), &om);
    let ours = start_ours(&om);
    let client = reqwest::blocking::Client::new();
    assert!(
        QUERIES.len() >= 50,
        "the suite has {} queries",
        QUERIES.len()
    );
    let mut failures = Vec::new();
    for q in QUERIES {
        let mut answered = false;
        for t in eval_times(start) {
            let p = instant(&client, &theirs.url, q, t)
                .unwrap_or_else(|e| panic!("Prometheus failed {q}: {e}"));
            answered |= !p.1.is_empty();
            match instant(&client, &ours.url, q, t) {
                Ok(o) if o.0 != p.0 => failures.push(format!("{q} @{t}: type {} vs {}", o.0, p.0)),
                Ok(o) => {
                    if let Some(d) = diff(&o.1, &p.1, 1e-6) {
                        failures.push(format!("{q} @{t}: {d}"));
                    }
                }
                Err(e) => failures.push(format!("{q} @{t}: our error: {e}")),
            }
        }
        // A query empty at every time would test nothing.
        assert!(
            answered || q.starts_with("absent("),
            "Prometheus returned nothing for {q} at any time: fix the suite"
        );
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn promtool_queries_our_api() {
    let Some(promtool) = peer::tool("promtool") else {
        return;
    };
    let start = start_ms();
    let ours = start_ours(&data::openmetrics(start));
    let client = reqwest::blocking::Client::new();
    let t = eval_times(start)[1];
    let q = r#"sum by (job) (rate(http_server_request_duration_seconds_count[5m]))"#;
    let out = Command::new(&promtool)
        .args(["query", "instant", "-o", "json", "--time"])
        .arg(format!("{t:.3}"))
        .arg(&ours.url)
        .arg(q)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool query instant: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("promtool prints JSON");
    let (_, want) = instant(&client, &ours.url, q, t).expect("our query");
    let got_vec = got.as_array().expect("a vector");
    assert_eq!(got_vec.len(), want.len(), "{got}");
    for s in got_vec {
        let v: f64 = s["value"][1].as_str().unwrap().parse().unwrap();
        let key = s["metric"].to_string();
        assert!(
            compat::close(want[&key], v, 1e-12),
            "{key}: promtool {v}, engine {}",
            want[&key]
        );
    }

    let (from, to) = (t - 600.0, t);
    let out = Command::new(&promtool)
        .args(["query", "range", "-o", "json", "--step", "60s"])
        .arg(format!("--start={from:.3}"))
        .arg(format!("--end={to:.3}"))
        .arg(&ours.url)
        .arg(q)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool query range: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("promtool prints JSON");
    let series = got.as_array().expect("a matrix");
    assert_eq!(series.len(), 4, "{got}");
    for s in series {
        let points = s["values"].as_array().unwrap();
        assert_eq!(points.len(), 11, "{s}");
        // Each point equals an instant query at its time.
        for p in points {
            let at = p[0].as_f64().unwrap();
            let (_, inst) = instant(&client, &ours.url, q, at).unwrap();
            let v: f64 = p[1].as_str().unwrap().parse().unwrap();
            assert!(compat::close(inst[&s["metric"].to_string()], v, 1e-9));
        }
    }
}
