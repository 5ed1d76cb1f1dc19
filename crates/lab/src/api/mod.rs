//! The control plane's lab endpoints (`/api/lab/*`): registry for instances,
//! status, operations, load control, events and traces.

pub mod auth;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Notify;

use crate::loadgen::{DailyPattern, LoadGen};
use crate::supervisor::{Supervisor, SupervisorError};

/// What the lab endpoints work on.
#[derive(Clone)]
pub struct LabApi {
    pub supervisor: Arc<Supervisor>,
    pub loadgen: Arc<LoadGen>,
    pub token: String,
    /// Notified by `POST /api/lab/shutdown` (`firedrill down`).
    pub shutdown: Arc<Notify>,
    pub http: reqwest::Client,
}

/// An error answer: status and a reason, as `{"status":"error","error":...}`.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"status": "error", "error": self.1}))).into_response()
    }
}

impl From<SupervisorError> for ApiError {
    fn from(e: SupervisorError) -> Self {
        let status = match e {
            SupervisorError::UnknownService(_)
            | SupervisorError::UnknownInstance { .. }
            | SupervisorError::UnknownVersion { .. }
            | SupervisorError::BadScale(_)
            | SupervisorError::NothingToRollBack(_) => StatusCode::BAD_REQUEST,
            SupervisorError::Admin { .. } => StatusCode::BAD_REQUEST,
            SupervisorError::PortInUse { .. } | SupervisorError::NoPorts => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

type ApiResult = Result<Json<serde_json::Value>, ApiError>;

fn ok(data: serde_json::Value) -> ApiResult {
    Ok(Json(json!({"status": "success", "data": data})))
}

impl LabApi {
    pub fn router(self) -> Router {
        Router::new()
            .route("/api/lab/registry", get(registry))
            .route("/api/lab/services", get(services))
            .route("/api/lab/topology", get(topology))
            .route("/api/lab/events", get(events))
            .route("/api/lab/traces/{id}", get(trace))
            .route("/api/lab/load", get(load_get).post(load_set))
            .route("/api/lab/restart", post(restart))
            .route("/api/lab/scale", post(scale))
            .route("/api/lab/drain", post(drain))
            .route("/api/lab/config", post(config_set))
            .route("/api/lab/deploy", post(deploy))
            .route("/api/lab/rollback", post(rollback))
            .route("/api/lab/shutdown", post(shutdown))
            .with_state(self)
    }
}

async fn registry(State(api): State<LabApi>) -> Json<serde_json::Value> {
    Json(json!({ "services": api.supervisor.registry() }))
}

async fn services(State(api): State<LabApi>) -> ApiResult {
    ok(json!({
        "lab": api.supervisor.topology().name,
        "entry": api.supervisor.topology().entry,
        "services": api.supervisor.status(),
    }))
}

async fn topology(State(api): State<LabApi>) -> ApiResult {
    ok(serde_json::to_value(api.supervisor.topology()).unwrap_or_default())
}

#[derive(Deserialize)]
struct EventsQuery {
    kind: Option<String>,
    limit: Option<usize>,
}

async fn events(State(api): State<LabApi>, Query(q): Query<EventsQuery>) -> ApiResult {
    let mut all = api.supervisor.events().list(q.kind.as_deref());
    if let Some(limit) = q.limit
        && all.len() > limit
    {
        all.drain(..all.len() - limit);
    }
    ok(serde_json::to_value(all).unwrap_or_default())
}

/// Assembles a trace by asking every instance for its spans of it.
async fn trace(State(api): State<LabApi>, Path(id): Path<String>) -> ApiResult {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("trace id {id:?} is not 32 hex digits"),
        ));
    }
    let asks = api.supervisor.instances().into_iter().map(|i| {
        let url = format!("http://{}/traces/{id}", i.addr);
        let http = api.http.clone();
        async move {
            let r = http.get(url).send().await.ok()?;
            if !r.status().is_success() {
                return None;
            }
            r.json::<serde_json::Value>().await.ok()
        }
    });
    let mut spans: Vec<serde_json::Value> = futures_util::future::join_all(asks)
        .await
        .into_iter()
        .flatten()
        .flat_map(|v| match v {
            serde_json::Value::Array(a) => a,
            serde_json::Value::Object(mut o) => match o.remove("spans") {
                Some(serde_json::Value::Array(a)) => a,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        })
        .collect();
    if spans.is_empty() {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no instance has spans of trace {id} (they keep the most recent spans only)"),
        ));
    }
    spans.sort_by(|a, b| {
        let k = |v: &serde_json::Value| v.get("start").map(|s| s.to_string()).unwrap_or_default();
        k(a).cmp(&k(b))
    });
    ok(json!({"trace_id": id, "spans": spans}))
}

async fn load_get(State(api): State<LabApi>) -> ApiResult {
    ok(serde_json::to_value(api.loadgen.status()).unwrap_or_default())
}

#[derive(Deserialize)]
struct LoadSet {
    rps: Option<f64>,
    /// `"daily"` to turn the daily pattern on, `"flat"` to turn it off.
    pattern: Option<String>,
    /// Length of a day for the pattern, seconds.
    day_seconds: Option<f64>,
}

async fn load_set(
    State(api): State<LabApi>,
    headers: HeaderMap,
    Json(req): Json<LoadSet>,
) -> ApiResult {
    auth::check(&headers, &api.token)?;
    if let Some(rps) = req.rps {
        if !(0.0..=100_000.0).contains(&rps) || !rps.is_finite() {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                format!("rps {rps} is out of range (0..=100000)"),
            ));
        }
        api.loadgen.set_rps(rps);
    }
    match req.pattern.as_deref() {
        None => {}
        Some("flat") => api.loadgen.set_pattern(None),
        Some("daily") => {
            let mut p = DailyPattern::default();
            if let Some(s) = req.day_seconds {
                p.period = std::time::Duration::try_from_secs_f64(s)
                    .ok()
                    .filter(|d| d.as_secs() >= 60)
                    .ok_or_else(|| {
                        ApiError(
                            StatusCode::BAD_REQUEST,
                            format!("day_seconds {s} must be at least 60"),
                        )
                    })?;
            }
            api.loadgen.set_pattern(Some(p));
        }
        Some(other) => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                format!("unknown pattern {other:?}: use \"daily\" or \"flat\""),
            ));
        }
    }
    let status = api.loadgen.status();
    api.supervisor.events().record(
        "load.changed",
        "api",
        "loadgen",
        [
            ("rps", status.rps.into()),
            ("pattern", status.pattern.is_some().into()),
        ],
    );
    ok(serde_json::to_value(status).unwrap_or_default())
}

#[derive(Deserialize)]
struct Target {
    service: String,
    index: Option<u32>,
}

async fn restart(
    State(api): State<LabApi>,
    headers: HeaderMap,
    Json(t): Json<Target>,
) -> ApiResult {
    auth::check(&headers, &api.token)?;
    api.supervisor.restart(&t.service, t.index).await?;
    ok(json!({"restarted": t.service, "index": t.index}))
}

#[derive(Deserialize)]
struct Scale {
    service: String,
    instances: u32,
}

async fn scale(State(api): State<LabApi>, headers: HeaderMap, Json(s): Json<Scale>) -> ApiResult {
    auth::check(&headers, &api.token)?;
    api.supervisor.scale(&s.service, s.instances, "api").await?;
    ok(json!({"service": s.service, "instances": s.instances}))
}

#[derive(Deserialize)]
struct Drain {
    service: String,
    index: u32,
    #[serde(default = "yes")]
    on: bool,
}

fn yes() -> bool {
    true
}

async fn drain(State(api): State<LabApi>, headers: HeaderMap, Json(d): Json<Drain>) -> ApiResult {
    auth::check(&headers, &api.token)?;
    api.supervisor
        .drain(&d.service, d.index, d.on, "api")
        .await?;
    ok(json!({"service": d.service, "index": d.index, "draining": d.on}))
}

#[derive(Deserialize)]
struct ConfigSet {
    service: String,
    set: BTreeMap<String, String>,
}

async fn config_set(
    State(api): State<LabApi>,
    headers: HeaderMap,
    Json(c): Json<ConfigSet>,
) -> ApiResult {
    auth::check(&headers, &api.token)?;
    if c.set.is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "nothing to set: give key=value pairs".into(),
        ));
    }
    let config = api.supervisor.config_set(&c.service, c.set, "api").await?;
    ok(json!({"service": c.service, "config": config}))
}

#[derive(Deserialize)]
struct Deploy {
    service: String,
    version: String,
}

async fn deploy(State(api): State<LabApi>, headers: HeaderMap, Json(d): Json<Deploy>) -> ApiResult {
    auth::check(&headers, &api.token)?;
    api.supervisor.deploy(&d.service, &d.version, "api").await?;
    ok(json!({"service": d.service, "version": d.version}))
}

#[derive(Deserialize)]
struct Rollback {
    service: String,
}

async fn rollback(
    State(api): State<LabApi>,
    headers: HeaderMap,
    Json(r): Json<Rollback>,
) -> ApiResult {
    auth::check(&headers, &api.token)?;
    let version = api.supervisor.rollback(&r.service, "api").await?;
    ok(json!({"service": r.service, "version": version}))
}

async fn shutdown(State(api): State<LabApi>, headers: HeaderMap) -> ApiResult {
    auth::check(&headers, &api.token)?;
    api.shutdown.notify_one();
    ok(json!({"stopping": true}))
}
