//! One error answer for every endpoint of the control plane, in the shape
//! of Prometheus's HTTP API: `{"status":"error","errorType":"bad_data","error":"…"}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// Prometheus's error types, plus the ones access control and conflicts need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    /// The request is malformed or names something that does not exist (400).
    BadData,
    /// No token, or a token that is not known (401).
    Unauthorized,
    /// A known token whose role may not do this (403).
    Forbidden,
    /// The thing asked for does not exist (404).
    NotFound,
    /// The request conflicts with the current state (409).
    Conflict,
    /// The request was valid but could not be carried out (422).
    Execution,
    /// A query ran out of time (503, as Prometheus answers).
    Timeout,
    /// The client went away before the answer (499, as Prometheus answers).
    Canceled,
    /// A dependency (database, instance) is not available (503).
    Unavailable,
    /// A bug (500).
    Internal,
}

impl ErrorType {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorType::BadData => StatusCode::BAD_REQUEST,
            ErrorType::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorType::Forbidden => StatusCode::FORBIDDEN,
            ErrorType::NotFound => StatusCode::NOT_FOUND,
            ErrorType::Conflict => StatusCode::CONFLICT,
            ErrorType::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::Timeout | ErrorType::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::Canceled => {
                StatusCode::from_u16(499).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            }
            ErrorType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error type a status code stands for (answers of older peers).
    pub fn from_status(status: u16) -> ErrorType {
        match status {
            401 => ErrorType::Unauthorized,
            403 => ErrorType::Forbidden,
            404 => ErrorType::NotFound,
            409 => ErrorType::Conflict,
            499 => ErrorType::Canceled,
            422 => ErrorType::Execution,
            503 => ErrorType::Unavailable,
            400..=499 => ErrorType::BadData,
            _ => ErrorType::Internal,
        }
    }
}

/// An error answer: its type (which decides the HTTP status) and a reason a
/// person can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub error_type: ErrorType,
    pub message: String,
}

/// The body of an error answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub status: String,
    #[serde(rename = "errorType")]
    pub error_type: ErrorType,
    pub error: String,
}

impl ApiError {
    pub fn new(error_type: ErrorType, message: impl Into<String>) -> Self {
        ApiError {
            error_type,
            message: message.into(),
        }
    }
    pub fn bad_data(m: impl Into<String>) -> Self {
        Self::new(ErrorType::BadData, m)
    }
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(ErrorType::Unauthorized, m)
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(ErrorType::Forbidden, m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(ErrorType::NotFound, m)
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(ErrorType::Conflict, m)
    }
    pub fn unavailable(m: impl Into<String>) -> Self {
        Self::new(ErrorType::Unavailable, m)
    }
    pub fn internal(m: impl Into<String>) -> Self {
        Self::new(ErrorType::Internal, m)
    }

    pub fn status(&self) -> StatusCode {
        self.error_type.status()
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            status: "error".into(),
            error_type: self.error_type,
            error: self.message.clone(),
        }
    }
}

impl From<crate::sink::SinkError> for ApiError {
    fn from(e: crate::sink::SinkError) -> Self {
        ApiError::unavailable(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

/// A JSON body that failed to parse is a 400 with our error shape, not
/// axum's plain-text rejection.
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        ApiError::bad_data(r.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::bad_data(r.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        ApiError::bad_data(r.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_prometheus_shape() {
        let e = ApiError::forbidden("role trainee may not list faults");
        let v = serde_json::to_value(e.body()).unwrap();
        assert_eq!(v["status"], "error");
        assert_eq!(v["errorType"], "forbidden");
        assert_eq!(v["error"], "role trainee may not list faults");
        assert_eq!(e.status(), StatusCode::FORBIDDEN);
    }
}
