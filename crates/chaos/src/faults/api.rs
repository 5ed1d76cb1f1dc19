//! `/api/faults`: list, inject and clear. Faults are hidden state: only an
//! instructor may list or change them ([`ROUTES`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{delete, get};
use wire::access::{Access, RouteAccess, route};
use wire::envelope::{ApiResult, success};
use wire::{ApiError, ErrorType};

use super::{FaultController, InjectRequest};
use crate::ChaosError;

/// Faults are hidden from trainees and viewers: instructors only.
pub const ROUTES: &[RouteAccess] = &[
    route("GET", "/api/faults", Access::Instruct),
    route("POST", "/api/faults", Access::Instruct),
    route("DELETE", "/api/faults", Access::Instruct),
    route("DELETE", "/api/faults/{id}", Access::Instruct),
];

impl From<ChaosError> for ApiError {
    fn from(e: ChaosError) -> Self {
        let t = match &e {
            ChaosError::OutsideLab(_) | ChaosError::Invalid(_) => ErrorType::BadData,
            ChaosError::NoFault(_) => ErrorType::NotFound,
            ChaosError::Apply(_) => ErrorType::Execution,
            ChaosError::Store(_) | ChaosError::Journal(_) | ChaosError::Lab(_) => {
                ErrorType::Unavailable
            }
        };
        ApiError::new(t, e.to_string())
    }
}

type Api = State<Arc<FaultController>>;

async fn list(State(c): Api) -> ApiResult<Vec<super::FaultRecord>> {
    Ok(success(c.list().await))
}

async fn inject(
    State(c): Api,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<super::FaultRecord> {
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(ApiError::bad_data(
            "a fault request is JSON: send `Content-Type: application/json`",
        ));
    }
    let req: InjectRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_data(format!("not a fault request: {e}")))?;
    Ok(success(c.inject(&req).await?))
}

async fn clear(State(c): Api, Path(id): Path<String>) -> ApiResult<Vec<super::FaultRecord>> {
    Ok(success(vec![c.clear(&id).await?]))
}

async fn clear_all(State(c): Api) -> ApiResult<Vec<super::FaultRecord>> {
    Ok(success(c.clear_all().await?))
}

/// Every fault route; [`ROUTES`] says who may use each.
pub fn router(c: Arc<FaultController>) -> Router {
    Router::new()
        .route("/api/faults", get(list).post(inject).delete(clear_all))
        .route("/api/faults/{id}", delete(clear))
        .with_state(c)
}
