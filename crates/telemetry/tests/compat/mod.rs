//! Shared by the Prometheus comparison test and benchmark: the data, the
//! query suite, the real peer, our API on loopback, and result comparison.
#![allow(dead_code)]

pub mod data;
pub mod peer;
pub mod queries;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use telemetry::api::PromApi;
use telemetry::promql::Engine;
use telemetry::tsdb::{Tsdb, TsdbOptions};

/// Our store with `openmetrics` imported, behind our API on a loopback port.
pub struct Ours {
    pub url: String,
    pub tsdb: Arc<Tsdb>,
    _rt: tokio::runtime::Runtime,
}

pub fn start_ours(openmetrics: &str) -> Ours {
    let tsdb = Arc::new(Tsdb::in_memory(TsdbOptions {
        background: false,
        ..TsdbOptions::default()
    }));
    let stats = telemetry::tsdb::import(&tsdb, openmetrics).expect("import");
    assert!(stats.appended > 0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let api = PromApi {
        storage: tsdb.clone(),
        engine: Engine::default(),
        targets: Arc::new(Vec::new),
        metadata: Arc::new(BTreeMap::new),
        tsdb_status: None,
        version: "test".into(),
        stopping: None,
    };
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    rt.spawn(async move { axum::serve(listener, api.router()).await });
    Ours {
        url: format!("http://{addr}"),
        tsdb,
        _rt: rt,
    }
}

/// `/api/v1/query` at `t` (seconds) → (resultType, labels → value).
pub fn instant(
    client: &reqwest::blocking::Client,
    base: &str,
    q: &str,
    t: f64,
) -> Result<(String, BTreeMap<String, f64>), String> {
    let resp: Value = client
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", q), ("time", &format!("{t:.3}"))])
        .send()
        .map_err(|e| e.to_string())?
        .json()
        .map_err(|e| e.to_string())?;
    if resp["status"] != "success" {
        return Err(resp["error"].as_str().unwrap_or("error").to_string());
    }
    let kind = resp["data"]["resultType"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let mut out = BTreeMap::new();
    let parse = |v: &Value| {
        v.as_str().and_then(|s| match s {
            "+Inf" => Some(f64::INFINITY),
            "-Inf" => Some(f64::NEG_INFINITY),
            "NaN" => Some(f64::NAN),
            s => s.parse().ok(),
        })
    };
    match kind.as_str() {
        "scalar" => {
            out.insert(
                "{}".into(),
                parse(&resp["data"]["result"][1]).unwrap_or(f64::NAN),
            );
        }
        _ => {
            for s in resp["data"]["result"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                out.insert(
                    s["metric"].to_string(),
                    parse(&s["value"][1]).unwrap_or(f64::NAN),
                );
            }
        }
    }
    Ok((kind, out))
}

/// Equal within relative tolerance `tol` (NaN equals NaN).
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * a.abs().max(b.abs())
}

/// A difference between two results, or None when they agree.
pub fn diff(
    ours: &BTreeMap<String, f64>,
    theirs: &BTreeMap<String, f64>,
    tol: f64,
) -> Option<String> {
    if ours.len() != theirs.len() {
        return Some(format!(
            "{} series vs Prometheus's {}: ours {ours:?}, theirs {theirs:?}",
            ours.len(),
            theirs.len()
        ));
    }
    for (k, v) in theirs {
        match ours.get(k) {
            None => return Some(format!("missing series {k}")),
            Some(o) if !close(*o, *v, tol) => {
                return Some(format!("{k}: ours {o}, Prometheus {v}"));
            }
            _ => {}
        }
    }
    None
}
