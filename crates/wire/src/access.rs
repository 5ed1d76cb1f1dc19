//! What each route allows, and the one middleware that enforces it.
//!
//! Every crate that serves routes lists them with their [`Access`] next to
//! its router (a `ROUTES` table); the binary hands all tables to a
//! [`Guard`], which answers 401/403 with the reason before a handler runs.
//! A route missing from the tables is refused (fail closed), so a new route
//! cannot slip through unguarded.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::role::{Principal, Role};
use crate::sink::BoxFuture;

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Anyone, always: what instances need (the registry).
    Public,
    /// Reading what the lab shows. Open without a token on a loopback lab
    /// (promtool and Grafana work as before); a viewer's token where the lab
    /// is served beyond loopback.
    Read,
    /// Operating the lab: operations, acknowledgements, silences. Trainees
    /// and instructors.
    Operate,
    /// Hidden state (faults, drill scenarios) and the lab's administration
    /// (tokens, shutdown). Instructors only.
    Instruct,
}

impl Access {
    /// The weakest role that passes.
    pub fn min_role(self) -> Role {
        match self {
            Access::Public | Access::Read => Role::Viewer,
            Access::Operate => Role::Trainee,
            Access::Instruct => Role::Instructor,
        }
    }
}

/// One route and what it needs. `path` is the route as registered
/// (`/api/pages/{id}/{action}`).
#[derive(Debug, Clone, Copy)]
pub struct RouteAccess {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

pub const fn route(method: &'static str, path: &'static str, access: Access) -> RouteAccess {
    RouteAccess {
        method,
        path,
        access,
    }
}

/// Turns a bearer token into a principal.
pub trait TokenResolver: Send + Sync {
    /// `Ok(None)` for a token nobody holds (unknown or revoked).
    fn resolve<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Option<Principal>, String>>;
}

/// The access table with the token resolver.
#[derive(Clone)]
pub struct Guard {
    /// Path → (method, access): looked up without allocating.
    table: Arc<HashMap<&'static str, Vec<(&'static str, Access)>>>,
    tokens: Arc<dyn TokenResolver>,
    open_reads: bool,
}

impl Guard {
    /// `open_reads`: reads need no token (a lab on loopback).
    pub fn new<'a>(
        routes: impl IntoIterator<Item = &'a RouteAccess>,
        tokens: Arc<dyn TokenResolver>,
        open_reads: bool,
    ) -> Guard {
        let mut table: HashMap<&'static str, Vec<(&'static str, Access)>> = HashMap::new();
        for r in routes {
            table.entry(r.path).or_default().push((r.method, r.access));
        }
        Guard {
            table: Arc::new(table),
            tokens,
            open_reads,
        }
    }

    /// The declared access of a route, if any.
    pub fn access(&self, method: &str, path: &str) -> Option<Access> {
        self.table
            .get(path)?
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, a)| *a)
    }

    /// `router` with every route checked. Call after all routes are merged.
    pub fn apply(self, router: Router) -> Router {
        router.route_layer(middleware::from_fn_with_state(self, check))
    }

    /// Who sent `headers`, and whether they may use `method path`.
    pub async fn authorize(
        &self,
        method: &str,
        path: &str,
        headers: &axum::http::HeaderMap,
    ) -> Result<Principal, ApiError> {
        let method = if method == "HEAD" { "GET" } else { method };
        let Some(access) = self.access(method, path) else {
            return Err(ApiError::forbidden(format!(
                "{method} {path} declares no access rule, so it is refused (a bug: list it in its crate's ROUTES)"
            )));
        };
        let principal = match bearer(headers)? {
            Some(t) => match self.tokens.resolve(t).await {
                Ok(Some(p)) => Some(p),
                Ok(None) => {
                    return Err(ApiError::unauthorized(
                        "unknown or revoked token: use the data dir's `token` file or one from `firedrill token create`",
                    ));
                }
                Err(e) => {
                    return Err(ApiError::unavailable(format!(
                        "cannot check the token: {e}"
                    )));
                }
            },
            None => None,
        };
        match (access, principal) {
            (Access::Public, p) => Ok(p.unwrap_or_else(Principal::anonymous)),
            (Access::Read, None) if self.open_reads => Ok(Principal::anonymous()),
            (Access::Read, None) => Err(ApiError::unauthorized(format!(
                "{method} {path} needs a token on a lab served beyond loopback: send `Authorization: Bearer <token>`"
            ))),
            (_, None) => Err(ApiError::unauthorized(format!(
                "{method} {path} needs a token: send `Authorization: Bearer <token>` (the data dir's `token` file, or one from `firedrill token create`)"
            ))),
            (a, Some(p)) if p.role < a.min_role() => Err(ApiError::forbidden(format!(
                "{} has the {} role and may not {method} {path}: it needs the {} role",
                p.name,
                p.role,
                a.min_role()
            ))),
            (_, Some(p)) => Ok(p),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in
/// any case). A header that is there but not of that form is refused, not
/// taken for no token: a mistyped header is told so.
fn bearer(headers: &axum::http::HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        ApiError::unauthorized(
            "malformed Authorization header: send `Authorization: Bearer <token>` (a token in printable ASCII)",
        )
    };
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = text.trim().split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(malformed());
    }
    Ok(Some(token))
}

async fn check(State(guard): State<Guard>, mut req: Request, next: Next) -> Response {
    let Some(path) = req.extensions().get::<MatchedPath>().cloned() else {
        return next.run(req).await;
    };
    let method = req.method().as_str().to_string();
    match guard.authorize(&method, path.as_str(), req.headers()).await {
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The hash under which a token is stored (hex SHA-256).
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Handlers take the caller as an argument; set by the guard.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Principal>()
            .cloned()
            .unwrap_or_else(Principal::anonymous))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::{get, post};
    use tower::ServiceExt;

    struct Fixed;
    impl TokenResolver for Fixed {
        fn resolve<'a>(
            &'a self,
            token: &'a str,
        ) -> BoxFuture<'a, Result<Option<Principal>, String>> {
            Box::pin(async move {
                Ok(match token {
                    "t" => Some(Principal {
                        name: "alice".into(),
                        role: Role::Trainee,
                    }),
                    "i" => Some(Principal::lab_owner()),
                    _ => None,
                })
            })
        }
    }

    async fn call(router: &Router, method: &str, path: &str, token: Option<&str>) -> u16 {
        let mut b = axum::http::Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        router
            .clone()
            .oneshot(b.body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    #[tokio::test]
    async fn roles_and_undeclared_routes() {
        let routes = [
            route("GET", "/r", Access::Read),
            route("POST", "/op", Access::Operate),
            route("GET", "/hidden", Access::Instruct),
        ];
        let app = Router::new()
            .route("/r", get(|p: Principal| async move { p.name }))
            .route("/op", post(|| async { "ok" }))
            .route("/hidden", get(|| async { "ok" }))
            .route("/forgot", get(|| async { "ok" }));
        let open = Guard::new(&routes, Arc::new(Fixed), true).apply(app.clone());
        assert_eq!(call(&open, "GET", "/r", None).await, 200);
        assert_eq!(call(&open, "GET", "/r", Some("nope")).await, 401);
        assert_eq!(call(&open, "POST", "/op", None).await, 401);
        assert_eq!(call(&open, "POST", "/op", Some("t")).await, 200);
        assert_eq!(call(&open, "GET", "/hidden", Some("t")).await, 403);
        assert_eq!(call(&open, "GET", "/hidden", Some("i")).await, 200);
        assert_eq!(call(&open, "GET", "/forgot", Some("i")).await, 403);
        assert_eq!(call(&open, "GET", "/missing", None).await, 404);
        let closed = Guard::new(&routes, Arc::new(Fixed), false).apply(app);
        assert_eq!(call(&closed, "GET", "/r", None).await, 401);
        assert_eq!(call(&closed, "GET", "/r", Some("t")).await, 200);
    }

    /// Issue 11: an Authorization header that is not `Bearer <token>` is
    /// refused with the reason, even on an open read; the scheme's case
    /// does not matter.
    #[tokio::test]
    async fn a_malformed_authorization_header_is_refused() {
        let routes = [route("GET", "/r", Access::Read)];
        let app = Router::new().route("/r", get(|p: Principal| async move { p.name }));
        let open = Guard::new(&routes, Arc::new(Fixed), true).apply(app);
        let send = |value: Vec<u8>| {
            let open = open.clone();
            async move {
                let req = axum::http::Request::builder()
                    .uri("/r")
                    .header(
                        "authorization",
                        axum::http::HeaderValue::from_bytes(&value).unwrap(),
                    )
                    .body(axum::body::Body::empty())
                    .unwrap();
                let r = open.oneshot(req).await.unwrap();
                let status = r.status().as_u16();
                let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
                (status, String::from_utf8_lossy(&body).to_string())
            }
        };
        for bad in [
            b"Basic dXNlcjpwYXNz".to_vec(),
            b"Bearer".to_vec(),
            b"Bearer    ".to_vec(),
            b"t".to_vec(),
            vec![b'B', b'e', b'a', b'r', b'e', b'r', b' ', 0xff, 0xfe],
        ] {
            let (status, body) = send(bad.clone()).await;
            assert_eq!(status, 401, "{:?}: {body}", String::from_utf8_lossy(&bad));
            assert!(body.contains("malformed Authorization header"), "{body}");
        }
        assert_eq!(send(b"bearer t".to_vec()).await.0, 200);
    }
}
