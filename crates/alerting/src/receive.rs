//! `POST /api/v2/alerts`: alerts from a real Prometheus (or anyone speaking
//! Alertmanager's API v2) enter our routing here.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::rules::{AlertSink, OutgoingAlert};

/// Alertmanager's `postableAlert`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Postable {
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    ends_at: Option<DateTime<Utc>>,
    #[serde(default, rename = "generatorURL")]
    generator_url: String,
}

/// Checks and converts posted alerts; the error says which and why.
/// Alerts without an end time end `resolve_timeout` after they were received.
fn convert(
    list: Vec<Postable>,
    now: DateTime<Utc>,
    resolve_timeout: chrono::Duration,
) -> Result<Vec<OutgoingAlert>, String> {
    let mut out = Vec::with_capacity(list.len());
    for (i, a) in list.into_iter().enumerate() {
        if a.labels.is_empty() {
            return Err(format!("alert {i}: at least one label pair required"));
        }
        for k in a.labels.keys() {
            let ok = !k.is_empty()
                && k.chars().enumerate().all(|(j, c)| {
                    c == '_' || c.is_ascii_alphabetic() || (j > 0 && c.is_ascii_digit())
                });
            if !ok {
                return Err(format!("alert {i}: invalid label name {k:?}"));
            }
        }
        let starts_at = a.starts_at.unwrap_or(now);
        let ends_at = a.ends_at.unwrap_or(now + resolve_timeout);
        if ends_at < starts_at {
            return Err(format!("alert {i}: end time must not be before start time"));
        }
        out.push(OutgoingAlert {
            labels: a.labels,
            annotations: a.annotations,
            starts_at,
            ends_at,
            generator_url: a.generator_url,
        });
    }
    Ok(out)
}

/// The route, handing accepted alerts to `sink` (Alertmanager's default
/// `resolve_timeout`, 5m).
pub fn router(sink: Arc<dyn AlertSink>) -> axum::Router {
    router_with_timeout(sink, std::time::Duration::from_secs(300))
}

/// The route with the config's `global.resolve_timeout`.
pub fn router_with_timeout(
    sink: Arc<dyn AlertSink>,
    resolve_timeout: std::time::Duration,
) -> axum::Router {
    let timeout =
        chrono::Duration::from_std(resolve_timeout).unwrap_or(chrono::Duration::minutes(5));
    axum::Router::new()
        .route(
            "/api/v2/alerts",
            post(
                move |State(sink): State<Arc<dyn AlertSink>>, body: axum::body::Bytes| async move {
                    let list: Vec<Postable> =
                        match serde_json::from_slice(&body) {
                            Ok(l) => l,
                            Err(e) => return (
                                StatusCode::BAD_REQUEST,
                                Json(
                                    json!({"code": 400, "message": format!("invalid alerts: {e}")}),
                                ),
                            )
                                .into_response(),
                        };
                    match convert(list, Utc::now(), timeout) {
                        Ok(alerts) => {
                            sink.send(alerts);
                            StatusCode::OK.into_response()
                        }
                        Err(e) => (
                            StatusCode::BAD_REQUEST,
                            Json(json!({"code": 400, "message": e})),
                        )
                            .into_response(),
                    }
                },
            ),
        )
        .with_state(sink)
}

/// Keeps the latest state of every alert received (by label set), for
/// inspection until the router takes them.
#[derive(Default)]
pub struct Received {
    pub alerts: std::sync::Mutex<BTreeMap<Vec<(String, String)>, OutgoingAlert>>,
}

impl AlertSink for Received {
    fn send(&self, alerts: Vec<OutgoingAlert>) {
        let mut m = self.alerts.lock().unwrap_or_else(|e| e.into_inner());
        for a in alerts {
            let key: Vec<(String, String)> = a
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            m.insert(key, a);
        }
    }
}
