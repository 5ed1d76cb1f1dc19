//! Serving one endpoint: admission (concurrency limit), the version's
//! behaviour, the declared work, downstream calls with fallbacks, the
//! response, and its metrics, span and log line.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rand::RngExt;
use serde_json::{Value, json};

use super::calls::{self, CallOutcome};
use super::faults::{self, Action};
use super::render::{self, Part};
use super::slack::{self, EventRequest};
use super::state::{Instance, lock};
use super::trace::{Span, TraceContext};
use super::work;
use crate::placeholders;
use crate::topology::{Call, Endpoint, Fallback, Handler};

/// Set on a response that a fallback made incomplete (here or downstream).
pub const DEGRADED_HEADER: &str = "x-firedrill-degraded";

/// What the handler answers before the bookkeeping.
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
    error: Option<String>,
    /// A fallback stood in for a failed call, here or downstream.
    degraded: bool,
}

impl Answer {
    fn json(status: u16, v: Value) -> Self {
        let error = (status >= 400).then(|| {
            v.get("error")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        });
        Answer {
            status,
            content_type: "application/json",
            body: v.to_string(),
            error,
            degraded: false,
        }
    }

    fn error(status: u16, msg: impl Into<String>) -> Self {
        Answer::json(status, json!({ "error": msg.into() }))
    }
}

/// One request under way on an instance; counted out when dropped.
struct InFlight<'a>(&'a Instance);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.metrics.in_flight.dec();
    }
}

/// Entry point for a request matched to endpoint `ep_index`.
pub async fn serve(
    inst: Arc<Instance>,
    ep_index: usize,
    params: Vec<(String, String)>,
    path: String,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let start_us = chrono::Utc::now().timestamp_micros();
    let ep = &inst.service.endpoints[ep_index];
    let ctx = TraceContext::from_header(headers.get("traceparent").and_then(|v| v.to_str().ok()));
    let fault = inst.faults.on_request(&ep.route);
    if let Some(Action::Delay(d)) = &fault {
        tokio::time::sleep(*d).await;
    }
    let in_flight = inst.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    inst.metrics.in_flight.inc();
    // Counted out however the request ends: a caller that times out drops
    // this future mid-work, and a count left behind would refuse every
    // request once it reached the concurrency limit.
    let counted = InFlight(&inst);
    let limit = inst.config().concurrency_limit;
    let answer = if let Some(Action::Error(status)) = fault {
        Answer::error(status, "injected fault")
    } else if let Some(Action::Blackhole) = fault {
        tokio::time::sleep(inst.faults.blackhole_for()).await;
        Answer::error(503, "blackholed")
    } else if limit > 0 && in_flight > limit {
        inst.metrics.rejected.inc();
        Answer::error(
            503,
            format!("overloaded: concurrency limit {limit} reached"),
        )
    } else {
        let params: HashMap<String, String> = params.into_iter().collect();
        work_and_answer(&inst, ep, &path, params, body, &ctx).await
    };
    drop(counted);

    let secs = started.elapsed().as_secs_f64();
    inst.metrics
        .observe_server(&ep.route, &ep.method, answer.status, secs);
    inst.spans.record(Span {
        trace_id: ctx.trace_id.clone(),
        span_id: ctx.span_id.clone(),
        parent_span_id: ctx.parent_span_id.clone(),
        kind: "server",
        service: inst.service.name.clone(),
        instance: inst.name.clone(),
        name: format!("{} {}", ep.method, ep.route),
        start: start_us,
        duration_ms: secs * 1000.0,
        status: answer.status,
        error: answer.error.clone(),
    });
    let level = if answer.status >= 500 {
        "error"
    } else {
        "info"
    };
    let mut fields = vec![
        ("method", json!(ep.method)),
        ("route", json!(ep.route)),
        ("path", json!(path)),
        ("status", json!(answer.status)),
        ("duration_ms", json!((secs * 1e6).round() / 1e3)),
        ("span_id", json!(ctx.span_id)),
    ];
    if let Some(e) = &answer.error {
        fields.push(("error", json!(e)));
    }
    inst.log.write(level, "request", &ctx.trace_id, &fields);

    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let degraded = answer.degraded;
    let mut resp = match fault.and_then(|f| faults::body(f, answer.body.clone())) {
        Some(body) => (status, body).into_response(),
        None => (status, answer.body).into_response(),
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(answer.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("00-{}-{}-01", ctx.trace_id, ctx.span_id)) {
        h.insert("traceresponse", v);
    }
    if let Ok(v) = HeaderValue::from_str(&ctx.trace_id) {
        h.insert("x-trace-id", v);
    }
    if degraded {
        h.insert(DEGRADED_HEADER, HeaderValue::from_static("1"));
    }
    resp
}

async fn work_and_answer(
    inst: &Instance,
    ep: &Endpoint,
    path: &str,
    mut params: HashMap<String, String>,
    body: Bytes,
    ctx: &TraceContext,
) -> Answer {
    let affected = inst.profile_applies(&ep.route);
    let profile = &inst.profile;

    // Protocol handling that answers before any work.
    let mut command_fields = None;
    match ep.handler {
        Handler::SlackEvents => match slack::parse_event(&body) {
            Ok(EventRequest::Challenge(c)) => return Answer::json(200, json!({ "challenge": c })),
            Ok(EventRequest::Event { event_type }) => {
                params.insert("event".into(), event_type);
            }
            Err(e) => return Answer::error(400, e),
        },
        Handler::SlashCommand => match slack::parse_command(&body) {
            Ok(fields) => {
                if let Some(c) = fields.get("command") {
                    params.insert("command".into(), c.trim_start_matches('/').to_string());
                }
                command_fields = Some(fields);
            }
            Err(e) => return Answer::error(400, e),
        },
        _ => {}
    }

    // The declared work: waiting and CPU, plus the version's extra latency.
    let mut wait = work::sample(&ep.latency);
    if affected
        && let Some(extra) = &profile.extra_latency
        && rand::rng().random_bool(profile.slow_fraction.clamp(0.0, 1.0))
    {
        wait += work::sample(extra);
    }
    // Tokio's timer has 1 ms granularity: sleeping for zero would still wait
    // for the next tick, so only sleep for real waits.
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    let factor = if affected && profile.cpu_factor > 0.0 {
        profile.cpu_factor
    } else {
        1.0
    };
    work::burn_cpu_async(ep.cpu.mul_f64(factor)).await;
    if profile.leak_bytes_per_request > 0 {
        let n = profile.leak_bytes_per_request as usize;
        lock(&inst.leak).push(vec![0xA5; n]);
        inst.metrics.leaked_bytes.inc_by(n as i64);
    }

    // The version's bug: fails a share of requests.
    if affected
        && profile.error_rate > 0.0
        && rand::rng().random_bool(profile.error_rate.clamp(0.0, 1.0))
    {
        let status = if profile.error_status >= 400 {
            profile.error_status
        } else {
            500
        };
        return Answer::error(
            status,
            format!(
                "{} {} failed (injected by version {})",
                inst.service.name, ep.route, inst.version
            ),
        );
    }

    // Queue handlers work on this instance's own queue.
    match ep.handler {
        Handler::QueuePush => {
            let depth = {
                let mut q = lock(&inst.queue);
                q.push_back(body.clone());
                q.len()
            };
            inst.metrics.queue_depth.set(depth as i64);
            return Answer::json(202, json!({ "queued": true, "depth": depth }));
        }
        Handler::QueuePop => {
            let (job, depth) = {
                let mut q = lock(&inst.queue);
                let job = q.pop_front();
                (job, q.len())
            };
            inst.metrics.queue_depth.set(depth as i64);
            return match job {
                Some(j) => Answer {
                    status: 200,
                    content_type: "application/json",
                    body: String::from_utf8_lossy(&j).into_owned(),
                    error: None,
                    degraded: false,
                },
                None => Answer {
                    status: 204,
                    content_type: "application/json",
                    body: String::new(),
                    error: None,
                    degraded: false,
                },
            };
        }
        _ => {}
    }

    // Downstream calls.
    let forward = (!body.is_empty()).then(|| body.clone());
    let outcomes = run_calls(inst, &ep.calls, ep.parallel_calls, &params, forward, ctx).await;
    let mut parts = Vec::new();
    let mut degraded = false;
    for (call, outcome) in &outcomes {
        let Some(outcome) = outcome else { continue };
        degraded |= outcome.degraded;
        if outcome.ok() {
            let content =
                render::summarize(&call.service, outcome.body.as_deref().unwrap_or_default());
            parts.push(Part {
                service: call.service.clone(),
                content,
                fallback: false,
            });
            continue;
        }
        match (&call.fallback, call.critical) {
            (Some(Fallback::Omit), false) => degraded = true,
            (Some(Fallback::Static(v)), false) => {
                degraded = true;
                parts.push(Part {
                    service: call.service.clone(),
                    content: v.clone(),
                    fallback: true,
                })
            }
            _ => {
                let status = outcome.caller_status();
                return Answer::error(
                    status,
                    format!(
                        "{} call to {} failed: {}",
                        if call.critical {
                            "critical"
                        } else {
                            "unguarded"
                        },
                        call.service,
                        outcome.error.as_deref().unwrap_or("error")
                    ),
                );
            }
        }
    }

    // The response.
    if let Some(fields) = command_fields {
        let detail = parts
            .iter()
            .map(|p| p.content.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let mut a = Answer::json(200, slack::command_reply(&fields, &detail));
        a.degraded = degraded;
        return a;
    }
    if ep.content_type.starts_with("text/html") {
        Answer {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: render::html(inst, ep, path, &parts),
            error: None,
            degraded,
        }
    } else {
        let extra = (ep.handler == Handler::SlackEvents).then(|| json!({ "ok": true }));
        Answer {
            status: 200,
            content_type: "application/json",
            body: render::json_body(inst, ep, path, &parts, extra),
            error: None,
            degraded,
        }
    }
}

/// Makes the calls (in order, or all at once), skipping those whose
/// probability says not this time; `None` marks a skipped call.
pub async fn run_calls<'a>(
    inst: &Instance,
    calls: &'a [Call],
    parallel: bool,
    params: &HashMap<String, String>,
    body: Option<Bytes>,
    ctx: &TraceContext,
) -> Vec<(&'a Call, Option<CallOutcome>)> {
    let planned: Vec<(&Call, Option<String>)> = calls
        .iter()
        .map(|c| {
            let go = c.probability >= 1.0 || rand::rng().random_bool(c.probability.clamp(0.0, 1.0));
            let path = go.then(|| {
                placeholders::fill(&c.path, |name| {
                    params.get(name).cloned().or_else(|| inst.param(name))
                })
            });
            (c, path)
        })
        .collect();
    let send_body = |c: &Call| {
        if c.method.eq_ignore_ascii_case("GET") {
            None
        } else {
            body.clone()
        }
    };
    if parallel {
        let futs = planned.iter().map(|(c, path)| {
            let b = send_body(c);
            async move {
                match path {
                    Some(p) => Some(calls::perform(inst, c, p, b, ctx).await),
                    None => None,
                }
            }
        });
        let results = futures_util::future::join_all(futs).await;
        planned.iter().map(|(c, _)| *c).zip(results).collect()
    } else {
        let mut out = Vec::with_capacity(planned.len());
        for (c, path) in &planned {
            let r = match path {
                Some(p) => {
                    let r = calls::perform(inst, c, p, send_body(c), ctx).await;
                    let stop = !r.ok() && (c.critical || c.fallback.is_none());
                    out.push((*c, Some(r)));
                    if stop {
                        // A failed critical call ends the request: later calls are not made.
                        return out;
                    }
                    continue;
                }
                None => None,
            };
            out.push((*c, r));
        }
        out
    }
}
