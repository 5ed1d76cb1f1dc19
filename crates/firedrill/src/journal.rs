//! The event journal inside `up`: the store's database (SQLite in the data
//! dir, or `--database-url`), the lab's events mirrored into it in order,
//! and `/api/events` (filters) plus `/api/events/stream` (server-sent events).

use std::convert::Infallible;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use store::{Db, Filter, Journal};

/// Opens the database and starts mirroring `events` into the journal.
pub async fn start(
    data_dir: &std::path::Path,
    url: Option<&str>,
    events: &lab::events::EventLog,
) -> Result<(Journal, tokio::task::JoinHandle<()>)> {
    let url = url
        .map(str::to_string)
        .unwrap_or_else(|| Db::sqlite_url(data_dir));
    let db = Db::open(&url).await.with_context(|| {
        format!(
            "opening the database {}",
            store::db::url_without_password(&url)
        )
    })?;
    let journal = Journal::new(db);
    let mut rx = events.subscribe();
    let j = journal.clone();
    let task = tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    let attrs = serde_json::to_value(&e.attributes).unwrap_or_default();
                    if let Err(err) = j.append(&e.kind, &e.source, &e.subject, attrs).await {
                        tracing::error!(error = %err, kind = %e.kind, "could not store an event in the journal");
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::error!(
                        missed = n,
                        "the journal fell behind the event log; events.jsonl has them all"
                    );
                }
                Err(_) => return,
            }
        }
    });
    Ok((journal, task))
}

#[derive(Debug, Deserialize)]
struct Params {
    since: Option<chrono::DateTime<chrono::Utc>>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    kind: Option<String>,
    subject: Option<String>,
    after_id: Option<i64>,
    limit: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewEvent {
    kind: String,
    subject: String,
    #[serde(default)]
    attributes: serde_json::Value,
}

/// `POST /api/events`: tools outside the control plane (experiments run
/// from the CLI) record what they do. Guarded by the lab token.
pub fn write_router(journal: Journal) -> Router {
    Router::new()
        .route(
            "/api/events",
            axum::routing::post(|State(j): State<Arc<Journal>>, axum::Json(e): axum::Json<NewEvent>| async move {
                let valid = e.kind.split('.').count() >= 2
                    && e.kind.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
                if !valid {
                    return (
                        axum::http::StatusCode::BAD_REQUEST,
                        axum::Json(json!({"status": "error", "error": format!("kind {:?} is not dotted lowercase (e.g. experiment.started)", e.kind)})),
                    );
                }
                match j.append(&e.kind, "cli", &e.subject, e.attributes).await {
                    Ok(ev) => (axum::http::StatusCode::OK, axum::Json(json!({"status": "success", "data": ev}))),
                    Err(err) => (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        axum::Json(json!({"status": "error", "error": err.to_string()})),
                    ),
                }
            }),
        )
        .with_state(Arc::new(journal))
}

pub fn router(journal: Journal) -> Router {
    let j = Arc::new(journal);
    Router::new()
        .route(
            "/api/events",
            get(
                |State(j): State<Arc<Journal>>, Query(p): Query<Params>| async move {
                    let f = Filter {
                        since: p.since,
                        until: p.until,
                        kind_prefix: p.kind,
                        subject: p.subject,
                        after_id: p.after_id,
                        limit: Some(p.limit.unwrap_or(1000).clamp(1, 100_000)),
                    };
                    match j.list(&f).await {
                        Ok(list) => axum::Json(json!({"status": "success", "data": list})),
                        Err(e) => axum::Json(json!({"status": "error", "error": e.to_string()})),
                    }
                },
            ),
        )
        .route(
            "/api/events/stream",
            get(
                |State(j): State<Arc<Journal>>, Query(p): Query<Params>| async move {
                    let rx = j.subscribe();
                    let kind = p.kind;
                    let stream = futures_util::stream::unfold(rx, move |mut rx| {
                        let kind = kind.clone();
                        async move {
                            loop {
                                match rx.recv().await {
                                    Ok(e)
                                        if kind
                                            .as_deref()
                                            .is_none_or(|k| e.kind.starts_with(k)) =>
                                    {
                                        let ev = SseEvent::default()
                                            .id(e.id.to_string())
                                            .event(e.kind.clone())
                                            .data(serde_json::to_string(&e).unwrap_or_default());
                                        return Some((Ok::<_, Infallible>(ev), rx));
                                    }
                                    Ok(_) => continue,
                                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                                        continue;
                                    }
                                    Err(_) => return None,
                                }
                            }
                        }
                    });
                    Sse::new(stream).keep_alive(KeepAlive::default())
                },
            ),
        )
        .with_state(j)
}

/// Records alert state changes (`alert.firing`, `alert.resolved`) by
/// watching the rule manager's active alerts every second.
pub fn record_alerts(
    rules: Arc<alerting::rules::RuleManager>,
    journal: Journal,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut firing: std::collections::BTreeMap<String, serde_json::Value> = Default::default();
        let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            every.tick().await;
            let now: std::collections::BTreeMap<String, serde_json::Value> =
                rules.alerts_json()["alerts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|a| a["state"] == "firing")
                    .map(|a| (a["labels"].to_string(), a.clone()))
                    .collect();
            for (key, a) in &now {
                if !firing.contains_key(key) {
                    let name = a["labels"]["alertname"].as_str().unwrap_or("");
                    let attrs = json!({"labels": a["labels"], "annotations": a["annotations"], "value": a["value"]});
                    if let Err(e) = journal.append("alert.firing", "rules", name, attrs).await {
                        tracing::error!(error = %e, "could not journal an alert");
                    }
                }
            }
            for (key, a) in &firing {
                if !now.contains_key(key) {
                    let name = a["labels"]["alertname"].as_str().unwrap_or("");
                    if let Err(e) = journal
                        .append(
                            "alert.resolved",
                            "rules",
                            name,
                            json!({"labels": a["labels"]}),
                        )
                        .await
                    {
                        tracing::error!(error = %e, "could not journal an alert");
                    }
                }
            }
            firing = now;
        }
    })
}
