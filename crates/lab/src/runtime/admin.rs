//! The token-guarded admin endpoint: read and change the runtime config.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::state::Instance;

fn authorized(inst: &Instance, headers: &HeaderMap) -> bool {
    let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(token) = v.strip_prefix("Bearer ") else {
        return false;
    };
    // Constant-time comparison: the token guards fault injection.
    wire::access::constant_time_eq(token, &inst.token)
}

/// In front of every `/admin/*` route: the lab token or 401.
pub async fn require_token(
    State(inst): State<Arc<Instance>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if authorized(&inst, req.headers()) {
        next.run(req).await
    } else {
        reject(StatusCode::UNAUTHORIZED, "missing or wrong bearer token")
    }
}

fn reject(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({ "error": msg.into() }))).into_response()
}

fn current(inst: &Instance) -> Value {
    json!({
        "service": inst.service.name,
        "instance": inst.name,
        "version": inst.version,
        "config": inst.config(),
    })
}

pub async fn get_config(State(inst): State<Arc<Instance>>) -> Response {
    Json(current(&inst)).into_response()
}

pub async fn patch_config(State(inst): State<Arc<Instance>>, body: bytes::Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return reject(StatusCode::BAD_REQUEST, format!("body is not JSON: {e}")),
    };
    let Some(obj) = v.as_object() else {
        return reject(
            StatusCode::BAD_REQUEST,
            "body must be a JSON object of key: value",
        );
    };
    let mut pairs = BTreeMap::new();
    for (k, v) in obj {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return reject(
                    StatusCode::BAD_REQUEST,
                    format!("{k}: {other} is not a scalar"),
                );
            }
        };
        pairs.insert(k.clone(), s);
    }
    let result = {
        let mut cfg = inst.config.write().unwrap_or_else(|e| e.into_inner());
        cfg.set_all(&inst.service, &pairs)
    };
    match result {
        Ok(()) => {
            inst.log.write(
                "info",
                "config changed",
                "",
                &[("changes", serde_json::to_value(&pairs).unwrap_or_default())],
            );
            Json(current(&inst)).into_response()
        }
        Err(e) => reject(StatusCode::BAD_REQUEST, e),
    }
}

pub async fn list_faults(State(inst): State<Arc<Instance>>) -> Response {
    Json(json!({ "instance": inst.name, "faults": inst.faults.list() })).into_response()
}

pub async fn add_fault(State(inst): State<Arc<Instance>>, body: bytes::Bytes) -> Response {
    let spec: crate::faults::FaultSpec = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return reject(StatusCode::BAD_REQUEST, format!("not a fault: {e}")),
    };
    if let Some(to) = &spec.to
        && !inst.downstreams.contains(to)
    {
        return reject(
            StatusCode::BAD_REQUEST,
            format!("{} does not call {to}", inst.service.name),
        );
    }
    // Not logged: the request log is what a trainee reads, and a fault
    // shows there only as the failures it causes. The journal's hidden
    // `fault.injected` records it for the instructor.
    match inst.faults.add(spec) {
        Ok(()) => {
            Json(json!({ "instance": inst.name, "faults": inst.faults.list() })).into_response()
        }
        Err(e) => reject(StatusCode::BAD_REQUEST, e),
    }
}

pub async fn clear_faults(State(inst): State<Arc<Instance>>) -> Response {
    let n = inst.faults.remove(None);
    Json(json!({ "instance": inst.name, "cleared": n })).into_response()
}

pub async fn clear_fault(
    State(inst): State<Arc<Instance>>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let n = inst.faults.remove(Some(&id));
    Json(json!({ "instance": inst.name, "cleared": n })).into_response()
}
