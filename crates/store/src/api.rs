//! The journal's HTTP API: `GET /api/events` (filters), `GET
//! /api/events/stream` (server-sent events), `POST /api/events` (tools that
//! record what they do); and the named tokens: `/api/tokens`. Events that
//! reveal hidden state are listed only to those who may see it.

use std::convert::Infallible;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::{delete, get};
use serde::Deserialize;
use wire::access::{Access, RouteAccess, route};
use wire::envelope::{ApiResult, success};
use wire::lab::{TokenCreate, TokenCreated, TokenInfo};
use wire::{ApiError, EventSink, NewEvent, Principal};

use crate::{Event, Filter, Journal, StoreError, Tokens};

/// Who may use the journal's and the tokens' routes.
pub const ROUTES: &[RouteAccess] = &[
    route("GET", "/api/events", Access::Read),
    route("GET", "/api/events/stream", Access::Read),
    route("POST", "/api/events", Access::Instruct),
    route("GET", "/api/tokens", Access::Instruct),
    route("POST", "/api/tokens", Access::Instruct),
    route("DELETE", "/api/tokens/{name}", Access::Instruct),
];

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(m) => ApiError::bad_data(m),
            other => ApiError::unavailable(other.to_string()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    since: Option<chrono::DateTime<chrono::Utc>>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    kind: Option<String>,
    subject: Option<String>,
    after_id: Option<i64>,
    limit: Option<i64>,
    /// `false`: leave hidden kinds out even for an instructor (the CLI of
    /// someone studying alone with the lab's own token, during a drill).
    hidden: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostedEvent {
    kind: String,
    subject: String,
    #[serde(default)]
    attributes: serde_json::Value,
}

/// Longest kind or subject a tool may post.
const MAX_FIELD: usize = 200;

#[derive(Clone)]
struct Api {
    journal: Journal,
    tokens: Tokens,
}

/// The journal's and the tokens' routes.
pub fn router(journal: Journal, tokens: Tokens) -> Router {
    Router::new()
        .route("/api/events", get(list).post(post_event))
        .route("/api/events/stream", get(stream))
        .route("/api/tokens", get(list_tokens).post(create_token))
        .route("/api/tokens/{name}", delete(revoke_token))
        .with_state(Api { journal, tokens })
}

async fn list(
    State(api): State<Api>,
    who: Principal,
    q: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Vec<Event>> {
    let Query(p) = q?;
    let limit = p.limit.unwrap_or(1000);
    if !(1..=100_000).contains(&limit) {
        return Err(wire::ApiError::bad_data(format!(
            "invalid parameter \"limit\": {limit} is not from 1 to 100000"
        )));
    }
    let f = Filter {
        since: p.since,
        until: p.until,
        kind_prefix: p.kind,
        subject: p.subject,
        after_id: p.after_id,
        limit: Some(limit),
        without_hidden: !who.sees_hidden() || p.hidden == Some(false),
    };
    Ok(success(api.journal.list(&f).await?))
}

async fn post_event(
    State(api): State<Api>,
    who: Principal,
    body: Result<axum::Json<PostedEvent>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Event> {
    let axum::Json(e) = body?;
    let valid = e.kind.len() <= MAX_FIELD
        && e.kind.split('.').count() >= 2
        && e.kind
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    if !valid {
        return Err(ApiError::bad_data(format!(
            "kind {:?} is not dotted lowercase (e.g. experiment.started)",
            e.kind
        )));
    }
    if e.subject.len() > MAX_FIELD {
        return Err(ApiError::bad_data(format!(
            "subject is longer than {MAX_FIELD} bytes"
        )));
    }
    let ev = EventSink::append(
        &api.journal,
        NewEvent::new(&e.kind, &who.name, &e.subject).attrs(e.attributes),
    )
    .await?;
    Ok(success(ev))
}

async fn stream(
    State(api): State<Api>,
    who: Principal,
    q: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let Query(p) = q?;
    let rx = api.journal.subscribe();
    let kind = p.kind;
    let hidden_ok = who.sees_hidden() && p.hidden != Some(false);
    let stream = futures_util::stream::unfold(rx, move |mut rx| {
        let kind = kind.clone();
        async move {
            loop {
                match rx.recv().await {
                    Ok(e)
                        if kind.as_deref().is_none_or(|k| e.kind.starts_with(k))
                            && (hidden_ok || !wire::kinds::is_hidden(&e.kind)) =>
                    {
                        let ev = SseEvent::default()
                            .id(e.id.to_string())
                            .event(e.kind.clone())
                            .data(serde_json::to_string(&e).unwrap_or_default());
                        return Some((Ok::<_, Infallible>(ev), rx));
                    }
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        // The stream is a live view; the journal has every event.
                        tracing::warn!(
                            missed = n,
                            "an event stream fell behind; resume with /api/events?after_id"
                        );
                        continue;
                    }
                    Err(_) => return None,
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

async fn list_tokens(State(api): State<Api>) -> ApiResult<Vec<TokenInfo>> {
    Ok(success(api.tokens.list().await?))
}

async fn create_token(
    State(api): State<Api>,
    who: Principal,
    body: Result<axum::Json<TokenCreate>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<TokenCreated> {
    let axum::Json(t) = body?;
    let token = api.tokens.create(&t.name, t.role).await?;
    EventSink::append(
        &api.journal,
        NewEvent::new("token.created", &who.name, &t.name).attr("role", t.role.as_str()),
    )
    .await?;
    Ok(success(TokenCreated {
        name: t.name,
        role: t.role,
        token,
    }))
}

async fn revoke_token(
    State(api): State<Api>,
    who: Principal,
    Path(name): Path<String>,
) -> ApiResult<serde_json::Value> {
    if !api.tokens.revoke(&name).await? {
        return Err(ApiError::not_found(format!(
            "no active token named {name:?}"
        )));
    }
    EventSink::append(
        &api.journal,
        NewEvent::new("token.revoked", &who.name, &name),
    )
    .await?;
    Ok(success(serde_json::json!({"revoked": name})))
}
