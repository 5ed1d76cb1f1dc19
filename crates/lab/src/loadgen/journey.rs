//! Running one user journey: its steps in order against the entry service,
//! with think time between them.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::RngExt;
use rand_distr::{Distribution, Exp};

use super::metrics::{JourneyLabel, JourneyOutcome, LoadGenMetrics, StepLabels};
use crate::topology::{Journey, Step};

/// Whether a step's response counts as success.
fn accepted(step: &Step, status: u16) -> bool {
    if step.expect_status.is_empty() {
        (200..400).contains(&status)
    } else {
        step.expect_status.contains(&status)
    }
}

/// Think time drawn from an exponential distribution with the step's mean.
fn think(mean: Duration) -> Duration {
    if mean.is_zero() {
        return Duration::ZERO;
    }
    match Exp::new(1.0 / mean.as_secs_f64()) {
        Ok(d) => {
            let secs: f64 = d.sample(&mut rand::rng());
            Duration::from_secs_f64(secs.min(mean.as_secs_f64() * 10.0))
        }
        Err(_) => mean,
    }
}

/// Runs `journey`; every request goes to an entry instance chosen by `pick`.
/// Returns whether every step succeeded.
pub async fn run(
    client: &reqwest::Client,
    journey: &Journey,
    params: &BTreeMap<String, Vec<String>>,
    pick: impl Fn() -> Option<SocketAddr>,
    metrics: &LoadGenMetrics,
) -> bool {
    let mut waited = Duration::ZERO;
    let mut ok = true;
    let user = format!("user-{:08x}", rand::rng().random::<u32>());
    // One value per placeholder for the whole journey: the same product is
    // viewed, added to the cart and bought.
    let mut chosen: HashMap<String, String> = HashMap::new();
    chosen.insert("user".into(), user.clone());
    let mut fill = |template: &str| {
        crate::placeholders::fill(template, |name| {
            if let Some(v) = chosen.get(name) {
                return Some(v.clone());
            }
            let values = params.get(name).filter(|v| !v.is_empty())?;
            let v = values[rand::rng().random_range(0..values.len())].clone();
            chosen.insert(name.to_string(), v.clone());
            Some(v)
        })
    };
    let mut degraded = false;
    for (i, step) in journey.steps.iter().enumerate() {
        let Some(addr) = pick() else {
            ok = false;
            break;
        };
        let url = format!("http://{addr}{}", fill(&step.path));
        let method =
            reqwest::Method::from_bytes(step.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut req = client.request(method, url).header("x-user-id", &user);
        if let Some(body) = &step.body {
            req = req.body(fill(body));
        }
        if let Some(ct) = &step.content_type {
            req = req.header(reqwest::header::CONTENT_TYPE, ct);
        }
        let started = Instant::now();
        let status = match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                degraded |= resp
                    .headers()
                    .contains_key(crate::runtime::handler::DEGRADED_HEADER);
                // Read the body as a browser would.
                let _ = resp.bytes().await;
                Some(status)
            }
            Err(_) => None,
        };
        waited += started.elapsed();
        let code = status.map(|s| s.to_string()).unwrap_or_default();
        metrics
            .requests
            .get_or_create(&StepLabels {
                journey: journey.name.clone(),
                http_request_method: step.method.clone(),
                http_response_status_code: if code.is_empty() {
                    "error".into()
                } else {
                    code
                },
            })
            .inc();
        if !status.is_some_and(|s| accepted(step, s)) {
            ok = false;
            break;
        }
        if i + 1 < journey.steps.len() {
            tokio::time::sleep(think(step.think_time)).await;
        }
    }
    metrics
        .journeys
        .get_or_create(&JourneyOutcome {
            journey: journey.name.clone(),
            outcome: if ok { "success" } else { "failure" }.into(),
        })
        .inc();
    if ok && degraded {
        metrics
            .degraded
            .get_or_create(&JourneyLabel {
                journey: journey.name.clone(),
            })
            .inc();
    }
    metrics
        .journey_duration
        .get_or_create(&JourneyLabel {
            journey: journey.name.clone(),
        })
        .observe(waited.as_secs_f64());
    ok
}
