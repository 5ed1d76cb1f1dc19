//! The wheel's HTTP API (`/api/wheel/*`) and who may use what
//! ([`ROUTES`]): spinning, answering and escalating are a player's
//! (Operate; a trainee for themself, an instructor for anyone); the board
//! and cards are readable, a card's truth only by instructors until it is
//! answered; checking an answer without recording it is the instructor's.

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use wire::access::{Access, RouteAccess, route};
use wire::envelope::{ApiResult, success};
use wire::{ApiError, ErrorType, Principal};

use crate::WheelError;
use crate::game::{AnswerRequest, Board, EscalateRequest, SpinRequest, Wheel, view};
use crate::persist::CardFilter;

pub const ROUTES: &[RouteAccess] = &[
    route("POST", "/api/wheel/spin", Access::Operate),
    route("POST", "/api/wheel/answer", Access::Operate),
    route("POST", "/api/wheel/escalate", Access::Operate),
    route("GET", "/api/wheel/cards", Access::Read),
    route("GET", "/api/wheel/cards/{id}", Access::Read),
    route("POST", "/api/wheel/cards/{id}/check", Access::Instruct),
    route("GET", "/api/wheel/board", Access::Read),
    route("GET", "/api/wheel/templates", Access::Read),
];

impl From<WheelError> for ApiError {
    fn from(e: WheelError) -> Self {
        let t = match &e {
            WheelError::Invalid(_) => ErrorType::BadData,
            WheelError::Forbidden(_) => ErrorType::Forbidden,
            WheelError::NoCard(_) | WheelError::NoOpenCard(_) => ErrorType::NotFound,
            WheelError::OpenCard { .. } | WheelError::Closed { .. } => ErrorType::Conflict,
            WheelError::NothingToAsk(_) | WheelError::Facts(_) => ErrorType::Execution,
            WheelError::Store(_) | WheelError::Journal(_) => ErrorType::Unavailable,
        };
        ApiError::new(t, e.to_string())
    }
}

type Api = State<Arc<Wheel>>;

pub fn router(wheel: Arc<Wheel>) -> Router {
    Router::new()
        .route("/api/wheel/spin", post(spin))
        .route("/api/wheel/answer", post(answer))
        .route("/api/wheel/escalate", post(escalate))
        .route("/api/wheel/cards", get(cards))
        .route("/api/wheel/cards/{id}", get(card))
        .route("/api/wheel/cards/{id}/check", post(check))
        .route("/api/wheel/board", get(board))
        .route("/api/wheel/templates", get(templates))
        .with_state(wheel)
}

async fn spin(
    State(w): Api,
    who: Principal,
    body: Result<axum::Json<SpinRequest>, JsonRejection>,
) -> ApiResult<Value> {
    let axum::Json(req) = body?;
    let row = w.spin(&req, &who).await?;
    Ok(success(view(&row, &who)))
}

async fn answer(
    State(w): Api,
    who: Principal,
    body: Result<axum::Json<AnswerRequest>, JsonRejection>,
) -> ApiResult<Value> {
    let axum::Json(req) = body?;
    let row = w.answer(&req, &who).await?;
    Ok(success(view(&row, &who)))
}

async fn escalate(
    State(w): Api,
    who: Principal,
    body: Result<axum::Json<EscalateRequest>, JsonRejection>,
) -> ApiResult<Value> {
    let axum::Json(req) = body?;
    let row = w.escalate(&req, &who).await?;
    Ok(success(view(&row, &who)))
}

async fn cards(
    State(w): Api,
    who: Principal,
    q: Result<Query<CardFilter>, QueryRejection>,
) -> ApiResult<Vec<Value>> {
    let Query(f) = q?;
    let rows = w.cards(&f).await?;
    Ok(success(rows.iter().map(|r| view(r, &who)).collect()))
}

/// A card with the commands its player ran while it was open.
async fn card(
    State(w): Api,
    who: Principal,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Value> {
    let Path(id) = id?;
    let row = w.card(id).await?;
    let commands: Vec<Value> = w
        .commands(&row)
        .await?
        .iter()
        .map(|e| {
            json!({
                "time": e.time,
                "command": e.attributes.get("command"),
                "method": e.attributes.get("method"),
                "path": e.attributes.get("path"),
                "query": e.attributes.get("query"),
            })
        })
        .collect();
    let mut v = view(&row, &who);
    v["commands"] = json!(commands);
    Ok(success(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    answer: String,
}

async fn check(
    State(w): Api,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
    body: Result<axum::Json<CheckRequest>, JsonRejection>,
) -> ApiResult<Value> {
    let Path(id) = id?;
    let axum::Json(req) = body?;
    let correct = w.check(id, &req.answer).await?;
    Ok(success(json!({"card": id, "correct": correct})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BoardParams {
    session: Option<i64>,
}

async fn board(State(w): Api, q: Result<Query<BoardParams>, QueryRejection>) -> ApiResult<Board> {
    let Query(p) = q?;
    Ok(success(w.board(p.session).await?))
}

async fn templates() -> ApiResult<Vec<Value>> {
    Ok(success(
        crate::template::all()
            .iter()
            .map(|t| json!({"id": t.id, "category": t.category, "summary": t.summary}))
            .collect(),
    ))
}
