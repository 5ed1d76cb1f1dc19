//! Success answers: `{"status":"success","data":…}`, as Prometheus's API
//! and every endpoint of ours answer.

use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Success<T> {
    pub status: String,
    pub data: T,
}

/// Wraps `data` in the success envelope.
pub fn success<T: Serialize>(data: T) -> Json<Success<T>> {
    Json(Success {
        status: "success".into(),
        data,
    })
}

/// What handlers return.
pub type ApiResult<T> = Result<Json<Success<T>>, crate::ApiError>;
