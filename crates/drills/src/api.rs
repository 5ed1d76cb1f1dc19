//! The drills' HTTP API (`/api/drills/*`) and who may use what
//! ([`ROUTES`]): the catalogue and a running drill's public face are
//! readable; starting, ending, the scenario's content and the hidden state
//! are the instructor's; a trainee may ask for hints; a debrief opens to
//! everyone once its drill has ended.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wire::access::{Access, RouteAccess, route};
use wire::envelope::{ApiResult, success};
use wire::{ApiError, ErrorType, Principal, Role};

use crate::DrillError;
use crate::engine::{DrillEngine, HistoryFilter, StartRequest, persist};
use crate::record::DrillRecord;
use crate::scenario::{Scenario, bundled};

pub const ROUTES: &[RouteAccess] = &[
    route("GET", "/api/drills/scenarios", Access::Read),
    route("GET", "/api/drills/scenarios/{id}", Access::Instruct),
    route("GET", "/api/drills", Access::Read),
    route("POST", "/api/drills", Access::Instruct),
    route("GET", "/api/drills/current", Access::Read),
    route("GET", "/api/drills/current/state", Access::Instruct),
    route("POST", "/api/drills/current/hint", Access::Operate),
    route("POST", "/api/drills/current/push-hint", Access::Instruct),
    route("POST", "/api/drills/current/faults", Access::Instruct),
    route("POST", "/api/drills/current/end", Access::Instruct),
    route("GET", "/api/drills/{id}", Access::Read),
    route("GET", "/api/drills/{id}/debrief", Access::Read),
];

impl From<DrillError> for ApiError {
    fn from(e: DrillError) -> Self {
        let t = match &e {
            DrillError::Scenario(_)
            | DrillError::WrongTopology { .. }
            | DrillError::Invalid(_)
            | DrillError::Chaos(chaos::ChaosError::Invalid(_))
            | DrillError::Chaos(chaos::ChaosError::OutsideLab(_)) => ErrorType::BadData,
            DrillError::UnknownScenario(_) | DrillError::NoDrill(_) | DrillError::NotRunning => {
                ErrorType::NotFound
            }
            DrillError::AlreadyRunning(_) | DrillError::NoMoreHints => ErrorType::Conflict,
            DrillError::Lab(_) | DrillError::Chaos(_) | DrillError::Query(_) => {
                ErrorType::Execution
            }
            DrillError::Store(_) | DrillError::Journal(_) => ErrorType::Unavailable,
        };
        ApiError::new(t, e.to_string())
    }
}

/// A catalogue entry: what `drill list` shows (nothing of the answer).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogueEntry {
    pub id: String,
    pub title: String,
    pub topology: String,
    pub difficulty: u8,
    pub skills: Vec<String>,
    pub typical_s: f64,
    pub time_limit_s: f64,
    pub shadow: bool,
}

impl From<&Scenario> for CatalogueEntry {
    fn from(s: &Scenario) -> Self {
        CatalogueEntry {
            id: s.id.clone(),
            title: s.title.clone(),
            topology: s.topology.clone(),
            difficulty: s.difficulty,
            skills: s.skills.clone(),
            typical_s: s.typical.as_secs_f64(),
            time_limit_s: s.time_limit.as_secs_f64(),
            shadow: s.shadow,
        }
    }
}

/// What everyone may see of a drill: who, which scenario, the briefing,
/// the clock and the hints used; never faults, objectives or remedies.
pub fn public_view(r: &DrillRecord) -> Value {
    let now = chrono::Utc::now();
    let end = r.ended.unwrap_or(now);
    json!({
        "id": r.id,
        "scenario": r.scenario.id,
        "title": r.scenario.title,
        "topology": r.scenario.topology,
        "difficulty": r.scenario.difficulty,
        "trainee": r.trainee,
        "shadow": r.shadow,
        "seed": r.seed,
        "scale": r.scale,
        "briefing": r.scenario.briefing,
        "started": r.started,
        "ended": r.ended,
        "outcome": r.outcome,
        "running": r.running(),
        "time_limit_s": r.scenario.time_limit.as_secs_f64(),
        "elapsed_s": (end - r.started).num_milliseconds() as f64 / 1000.0,
        "hints_taken": r.state.hints_taken,
        "hints_available": r.plan.hints.len(),
        "hints_cost": r.state.hints_cost,
    })
}

type Api = State<Arc<DrillEngine>>;

pub fn router(engine: Arc<DrillEngine>) -> Router {
    Router::new()
        .route("/api/drills/scenarios", get(catalogue))
        .route("/api/drills/scenarios/{id}", get(scenario))
        .route("/api/drills", get(history).post(start))
        .route("/api/drills/current", get(current))
        .route("/api/drills/current/state", get(state))
        .route("/api/drills/current/hint", post(hint))
        .route("/api/drills/current/push-hint", post(push_hint))
        .route("/api/drills/current/faults", post(inject))
        .route("/api/drills/current/end", post(end))
        .route("/api/drills/{id}", get(one))
        .route("/api/drills/{id}/debrief", get(debrief))
        .with_state(engine)
}

async fn catalogue() -> ApiResult<Vec<CatalogueEntry>> {
    Ok(success(
        bundled::all().iter().map(CatalogueEntry::from).collect(),
    ))
}

async fn scenario(Path(id): Path<String>) -> ApiResult<Scenario> {
    bundled::find(&id)
        .map(success)
        .ok_or_else(|| DrillError::UnknownScenario(id).into())
}

async fn start(
    State(e): Api,
    body: Result<axum::Json<StartRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Value> {
    let axum::Json(req) = body?;
    let scenario = match &req.text {
        Some(text) => crate::scenario::parse(text, &req.scenario).map_err(DrillError::from)?,
        None => bundled::find(&req.scenario)
            .ok_or_else(|| DrillError::UnknownScenario(req.scenario.clone()))?,
    };
    let r = e.start(&scenario, &req).await?;
    Ok(success(public_view(&r)))
}

async fn current(State(e): Api) -> ApiResult<Value> {
    let r = e.current().await.ok_or(DrillError::NotRunning)?;
    Ok(success(public_view(&r)))
}

/// The hidden state, with each objective's live value: `drill watch`.
async fn state(State(e): Api) -> ApiResult<DrillRecord> {
    let r = e.current().await.ok_or(DrillError::NotRunning)?;
    Ok(success(r))
}

async fn hint(State(e): Api, who: Principal) -> ApiResult<Value> {
    let (index, h) = e.hint(&who.name, false).await?;
    Ok(success(
        json!({"index": index, "text": h.text, "cost": h.cost}),
    ))
}

async fn push_hint(State(e): Api, who: Principal) -> ApiResult<Value> {
    let (index, h) = e.hint(&who.name, true).await?;
    Ok(success(
        json!({"index": index, "text": h.text, "cost": h.cost}),
    ))
}

async fn inject(
    State(e): Api,
    who: Principal,
    body: Result<axum::Json<chaos::InjectRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Value> {
    let axum::Json(req) = body?;
    let id = e.inject_extra(req, &who.name).await?;
    Ok(success(json!({"fault": id})))
}

async fn end(State(e): Api, who: Principal) -> ApiResult<Value> {
    let r = e.end(&who.name).await?;
    Ok(success(public_view(&r)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryParams {
    trainee: Option<String>,
    scenario: Option<String>,
    limit: Option<i64>,
    /// `json` (default) or `text` (the table of `drill history`).
    format: Option<String>,
}

async fn history(
    State(e): Api,
    q: Result<Query<HistoryParams>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let Query(p) = q?;
    let rows = persist::list(
        e.db(),
        &HistoryFilter {
            trainee: p.trainee,
            scenario: p.scenario,
            limit: p.limit,
        },
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(crate::report::history_row(&e, r).await);
    }
    match p.format.as_deref() {
        None | Some("json") => Ok(success(out).into_response()),
        Some("text") => Ok(crate::report::history_text(&out).into_response()),
        Some(other) => Err(ApiError::bad_data(format!(
            "format {other:?}: use json or text"
        ))),
    }
}

async fn one(State(e): Api, Path(id): Path<i64>) -> ApiResult<Value> {
    let r = persist::get(e.db(), id).await?;
    Ok(success(public_view(&r)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DebriefParams {
    /// `json` (default), `text` or `html`.
    format: Option<String>,
}

/// The debrief reveals the answer: only instructors while the drill runs.
async fn debrief(
    State(e): Api,
    who: Principal,
    Path(id): Path<i64>,
    q: Result<Query<DebriefParams>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let Query(p) = q?;
    let r = persist::get(e.db(), id).await?;
    let r = match e.current().await {
        Some(cur) if cur.id == id => cur,
        _ => r,
    };
    if r.running() && who.role < Role::Instructor {
        return Err(ApiError::forbidden(
            "the debrief opens when the drill ends (it reveals the fault)",
        ));
    }
    let d = crate::report::debrief(&e, &r).await?;
    match p.format.as_deref() {
        None | Some("json") => Ok(success(d).into_response()),
        Some("html") => {
            let html = crate::report::debrief_html(&e, &r, &d).await?;
            Ok((
                [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response())
        }
        Some("text") => Ok(crate::report::debrief_text(&d).into_response()),
        Some(other) => Err(ApiError::bad_data(format!(
            "format {other:?}: use json, text or html"
        ))),
    }
}
