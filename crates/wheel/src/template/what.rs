//! What? Calls and their settings, versions, latency and rates, alerts.

use drills::plan::Rng;

use super::{Template, pick};
use crate::answer::Answer;
use crate::card::{Category::What, Draft};
use crate::facts::{Call, Endpoint, Facts, Service, queries};

pub(super) const TEMPLATES: &[Template] = &[
    Template {
        id: "what.calls",
        category: What,
        summary: "What does SERVICE call when serving METHOD PATH?",
        generate: calls,
    },
    Template {
        id: "what.critical-calls",
        category: What,
        summary: "Which calls of SERVICE METHOD PATH are critical?",
        generate: critical_calls,
    },
    Template {
        id: "what.version",
        category: What,
        summary: "What version is SERVICE running?",
        generate: version,
    },
    Template {
        id: "what.versions",
        category: What,
        summary: "Which versions of SERVICE can be deployed?",
        generate: versions,
    },
    Template {
        id: "what.p99-route",
        category: What,
        summary: "What is the p99 latency of SERVICE ROUTE over the last 5 minutes, in ms (±30%)?",
        generate: p99_route,
    },
    Template {
        id: "what.rps",
        category: What,
        summary: "How many requests per second does SERVICE serve (5-minute rate, ±30%)?",
        generate: rps,
    },
    Template {
        id: "what.fires-when-down",
        category: What,
        summary: "Which alert rules fire when every instance of SERVICE is down?",
        generate: fires_when_down,
    },
    Template {
        id: "what.timeout",
        category: What,
        summary: "What is the timeout of SERVICE's call to DOWNSTREAM, in ms?",
        generate: timeout,
    },
    Template {
        id: "what.retries",
        category: What,
        summary: "How many times does SERVICE retry its call to DOWNSTREAM?",
        generate: retries,
    },
    Template {
        id: "what.journey-needs",
        category: What,
        summary: "Which services does the JOURNEY journey need (a failure of any fails it)?",
        generate: journey_needs,
    },
    Template {
        id: "what.firing",
        category: What,
        summary: "Which alerts are firing right now?",
        generate: firing,
    },
    Template {
        id: "what.instances",
        category: What,
        summary: "How many instances of SERVICE are running?",
        generate: instances,
    },
];

/// A service with an endpoint that calls something, and that endpoint.
fn calling_endpoint<'a>(f: &'a Facts, rng: &mut Rng) -> Option<(&'a Service, &'a Endpoint)> {
    let eps: Vec<(&Service, &Endpoint)> = f
        .services
        .iter()
        .flat_map(|s| s.endpoints.iter().map(move |e| (s, e)))
        .filter(|(_, e)| !e.calls.is_empty())
        .collect();
    pick(rng, &eps).copied()
}

fn a_call<'a>(f: &'a Facts, rng: &mut Rng) -> Option<(&'a Service, &'a Call)> {
    let calls: Vec<(&Service, &Call)> = f
        .services
        .iter()
        .flat_map(|s| {
            s.endpoints
                .iter()
                .flat_map(move |e| e.calls.iter().map(move |c| (s, c)))
        })
        .collect();
    pick(rng, &calls).copied()
}

fn calls(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let (s, e) = calling_endpoint(f, rng)?;
    Some(Draft {
        question: format!(
            "What does {} call when serving {} {}?",
            s.name, e.method, e.path
        ),
        service: Some(s.name.clone()),
        truth: Answer::set(e.calls.iter().map(|c| c.service.clone())),
        how: "firedrill topology show".into(),
    })
}

fn critical_calls(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let (s, e) = calling_endpoint(f, rng)?;
    Some(Draft {
        question: format!(
            "Which of the services {} calls when serving {} {} are critical calls (none if none)?",
            s.name, e.method, e.path
        ),
        service: Some(s.name.clone()),
        truth: Answer::set(
            e.calls
                .iter()
                .filter(|c| c.critical)
                .map(|c| c.service.clone()),
        ),
        how: "firedrill topology show".into(),
    })
}

fn version(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let s = pick(rng, &f.services)?;
    Some(Draft {
        question: format!("What version is {} running?", s.name),
        service: Some(s.name.clone()),
        truth: Answer::name(s.version.clone()),
        how: "firedrill status".into(),
    })
}

fn versions(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let s = pick(rng, &f.services)?;
    if s.versions.is_empty() {
        return None;
    }
    Some(Draft {
        question: format!("Which versions of {} can be deployed?", s.name),
        service: Some(s.name.clone()),
        truth: Answer::set(s.versions.clone()),
        how: "firedrill status --output json   # or: firedrill topology show".into(),
    })
}

fn p99_route(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let s = pick(rng, &f.metrics.route_p99)?;
    let ms = s.value * 1000.0;
    Some(Draft {
        question: format!(
            "What is the p99 latency of {} {} over the last 5 minutes, in ms?",
            s.job, s.key
        ),
        service: Some(s.job.clone()),
        truth: Answer::number(ms, (ms * 0.3).max(5.0), "ms"),
        how: format!(
            "firedrill query '{}'",
            queries::ROUTE_P99.replace(
                "rate(http_server_request_duration_seconds_bucket[5m])",
                &format!(
                    "rate(http_server_request_duration_seconds_bucket{{job=\"{}\",http_route=\"{}\"}}[5m])",
                    s.job, s.key
                )
            )
        ),
    })
}

fn rps(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let s = pick(rng, &f.metrics.service_rps)?;
    Some(Draft {
        question: format!(
            "How many requests per second does {} serve (rate over the last 5 minutes)?",
            s.job
        ),
        service: Some(s.job.clone()),
        truth: Answer::number(s.value, (s.value * 0.3).max(0.5), "req/s"),
        how: format!(
            "firedrill query 'sum(rate(http_server_request_duration_seconds_count{{job=\"{}\"}}[5m]))'",
            s.job
        ),
    })
}

fn fires_when_down(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    if f.alert_rules.is_empty() {
        return None;
    }
    let s = pick(rng, &f.services)?;
    let journeys = f.journeys_needing(&s.name);
    let mut names: Vec<String> = f
        .alert_rules
        .iter()
        .filter(|r| {
            let instance_rule = r.query.contains("up{") && r.query.contains("== 0");
            let burns = r.slo.as_ref().is_some_and(|id| {
                id.contains("availability")
                    && f.metrics
                        .slo_journeys
                        .iter()
                        .any(|(slo, j)| slo == id && journeys.contains(j))
            });
            instance_rule || burns
        })
        .map(|r| r.name.clone())
        .collect();
    names.sort();
    names.dedup();
    Some(Draft {
        question: format!(
            "Which alert rules fire when every instance of {} is down (name each once)?",
            s.name
        ),
        service: Some(s.name.clone()),
        truth: Answer::set(names),
        how: "firedrill alerts; GET /api/v1/rules (instance rules, and the availability SLOs of the journeys that need it: firedrill topology show)".into(),
    })
}

fn timeout(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let (s, c) = a_call(f, rng)?;
    Some(Draft {
        question: format!(
            "What is the timeout of {}'s call to {} {} {}, in ms?",
            s.name, c.service, c.method, c.path
        ),
        service: Some(s.name.clone()),
        truth: Answer::number(c.timeout_ms, 0.0, "ms"),
        how: "firedrill topology show".into(),
    })
}

fn retries(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let (s, c) = a_call(f, rng)?;
    Some(Draft {
        question: format!(
            "How many times does {} retry a failed call to {} {} {}?",
            s.name, c.service, c.method, c.path
        ),
        service: Some(s.name.clone()),
        truth: Answer::number(c.retries as f64, 0.0, ""),
        how: "firedrill topology show".into(),
    })
}

fn journey_needs(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let j = pick(rng, &f.journeys)?;
    let mut needed: Vec<String> = j
        .steps
        .iter()
        .flat_map(|(m, p)| f.needs(&f.entry, m, p))
        .collect();
    needed.sort();
    needed.dedup();
    Some(Draft {
        question: format!(
            "Which services does the {} journey need (a failure of any of them fails it)?",
            j.name
        ),
        service: None,
        truth: Answer::set(needed),
        how: "firedrill topology show   # follow the journey's steps through calls without a fallback".into(),
    })
}

fn firing(f: &Facts, _: &mut Rng) -> Option<Draft> {
    if f.alert_rules.is_empty() {
        return None;
    }
    Some(Draft {
        question: "Which alerts are firing right now (none if none)?".into(),
        service: None,
        truth: Answer::set(f.firing.clone()),
        how: "firedrill alerts".into(),
    })
}

fn instances(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let s = pick(rng, &f.services)?;
    Some(Draft {
        question: format!("How many instances of {} are running?", s.name),
        service: Some(s.name.clone()),
        truth: Answer::number(s.instances.len() as f64, 0.0, ""),
        how: "firedrill status".into(),
    })
}
