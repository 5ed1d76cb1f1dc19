//! The Prometheus HTTP API (`/api/v1/*`) over our store and engine, with
//! Prometheus's JSON and error shapes, so Grafana and promtool work against it.

pub mod format;
pub mod params;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{METRIC_NAME, MatchOp, Matcher, Storage};
use crate::promql::{CancelToken, Engine, QueryError};
use params::{Params, parse_duration_ms, parse_selector, parse_time};

pub use crate::promql::limits::MAX_POINTS;

/// One scrape target as `/api/v1/targets` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetStatus {
    pub discovered_labels: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub scrape_pool: String,
    pub scrape_url: String,
    pub global_url: String,
    pub last_error: String,
    /// RFC 3339.
    pub last_scrape: String,
    pub last_scrape_duration: f64,
    /// `up`, `down` or `unknown`.
    pub health: String,
    pub scrape_interval: String,
    pub scrape_timeout: String,
}

/// Metadata of a metric family, as `/api/v1/metadata` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricMetadata {
    #[serde(rename = "type")]
    pub kind: String,
    pub help: String,
    pub unit: String,
}

pub type TargetsFn = Arc<dyn Fn() -> Vec<TargetStatus> + Send + Sync>;
pub type MetadataFn = Arc<dyn Fn() -> BTreeMap<String, Vec<MetricMetadata>> + Send + Sync>;
/// The `data` of `/api/v1/status/tsdb`.
pub type StatusFn = Arc<dyn Fn() -> Value + Send + Sync>;

/// What the API serves from.
#[derive(Clone)]
pub struct PromApi {
    pub storage: Arc<dyn Storage>,
    pub engine: Engine,
    pub targets: TargetsFn,
    pub metadata: MetadataFn,
    /// Store figures for `/api/v1/status/tsdb` (404 without).
    pub tsdb_status: Option<StatusFn>,
    pub version: String,
    /// Cancelled when the server stops: queries under way are cancelled at
    /// once and answer `canceled` (none: only their deadline and their
    /// client stop them).
    pub stopping: Option<tokio_util::sync::CancellationToken>,
}

use wire::{ApiError, ErrorType};

fn bad_data(msg: impl Into<String>) -> ApiError {
    ApiError::bad_data(msg)
}

/// Prometheus's error types and statuses: 400, 503 for a timeout, 499 when
/// the client closed the connection, 422 for execution errors.
fn query_error(e: QueryError) -> ApiError {
    let t = match e.error_type() {
        "bad_data" => ErrorType::BadData,
        "timeout" => ErrorType::Timeout,
        "canceled" => ErrorType::Canceled,
        "execution" => ErrorType::Execution,
        _ => ErrorType::Internal,
    };
    ApiError::new(t, e.to_string())
}

fn ok(data: Value) -> Response {
    axum::Json(format::success(data, &[], &[])).into_response()
}

/// Merges the query string and, for POST, a form-encoded body.
fn params(query: Option<String>, headers: &HeaderMap, body: &Bytes) -> Result<Params, ApiError> {
    let mut pairs: Vec<(String, String)> = match query {
        Some(q) => serde_urlencoded::from_str(&q)
            .map_err(|e| bad_data(format!("invalid query string: {e}")))?,
        None => Vec::new(),
    };
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form && !body.is_empty() {
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|e| bad_data(format!("invalid form body: {e}")))?;
        pairs.extend(form);
    } else if !body.is_empty() {
        // Not silently ignored: parameters come in the URL or a form.
        return Err(bad_data(
            "the request body is not a form: send parameters in the URL or as Content-Type: application/x-www-form-urlencoded",
        ));
    }
    Ok(Params::from_pairs(pairs))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn time_param(p: &Params, name: &str, default: i64) -> Result<i64, ApiError> {
    match p.get(name) {
        Some(s) => {
            parse_time(s).map_err(|e| bad_data(format!("invalid parameter \"{name}\": {e}")))
        }
        None => Ok(default),
    }
}

/// Series selectors of `match[]`, or all series when none is given.
fn selectors(p: &Params) -> Result<Vec<Vec<Matcher>>, ApiError> {
    if p.all("match[]").is_empty() {
        let all =
            Matcher::new(MatchOp::Regex, METRIC_NAME, ".+").map_err(|e| bad_data(e.to_string()))?;
        return Ok(vec![vec![all]]);
    }
    p.all("match[]")
        .iter()
        .map(|s| parse_selector(s).map_err(bad_data))
        .collect()
}

impl PromApi {
    pub fn router(self) -> Router {
        Router::new()
            .route("/api/v1/query", get(query).post(query))
            .route("/api/v1/query_range", get(query_range).post(query_range))
            .route("/api/v1/series", get(series).post(series))
            .route("/api/v1/labels", get(labels).post(labels))
            .route("/api/v1/label/{name}/values", get(label_values))
            .route("/api/v1/metadata", get(metadata))
            .route("/api/v1/targets", get(targets))
            .route("/api/v1/status/buildinfo", get(buildinfo))
            .route("/api/v1/status/tsdb", get(tsdb_status))
            .route("/api/v1/query_exemplars", get(exemplars).post(exemplars))
            .with_state(Arc::new(self))
    }

    /// Runs a query on a blocking thread. The query stops at its deadline
    /// (the engine's timeout), as soon as this future is dropped (the
    /// client went away), or when the server stops (`stopping`); the answer
    /// does not wait past the deadline even if the thread is slow to notice.
    async fn run<F>(self: &Arc<Self>, f: F) -> Result<crate::promql::QueryResult, ApiError>
    where
        F: FnOnce(
                &Engine,
                &dyn Storage,
                &CancelToken,
            ) -> Result<crate::promql::QueryResult, QueryError>
            + Send
            + 'static,
    {
        let api = self.clone();
        let cancel = CancelToken::new();
        let _stop_when_dropped = cancel.cancel_on_drop();
        let token = cancel.clone();
        let job = tokio::task::spawn_blocking(move || f(&api.engine, api.storage.as_ref(), &token));
        // A little grace past the deadline for the thread's own timeout error.
        let wait = self
            .engine
            .opts
            .timeout
            .saturating_add(std::time::Duration::from_secs(1));
        let stopping = async {
            match &self.stopping {
                Some(t) => t.cancelled().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            done = tokio::time::timeout(wait, job) => match done {
                Err(_) => {
                    cancel.cancel();
                    Err(query_error(QueryError::Timeout))
                }
                Ok(joined) => joined
                    .map_err(|e| ApiError::internal(e.to_string()))?
                    .map_err(query_error),
            },
            _ = stopping => {
                cancel.cancel();
                Err(ApiError::new(
                    ErrorType::Canceled,
                    "query canceled: the server is stopping",
                ))
            }
        }
    }
}

type Api = State<Arc<PromApi>>;

async fn query(
    State(api): Api,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = params(q, &headers, &body)?;
    let expr = p
        .get("query")
        .ok_or_else(|| bad_data("invalid parameter \"query\": query is empty"))?
        .to_string();
    let t = time_param(&p, "time", now_ms())?;
    let r = api
        .run(move |e, s, c| e.instant_query_with(s, &expr, t, c))
        .await?;
    Ok(axum::Json(format::success(
        format::query_data(&r),
        &r.warnings,
        &r.infos,
    ))
    .into_response())
}

async fn query_range(
    State(api): Api,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = params(q, &headers, &body)?;
    let expr = p
        .get("query")
        .ok_or_else(|| bad_data("invalid parameter \"query\": query is empty"))?
        .to_string();
    let start = p
        .get("start")
        .ok_or_else(|| bad_data("invalid parameter \"start\": missing"))?;
    let start =
        parse_time(start).map_err(|e| bad_data(format!("invalid parameter \"start\": {e}")))?;
    let end = p
        .get("end")
        .ok_or_else(|| bad_data("invalid parameter \"end\": missing"))?;
    let end = parse_time(end).map_err(|e| bad_data(format!("invalid parameter \"end\": {e}")))?;
    if end < start {
        return Err(bad_data(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    let step = p
        .get("step")
        .ok_or_else(|| bad_data("invalid parameter \"step\": missing"))?;
    let step = parse_duration_ms(step)
        .map_err(|e| bad_data(format!("invalid parameter \"step\": {e}")))?;
    if step <= 0 {
        return Err(bad_data(
            "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    crate::promql::limits::check_resolution(start, end, step).map_err(query_error)?;
    let r = api
        .run(move |e, s, c| e.range_query_with(s, &expr, start, end, step, c))
        .await?;
    Ok(axum::Json(format::success(
        format::query_data(&r),
        &r.warnings,
        &r.infos,
    ))
    .into_response())
}

fn matching_series(api: &PromApi, p: &Params) -> Result<Vec<crate::model::Labels>, ApiError> {
    let start = time_param(p, "start", i64::MIN / 4)?;
    let end = time_param(p, "end", i64::MAX / 4)?;
    let mut out = Vec::new();
    for sel in selectors(p)? {
        let found = api
            .storage
            .series(&sel, start, end)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        out.extend(found);
    }
    out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    out.dedup();
    if let Some(limit) = p
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
    {
        out.truncate(limit);
    }
    Ok(out)
}

async fn series(
    State(api): Api,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = params(q, &headers, &body)?;
    if p.all("match[]").is_empty() {
        return Err(bad_data("no match[] parameter provided"));
    }
    let s = matching_series(&api, &p)?;
    Ok(ok(Value::Array(s.iter().map(format::labels).collect())))
}

async fn labels(
    State(api): Api,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = params(q, &headers, &body)?;
    let mut names: Vec<String> = matching_series(&api, &p)?
        .iter()
        .flat_map(|l| l.iter().map(|lb| lb.name.clone()).collect::<Vec<_>>())
        .collect();
    names.sort();
    names.dedup();
    Ok(ok(json!(names)))
}

async fn label_values(
    State(api): Api,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = params(q, &HeaderMap::new(), &Bytes::new())?;
    let valid = !name.is_empty()
        && name
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if !valid {
        return Err(bad_data(format!("invalid label name: {name:?}")));
    }
    let mut values: Vec<String> = matching_series(&api, &p)?
        .iter()
        .filter_map(|l| l.get(&name).map(str::to_string))
        .collect();
    values.sort();
    values.dedup();
    Ok(ok(json!(values)))
}

async fn metadata(State(api): Api, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let p = params(q, &HeaderMap::new(), &Bytes::new())?;
    let mut all = (api.metadata)();
    if let Some(m) = p.get("metric") {
        all.retain(|k, _| k == m);
    }
    if let Some(limit) = p
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
    {
        all = all.into_iter().take(limit).collect();
    }
    Ok(ok(serde_json::to_value(all).unwrap_or_default()))
}

async fn targets(State(api): Api, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let p = params(q, &HeaderMap::new(), &Bytes::new())?;
    let active = match p.get("state") {
        None | Some("any") | Some("active") => (api.targets)(),
        Some("dropped") => Vec::new(),
        Some(other) => return Err(bad_data(format!("invalid parameter \"state\": {other:?}"))),
    };
    Ok(ok(
        json!({ "activeTargets": active, "droppedTargets": [], "droppedTargetCounts": {} }),
    ))
}

async fn buildinfo(State(api): Api) -> Response {
    ok(json!({
        "version": api.version,
        "revision": "",
        "branch": "",
        "buildUser": "firedrill",
        "buildDate": "",
        "goVersion": "",
    }))
}

async fn tsdb_status(State(api): Api) -> Result<Response, ApiError> {
    match &api.tsdb_status {
        Some(f) => Ok(ok(f())),
        None => Err(ApiError::not_found("this server has no store status")),
    }
}

/// No exemplars are kept: the answer is empty, but its parameters are
/// checked as Prometheus checks them.
async fn exemplars(
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = params(q, &headers, &body)?;
    let expr = p
        .get("query")
        .ok_or_else(|| bad_data("invalid parameter \"query\": query is empty"))?;
    crate::promql::parse(expr)
        .map_err(|e| bad_data(format!("invalid parameter \"query\": {e}")))?;
    let start = time_param(&p, "start", 0)?;
    let end = time_param(&p, "end", now_ms())?;
    if end < start {
        return Err(bad_data(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    Ok(ok(json!([])))
}
