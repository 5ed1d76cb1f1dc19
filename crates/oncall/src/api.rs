//! The on-call HTTP API: `/api/oncall/*` (who, schedule, calendar,
//! reports), `/api/pages`, `/api/tickets`; [`ROUTES`] says who may use
//! each (the binary's guard enforces it).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::OnCallError;
use crate::pages::{AlertGroup, OnCall, PageFilter};
use crate::schedule::MAX_RANGE;

use wire::access::{Access, RouteAccess, route};
use wire::{ApiError, ErrorType, Principal, Role};

/// The on-call routes and who may use them: reads are open, acting on pages
/// and tickets is operating the lab; opening a page by hand is the
/// instructor's (a drill's).
pub const ROUTES: &[RouteAccess] = &[
    route("GET", "/api/oncall/who", Access::Read),
    route("GET", "/api/oncall/schedule", Access::Read),
    route("GET", "/api/oncall/calendar.ics", Access::Read),
    route("GET", "/api/oncall/people", Access::Read),
    route("GET", "/api/oncall/reports/handoff", Access::Read),
    route("GET", "/api/oncall/reports/load", Access::Read),
    route("GET", "/api/pages", Access::Read),
    route("GET", "/api/pages/{id}", Access::Read),
    route("GET", "/api/tickets", Access::Read),
    route("POST", "/api/pages", Access::Instruct),
    route("POST", "/api/pages/{id}/{action}", Access::Operate),
    route("POST", "/api/tickets/{id}/{action}", Access::Operate),
];

impl From<OnCallError> for ApiError {
    fn from(e: OnCallError) -> Self {
        let t = match &e {
            OnCallError::NoPage(_) | OnCallError::NoTicket(_) => ErrorType::NotFound,
            OnCallError::UnknownPerson(_) | OnCallError::Invalid(_) => ErrorType::BadData,
            OnCallError::Forbidden(_) => ErrorType::Forbidden,
            OnCallError::Conflict(_) => ErrorType::Conflict,
            OnCallError::Store(_) | OnCallError::Sql(_) => ErrorType::Unavailable,
        };
        ApiError::new(t, e.to_string())
    }
}

/// Who acts: an instructor may act for anyone (`by`); anyone else acts as
/// themselves.
fn acting(who: &Principal, by: Option<String>) -> Result<Option<String>, ApiError> {
    if who.role >= Role::Instructor {
        return Ok(by);
    }
    match by {
        Some(b) if b != who.name => Err(ApiError::forbidden(format!(
            "{} may act on pages only as themselves, not as {b:?}",
            who.name
        ))),
        _ => Ok(Some(who.name.clone())),
    }
}

type ApiResult = wire::envelope::ApiResult<Value>;
type Api = State<Arc<OnCall>>;

fn ok(v: impl serde::Serialize) -> ApiResult {
    Ok(wire::success(serde_json::to_value(v).unwrap_or_default()))
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_data(msg)
}

#[derive(Deserialize, Default)]
struct Range {
    at: Option<DateTime<Utc>>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    person: Option<String>,
}

impl Range {
    /// `[from, to)`, by default `default` long from now.
    fn bounds(
        &self,
        now: DateTime<Utc>,
        default: Duration,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
        let from = self.from.unwrap_or(now);
        let to = self.to.unwrap_or(from + default);
        if to <= from {
            return Err(bad("`to` must be after `from`"));
        }
        if to - from > MAX_RANGE {
            return Err(bad(format!(
                "a range spans at most {} days",
                MAX_RANGE.num_days()
            )));
        }
        Ok((from, to))
    }
}

async fn who(State(o): Api, Query(q): Query<Range>) -> ApiResult {
    let at = q.at.unwrap_or_else(|| o.now());
    let drill = o.override_at(at);
    ok(json!({
        "at": at,
        "on_call": crate::roster::who(&o.config, at, drill.as_ref()),
        "drill": drill,
    }))
}

async fn schedule(State(o): Api, Query(q): Query<Range>) -> ApiResult {
    let (from, to) = q.bounds(o.now(), Duration::days(7))?;
    ok(crate::roster::shifts(
        &o.config,
        from,
        to,
        q.person.as_deref(),
    ))
}

async fn ics(State(o): Api, Query(q): Query<Range>) -> Result<Response, ApiError> {
    let now = o.now();
    let (from, to) = q.bounds(now, Duration::days(28))?;
    let shifts = crate::roster::whole_shifts(&o.config, from, to, q.person.as_deref());
    let body = crate::ics::export(&o.config, &shifts, now);
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response())
}

async fn people(State(o): Api) -> ApiResult {
    let people: Vec<Value> = o
        .config
        .people
        .iter()
        .map(|p| {
            json!({
                "handle": p.handle,
                "name": p.name,
                "contacts": p.contacts,
                "apprentice_of": o.config.shadows.iter().filter(|s| s.apprentice == p.handle).map(|s| &s.mentor).collect::<Vec<_>>(),
            })
        })
        .collect();
    let policies: Vec<Value> = o
        .config
        .policies
        .iter()
        .map(|p| json!({"name": p.name, "repeat": p.repeat, "steps": p.steps.iter().map(|s| json!({"targets": s.targets, "escalate_after_seconds": s.escalate_after.as_secs()})).collect::<Vec<_>>()}))
        .collect();
    ok(
        json!({"people": people, "escalation_policies": policies, "pager": {"escalation_policy": o.config.pager.policy, "auto_resolve": o.config.pager.auto_resolve}}),
    )
}

impl Range {
    /// A report's range: `[from, to)`, by default the `default` up to now.
    fn past(
        &self,
        now: DateTime<Utc>,
        default: Duration,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
        Range {
            from: Some(self.from.unwrap_or(now - default)),
            to: Some(self.to.unwrap_or(now)),
            ..Default::default()
        }
        .bounds(now, default)
    }
}

async fn handoff(State(o): Api, Query(q): Query<Range>) -> ApiResult {
    let (from, to) = q.past(o.now(), Duration::days(1))?;
    ok(o.handoff(from, to).await?)
}

async fn load(State(o): Api, Query(q): Query<Range>) -> ApiResult {
    let (from, to) = q.past(o.now(), Duration::days(7))?;
    ok(o.load(from, to).await?)
}

#[derive(Deserialize)]
struct PagesQuery {
    status: Option<String>,
    person: Option<String>,
    since: Option<DateTime<Utc>>,
    limit: Option<i64>,
}

async fn pages(State(o): Api, Query(q): Query<PagesQuery>) -> ApiResult {
    if let Some(s) = &q.status
        && !["open", "all", "triggered", "acknowledged", "resolved"].contains(&s.as_str())
    {
        return Err(bad(format!(
            "unknown status {s:?}: open, triggered, acknowledged, resolved or all"
        )));
    }
    ok(o.pages(&PageFilter {
        status: Some(q.status.unwrap_or_else(|| "open".into())),
        person: q.person,
        since: q.since,
        limit: q.limit,
    })
    .await?)
}

async fn page(State(o): Api, Path(id): Path<i64>) -> ApiResult {
    let p = o.page(id).await?;
    let timeline = o.timeline(id).await?;
    let notes: Vec<&store::Event> = timeline.iter().filter(|e| e.kind == "page.noted").collect();
    ok(json!({"page": p, "notes": notes, "timeline": timeline}))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Act {
    by: Option<String>,
    to: Option<String>,
    #[serde(rename = "for")]
    for_: Option<String>,
    text: Option<String>,
}

async fn act(
    State(o): Api,
    who: Principal,
    Path((id, action)): Path<(i64, String)>,
    body: Option<Json<Act>>,
) -> ApiResult {
    let mut a = body.map(|b| b.0).unwrap_or_default();
    let by = acting(&who, a.by.take())?;
    let by = by.as_deref();
    match action.as_str() {
        "acknowledge" | "ack" => ok(o.acknowledge(id, by).await?),
        "resolve" => ok(o.resolve(id, by).await?),
        "snooze" => {
            let text = a
                .for_
                .ok_or_else(|| bad("snooze needs `for` (e.g. \"10m\")"))?;
            let d = alerting::rules::file::parse_duration(&text).map_err(bad)?;
            ok(o.snooze(id, by, d).await?)
        }
        "reassign" => {
            let to =
                a.to.ok_or_else(|| bad("reassign needs `to` (a person's handle)"))?;
            ok(o.reassign(id, by, &to).await?)
        }
        "notes" | "note" => {
            let text = a.text.ok_or_else(|| bad("a note needs `text`"))?;
            ok(o.note(id, by, &text).await?)
        }
        other => Err(ApiError::not_found(format!(
            "no page action {other:?}: acknowledge, resolve, snooze, reassign or notes"
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPage {
    title: String,
    #[serde(default)]
    summary: String,
    /// Pages with the same key while open are one page.
    group_key: Option<String>,
}

/// A page opened by hand (an instructor, a drill): same path as an alert.
async fn open_page(State(o): Api, Json(n): Json<NewPage>) -> ApiResult {
    if n.title.trim().is_empty() {
        return Err(bad("a page needs a title"));
    }
    let key = n.group_key.unwrap_or_else(|| format!("manual:{}", n.title));
    let (p, created) = o
        .trigger(&AlertGroup {
            group_key: key,
            title: n.title,
            summary: n.summary,
            labels: json!({}),
            firing: 1,
        })
        .await?;
    ok(json!({"page": p, "created": created}))
}

#[derive(Deserialize)]
struct TicketsQuery {
    status: Option<String>,
}

async fn tickets(State(o): Api, Query(q): Query<TicketsQuery>) -> ApiResult {
    let status = q.status.as_deref().unwrap_or("open");
    if !["open", "closed", "all"].contains(&status) {
        return Err(bad(format!(
            "unknown status {status:?}: open, closed or all"
        )));
    }
    ok(o.tickets(Some(status)).await?)
}

async fn ticket_act(
    State(o): Api,
    who: Principal,
    Path((id, action)): Path<(i64, String)>,
    body: Option<Json<Act>>,
) -> ApiResult {
    let mut a = body.map(|b| b.0).unwrap_or_default();
    let by = acting(&who, a.by.take())?;
    match action.as_str() {
        "assign" => {
            let to =
                a.to.ok_or_else(|| bad("assign needs `to` (a person's handle)"))?;
            ok(o.assign_ticket(id, by.as_deref(), &to).await?)
        }
        "close" => ok(o.close_ticket(id, by.as_deref()).await?),
        other => Err(ApiError::not_found(format!(
            "no ticket action {other:?}: assign or close"
        ))),
    }
}

/// Every on-call route; [`ROUTES`] says who may use each.
pub fn router(oncall: Arc<OnCall>) -> Router {
    read_router(oncall.clone()).merge(write_router(oncall))
}

/// Reads.
pub fn read_router(oncall: Arc<OnCall>) -> Router {
    Router::new()
        .route("/api/oncall/who", get(who))
        .route("/api/oncall/schedule", get(schedule))
        .route("/api/oncall/calendar.ics", get(ics))
        .route("/api/oncall/people", get(people))
        .route("/api/oncall/reports/handoff", get(handoff))
        .route("/api/oncall/reports/load", get(load))
        .route("/api/pages", get(pages))
        .route("/api/pages/{id}", get(page))
        .route("/api/tickets", get(tickets))
        .with_state(oncall)
}

/// Writes: the binary guards these with the lab token.
pub fn write_router(oncall: Arc<OnCall>) -> Router {
    Router::new()
        .route("/api/pages", post(open_page))
        .route("/api/pages/{id}/{action}", post(act))
        .route("/api/tickets/{id}/{action}", post(ticket_act))
        .with_state(oncall)
}
