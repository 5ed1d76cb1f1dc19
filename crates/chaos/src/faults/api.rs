//! `/api/faults`: list (read), inject and clear (writes, guarded by the lab
//! token in the binary).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use lab::api::ApiError;
use serde_json::json;

use super::{FaultController, InjectRequest};
use crate::ChaosError;

impl From<ChaosError> for ApiError {
    fn from(e: ChaosError) -> Self {
        let status = match &e {
            ChaosError::OutsideLab(_) | ChaosError::Invalid(_) => StatusCode::BAD_REQUEST,
            ChaosError::NoFault(_) => StatusCode::NOT_FOUND,
            ChaosError::Apply(_) => StatusCode::BAD_GATEWAY,
            ChaosError::Store(_) | ChaosError::Lab(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError(status, e.to_string())
    }
}

type Api = State<Arc<FaultController>>;
type ApiResult = Result<Json<serde_json::Value>, ApiError>;

async fn list(State(c): Api) -> ApiResult {
    Ok(Json(json!({"status": "success", "data": c.list().await})))
}

async fn inject(State(c): Api, body: axum::body::Bytes) -> ApiResult {
    let req: InjectRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("not a fault request: {e}")))?;
    Ok(Json(
        json!({"status": "success", "data": c.inject(&req).await?}),
    ))
}

async fn clear(State(c): Api, Path(id): Path<String>) -> ApiResult {
    Ok(Json(
        json!({"status": "success", "data": [c.clear(&id).await?]}),
    ))
}

async fn clear_all(State(c): Api) -> ApiResult {
    Ok(Json(
        json!({"status": "success", "data": c.clear_all().await?}),
    ))
}

pub fn read_router(c: Arc<FaultController>) -> Router {
    Router::new().route("/api/faults", get(list)).with_state(c)
}

pub fn write_router(c: Arc<FaultController>) -> Router {
    Router::new()
        .route("/api/faults", post(inject).delete(clear_all))
        .route("/api/faults/{id}", delete(clear))
        .with_state(c)
}
