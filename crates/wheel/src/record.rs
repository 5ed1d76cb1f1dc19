//! The path a player takes: for every request made by a person who has an
//! open card, a `command.run` event (source: the person of the token) with
//! the command line the CLI sent in `x-firedrill-command`, or the API call
//! (method, path, query) for other clients. One event per CLI invocation
//! (`x-firedrill-invocation`), however many requests it makes. Runs inside
//! the access guard, which leaves the caller's [`Principal`] in the
//! request's extensions.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde_json::json;
use wire::Principal;

use crate::Wheel;

/// The command line of the CLI invocation that made the request.
pub const COMMAND: &str = "x-firedrill-command";
/// One id per CLI invocation (its requests are recorded once).
pub const INVOCATION: &str = "x-firedrill-invocation";
/// Requests the control plane makes to itself (the wheel's facts).
pub const INTERNAL: &str = "x-firedrill-internal";

/// `router` with the recorder on every route. Call before the guard is
/// applied, so that the guard runs first.
pub fn apply(wheel: Arc<Wheel>, router: Router) -> Router {
    router.route_layer(middleware::from_fn_with_state(wheel, record))
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

async fn record(State(wheel): State<Arc<Wheel>>, req: Request, next: Next) -> Response {
    if header(&req, INTERNAL).is_none()
        && let Some(p) = req.extensions().get::<Principal>()
        && let Some((card, fresh)) = wheel.open_card_of(&p.name, header(&req, INVOCATION))
        && fresh
    {
        let mut attrs = json!({
            "card": card,
            "method": req.method().as_str(),
            "path": req.uri().path(),
        });
        if let Some(q) = req.uri().query() {
            attrs["query"] = json!(cut(q, 1000));
        }
        if let Some(c) = header(&req, COMMAND) {
            attrs["command"] = json!(cut(c, 1000));
        }
        let person = p.name.clone();
        if let Err(e) = wheel
            .journal()
            .append("command.run", &person, &person, attrs)
            .await
        {
            tracing::warn!(error = %e, person, "wheel: could not record a command");
        }
    }
    next.run(req).await
}
