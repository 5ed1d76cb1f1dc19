//! The lab token on write endpoints of parts that do not know the lab's
//! auth (on call, faults).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

/// `router` with every route requiring `Authorization: Bearer <token>`.
pub fn guarded(router: Router, token: &str) -> Router {
    router.route_layer(middleware::from_fn_with_state(
        Arc::<str>::from(token),
        check,
    ))
}

async fn check(State(token): State<Arc<str>>, req: Request, next: Next) -> Response {
    match lab::api::auth::check(req.headers(), &token) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}
