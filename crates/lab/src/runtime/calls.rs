//! Downstream calls: pick an instance, send with a timeout, retry with
//! exponential backoff and jitter, record metrics, spans and health.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::RngExt;
use serde_json::json;

use super::balancer::Transition;
use super::faults::Action;
use super::state::Instance;
use super::trace::{Span, TraceContext, new_span_id};
use crate::topology::Call;

/// The result of a call after its retries.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    pub status: Option<u16>,
    pub body: Option<Bytes>,
    /// `timeout`, `connection_refused`, `no_instances`, `connection_error`,
    /// or `http_<status>` for an error response.
    pub error: Option<String>,
    pub attempts: u32,
    /// The answer came back marked degraded (a fallback downstream).
    pub degraded: bool,
}

impl CallOutcome {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// The status a caller answers with when this critical call failed.
    pub fn caller_status(&self) -> u16 {
        match self.error.as_deref() {
            Some("timeout") => 504,
            Some("no_instances") | Some("connection_refused") => 503,
            _ => match self.status {
                Some(s) if (400..500).contains(&s) && s != 429 => 502,
                _ => 500,
            },
        }
    }
}

fn error_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        return "timeout";
    }
    if e.is_connect() {
        let mut src: Option<&dyn std::error::Error> = Some(e);
        while let Some(s) = src {
            if let Some(io) = s.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::ConnectionRefused
            {
                return "connection_refused";
            }
            src = s.source();
        }
        return "connection_error";
    }
    "connection_error"
}

fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(8));
    exp.mul_f64(rand::rng().random_range(0.5..1.5))
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Makes `call` to `path` within trace `ctx`, from span `parent`.
pub async fn perform(
    inst: &Instance,
    call: &Call,
    path: &str,
    body: Option<Bytes>,
    ctx: &TraceContext,
) -> CallOutcome {
    let cfg = inst.config();
    let timeout = cfg.timeout(&call.service, call.timeout);
    let retries = cfg.retries(&call.service, call.retries);
    let method =
        reqwest::Method::from_bytes(call.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut out = CallOutcome {
        status: None,
        body: None,
        error: None,
        attempts: 0,
        degraded: false,
    };
    for attempt in 0..=retries {
        if attempt > 0 {
            tokio::time::sleep(backoff(call.backoff, attempt - 1)).await;
        }
        out.attempts = attempt + 1;
        let Some(addr) = inst
            .balancer
            .pick(&call.service, cfg.panic_threshold_percent)
        else {
            inst.metrics
                .observe_client(&call.service, Err("no_instances"), 0.0);
            out.status = None;
            out.error = Some("no_instances".into());
            continue;
        };
        let span_id = new_span_id();
        let started = Instant::now();
        let start_us = now_micros();
        let mut req = inst
            .http
            .request(method.clone(), format!("http://{addr}{path}"))
            .timeout(timeout)
            .header("traceparent", ctx.header_for(&span_id));
        if let Some(b) = &body {
            req = req.body(b.clone());
        }
        let fault = inst.faults.on_call(&call.service);
        let result = send(req, fault, timeout).await;
        let secs = started.elapsed().as_secs_f64();
        let (status, error) = match &result {
            Ok((s, _, _)) => {
                inst.metrics.observe_client(&call.service, Ok(*s), secs);
                (Some(*s), (*s >= 400).then(|| format!("http_{s}")))
            }
            Err(kind) => {
                inst.metrics.observe_client(&call.service, Err(kind), secs);
                (None, Some((*kind).to_string()))
            }
        };
        inst.spans.record(Span {
            trace_id: ctx.trace_id.clone(),
            span_id,
            parent_span_id: Some(ctx.span_id.clone()),
            kind: "client",
            service: inst.service.name.clone(),
            instance: inst.name.clone(),
            name: format!("call {} {} {}", call.service, call.method, path),
            start: start_us,
            duration_ms: secs * 1000.0,
            status: status.unwrap_or(0),
            error: error.clone(),
        });
        health_report(
            inst,
            &call.service,
            addr,
            error.is_some() && status.is_none_or(|s| s >= 500),
            &ctx.trace_id,
        );
        out.status = status;
        out.error = error;
        if let Ok((_, b, degraded)) = result {
            out.degraded = degraded;
            out.body = Some(b);
        }
        let retryable = match out.status {
            None => true,
            Some(s) => s >= 500 || s == 429,
        };
        if out.ok() || !retryable {
            break;
        }
    }
    if let Some(e) = &out.error {
        inst.log.write(
            "warn",
            "downstream call failed",
            &ctx.trace_id,
            &[
                ("server", json!(call.service)),
                ("path", json!(path)),
                ("error", json!(e)),
                ("attempts", json!(out.attempts)),
                ("critical", json!(call.critical)),
            ],
        );
    }
    out
}

/// Sends one attempt, through a client-side fault on this edge if any.
async fn send(
    req: reqwest::RequestBuilder,
    fault: Option<Action>,
    timeout: Duration,
) -> Result<(u16, Bytes, bool), &'static str> {
    async fn plain(req: reqwest::RequestBuilder) -> Result<(u16, Bytes, bool), &'static str> {
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let degraded = resp.headers().contains_key(super::handler::DEGRADED_HEADER);
                match resp.bytes().await {
                    Ok(b) => Ok((status, b, degraded)),
                    Err(e) => Err(error_kind(&e)),
                }
            }
            Err(e) => Err(error_kind(&e)),
        }
    }
    match fault {
        None => plain(req).await,
        Some(Action::Error(s)) => Ok((
            s,
            Bytes::from(serde_json::json!({ "error": super::handler::plain_error(s) }).to_string()),
            false,
        )),
        Some(Action::Refuse) => Err("connection_refused"),
        Some(Action::Blackhole) => {
            tokio::time::sleep(timeout).await;
            Err("timeout")
        }
        Some(Action::Delay(d)) | Some(Action::SlowBody(d)) if d >= timeout => {
            tokio::time::sleep(timeout).await;
            Err("timeout")
        }
        Some(Action::Delay(d)) => {
            tokio::time::sleep(d).await;
            plain(req.timeout(timeout - d)).await
        }
        Some(Action::SlowBody(d)) => {
            let r = plain(req).await;
            tokio::time::sleep(d).await;
            r
        }
        Some(Action::Reset) => {
            let _ = plain(req).await;
            Err("connection_error")
        }
    }
}

/// Passive health: failed calls count towards ejection, successes reset it.
fn health_report(inst: &Instance, service: &str, addr: SocketAddr, failed: bool, trace_id: &str) {
    let t = if failed {
        let eject_after = inst.config().eject_after_failures;
        inst.balancer.report_failure(service, addr, eject_after)
    } else {
        inst.balancer.report_success(service, addr);
        Transition::None
    };
    if t == Transition::Ejected {
        note_transition(inst, service, addr, t, "calls failing", trace_id);
    }
}

/// Logs and counts an ejection or a restoration.
pub fn note_transition(
    inst: &Instance,
    service: &str,
    addr: SocketAddr,
    t: Transition,
    why: &str,
    trace_id: &str,
) {
    let msg = match t {
        Transition::Ejected => {
            inst.metrics
                .ejections
                .get_or_create(&super::metrics::UpstreamLabels {
                    server: service.to_string(),
                })
                .inc();
            "upstream instance ejected"
        }
        Transition::Restored => "upstream instance restored",
        Transition::None => return,
    };
    inst.log.write(
        "warn",
        msg,
        trace_id,
        &[
            ("server", json!(service)),
            ("upstream", json!(addr.to_string())),
            ("reason", json!(why)),
        ],
    );
}
