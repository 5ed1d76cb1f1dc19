//! The control plane's lab endpoints (`/api/lab/*`): registry for instances,
//! status, operations, load control, events and traces.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::Notify;
use wire::access::{Access, RouteAccess, route};
use wire::envelope::{ApiResult, success};
use wire::lab::{
    ConfigChanged, ConfigSet, Deploy, Drain, Drained, LoadSet, Restarted, Rollback, Scale, Target,
};
use wire::{ApiError, NewEvent, Principal};

use crate::loadgen::{DailyPattern, LoadGen, LoadStatus};
use crate::supervisor::{Supervisor, SupervisorError};

/// What the lab endpoints work on.
#[derive(Clone)]
pub struct LabApi {
    pub supervisor: Arc<Supervisor>,
    pub loadgen: Arc<LoadGen>,
    /// Notified by `POST /api/lab/shutdown` (`firedrill down`).
    pub shutdown: Arc<Notify>,
    pub http: reqwest::Client,
}

/// The lab's routes and who may use them.
pub const ROUTES: &[RouteAccess] = &[
    route("GET", "/api/lab/registry", Access::Public),
    route("GET", "/api/lab/services", Access::Read),
    route("GET", "/api/lab/topology", Access::Read),
    route("GET", "/api/lab/traces/{id}", Access::Read),
    route("GET", "/api/lab/load", Access::Read),
    route("POST", "/api/lab/load", Access::Operate),
    route("POST", "/api/lab/restart", Access::Operate),
    route("POST", "/api/lab/scale", Access::Operate),
    route("POST", "/api/lab/drain", Access::Operate),
    route("POST", "/api/lab/config", Access::Operate),
    route("POST", "/api/lab/deploy", Access::Operate),
    route("POST", "/api/lab/rollback", Access::Operate),
    route("POST", "/api/lab/shutdown", Access::Instruct),
];

fn api_error(e: SupervisorError) -> ApiError {
    match e {
        SupervisorError::UnknownService(_)
        | SupervisorError::UnknownInstance { .. }
        | SupervisorError::UnknownVersion { .. }
        | SupervisorError::BadScale(_)
        | SupervisorError::NothingToRollBack(_)
        | SupervisorError::Admin { .. } => ApiError::bad_data(e.to_string()),
        SupervisorError::PortInUse { .. } | SupervisorError::NoPorts => {
            ApiError::conflict(e.to_string())
        }
        SupervisorError::Journal(_) | SupervisorError::ShuttingDown => {
            ApiError::unavailable(e.to_string())
        }
        _ => ApiError::internal(e.to_string()),
    }
}

impl LabApi {
    pub fn router(self) -> Router {
        Router::new()
            .route("/api/lab/registry", get(registry))
            .route("/api/lab/services", get(services))
            .route("/api/lab/topology", get(topology))
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

async fn services(State(api): State<LabApi>) -> ApiResult<serde_json::Value> {
    Ok(success(json!({
        "lab": api.supervisor.topology().name,
        "entry": api.supervisor.topology().entry,
        "services": api.supervisor.status(),
    })))
}

/// The running topology; what its versions do (which would name a bad
/// release's bug) only for those who see hidden state.
async fn topology(State(api): State<LabApi>, who: Principal) -> ApiResult<serde_json::Value> {
    let t = api.supervisor.topology();
    Ok(success(if who.sees_hidden() {
        serde_json::to_value(t).unwrap_or_default()
    } else {
        crate::topology::without_version_profiles(t)
    }))
}

/// Assembles a trace by asking every instance for its spans of it.
async fn trace(State(api): State<LabApi>, Path(id): Path<String>) -> ApiResult<serde_json::Value> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_data(format!(
            "trace id {id:?} is not 32 hex digits"
        )));
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
        return Err(ApiError::not_found(format!(
            "no instance has spans of trace {id} (they keep the most recent spans only)"
        )));
    }
    spans.sort_by(|a, b| {
        let k = |v: &serde_json::Value| v.get("start").map(|s| s.to_string()).unwrap_or_default();
        k(a).cmp(&k(b))
    });
    Ok(success(json!({"trace_id": id, "spans": spans})))
}

async fn load_get(State(api): State<LabApi>) -> ApiResult<LoadStatus> {
    Ok(success(api.loadgen.status()))
}

async fn load_set(
    State(api): State<LabApi>,
    who: Principal,
    req: Result<Json<LoadSet>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<LoadStatus> {
    let Json(req) = req?;
    if let Some(rps) = req.rps
        && (!rps.is_finite() || !(0.0..=100_000.0).contains(&rps))
    {
        return Err(ApiError::bad_data(format!(
            "rps {rps} is out of range (0..=100000)"
        )));
    }
    let pattern = match req.pattern.as_deref() {
        None => None,
        Some("flat") => Some(None),
        Some("daily") => {
            let mut p = DailyPattern::default();
            if let Some(s) = req.day_seconds {
                p.period = std::time::Duration::try_from_secs_f64(s)
                    .ok()
                    .filter(|d| d.as_secs() >= 60)
                    .ok_or_else(|| {
                        ApiError::bad_data(format!("day_seconds {s} must be at least 60"))
                    })?;
            }
            Some(Some(p))
        }
        Some(other) => {
            return Err(ApiError::bad_data(format!(
                "unknown pattern {other:?}: use \"daily\" or \"flat\""
            )));
        }
    };
    if let Some(rps) = req.rps {
        api.loadgen.set_rps(rps);
    }
    if let Some(p) = pattern {
        api.loadgen.set_pattern(p);
    }
    let status = api.loadgen.status();
    api.supervisor
        .events()
        .append(
            NewEvent::new("load.changed", &who.name, "loadgen")
                .attr("rps", status.rps)
                .attr("pattern", status.pattern.is_some()),
        )
        .await?;
    Ok(success(status))
}

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

async fn restart(
    State(api): State<LabApi>,
    who: Principal,
    t: Body<Target>,
) -> ApiResult<Restarted> {
    let Json(t) = t?;
    api.supervisor
        .restart(&t.service, t.index, &who.name)
        .await
        .map_err(api_error)?;
    Ok(success(Restarted {
        restarted: t.service,
        index: t.index,
    }))
}

async fn scale(State(api): State<LabApi>, who: Principal, s: Body<Scale>) -> ApiResult<Scale> {
    let Json(s) = s?;
    api.supervisor
        .scale(&s.service, s.instances, &who.name)
        .await
        .map_err(api_error)?;
    Ok(success(s))
}

async fn drain(State(api): State<LabApi>, who: Principal, d: Body<Drain>) -> ApiResult<Drained> {
    let Json(d) = d?;
    api.supervisor
        .drain(&d.service, d.index, d.on, &who.name)
        .await
        .map_err(api_error)?;
    Ok(success(Drained {
        service: d.service,
        index: d.index,
        draining: d.on,
    }))
}

async fn config_set(
    State(api): State<LabApi>,
    who: Principal,
    c: Body<ConfigSet>,
) -> ApiResult<ConfigChanged> {
    let Json(c) = c?;
    if c.set.is_empty() {
        return Err(ApiError::bad_data("nothing to set: give key=value pairs"));
    }
    let config = api
        .supervisor
        .config_set(&c.service, c.set, &who.name)
        .await
        .map_err(api_error)?;
    Ok(success(ConfigChanged {
        service: c.service,
        config,
    }))
}

async fn deploy(State(api): State<LabApi>, who: Principal, d: Body<Deploy>) -> ApiResult<Deploy> {
    let Json(d) = d?;
    api.supervisor
        .deploy(&d.service, &d.version, &who.name)
        .await
        .map_err(api_error)?;
    Ok(success(d))
}

async fn rollback(
    State(api): State<LabApi>,
    who: Principal,
    r: Body<Rollback>,
) -> ApiResult<Deploy> {
    let Json(r) = r?;
    let version = api
        .supervisor
        .rollback(&r.service, &who.name)
        .await
        .map_err(api_error)?;
    Ok(success(Deploy {
        service: r.service,
        version,
    }))
}

async fn shutdown(State(api): State<LabApi>) -> ApiResult<serde_json::Value> {
    api.shutdown.notify_one();
    Ok(success(json!({"stopping": true})))
}
