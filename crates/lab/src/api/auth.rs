//! Bearer-token guard for the lab's mutating endpoints.

use axum::http::{HeaderMap, StatusCode};

use super::ApiError;

/// Checks `Authorization: Bearer <token>` in constant time.
pub fn check(headers: &HeaderMap, token: &str) -> Result<(), ApiError> {
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let ok = given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if ok && !token.is_empty() {
        Ok(())
    } else {
        Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "missing or wrong lab token: send `Authorization: Bearer <token>` (the token is in the data dir's `token` file)".into(),
        ))
    }
}
