//! Where? Logs, addresses, processes, the slowest and busiest instances,
//! where a trace spent its time, which route errs most.

use drills::plan::Rng;

use super::{Template, instance_answer, pick, top};
use crate::answer::Answer;
use crate::card::{Category::Where, Draft};
use crate::facts::{Facts, Instance, Service, queries};

pub(super) const TEMPLATES: &[Template] = &[
    Template {
        id: "where.logs",
        category: Where,
        summary: "Where are INSTANCE's request logs?",
        generate: logs,
    },
    Template {
        id: "where.slowest-instance",
        category: Where,
        summary: "Which instance of SERVICE is slowest (p99 over 5 minutes)?",
        generate: slowest_instance,
    },
    Template {
        id: "where.busiest-instance",
        category: Where,
        summary: "Which instance of SERVICE serves the most requests (5 minutes)?",
        generate: busiest_instance,
    },
    Template {
        id: "where.addr",
        category: Where,
        summary: "On which address does INSTANCE listen?",
        generate: addr,
    },
    Template {
        id: "where.port-owner",
        category: Where,
        summary: "Which instance listens on port PORT?",
        generate: port_owner,
    },
    Template {
        id: "where.trace-slowest-call",
        category: Where,
        summary: "In trace ID, the call to which service took longest?",
        generate: trace_slowest_call,
    },
    Template {
        id: "where.trace-services",
        category: Where,
        summary: "Which services did trace ID pass through?",
        generate: trace_services,
    },
    Template {
        id: "where.route-errs-most",
        category: Where,
        summary: "Which route of SERVICE errs most over the last 5 minutes (none if none)?",
        generate: route_errs_most,
    },
    Template {
        id: "where.most-memory",
        category: Where,
        summary: "Which instance of the lab uses the most resident memory?",
        generate: most_memory,
    },
    Template {
        id: "where.pid",
        category: Where,
        summary: "Which process id runs INSTANCE?",
        generate: pid,
    },
    Template {
        id: "where.slowest-route",
        category: Where,
        summary: "Which route of SERVICE is slowest (p99 over 5 minutes)?",
        generate: slowest_route,
    },
];

fn an_instance<'a>(f: &'a Facts, rng: &mut Rng) -> Option<(&'a Service, &'a Instance)> {
    let all: Vec<(&Service, &Instance)> = f
        .services
        .iter()
        .flat_map(|s| s.instances.iter().map(move |i| (s, i)))
        .collect();
    pick(rng, &all).copied()
}

fn logs(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let (s, i) = an_instance(f, rng)?;
    let file = format!("{}-{}.jsonl", s.name, i.index);
    let dir = f.logs_dir.trim_end_matches('/');
    Some(Draft {
        question: format!(
            "Where are {}/{}'s request logs (the file)?",
            s.name, i.index
        ),
        service: Some(s.name.clone()),
        truth: Answer::name_or(
            format!("{dir}/{file}"),
            vec![format!("logs/{file}"), file.clone()],
        ),
        how: format!("ls DATA_DIR/logs   # JSON lines per instance: {file}"),
    })
}

/// A service with two instances or more among `samples`, and the top one.
fn top_instance(
    f: &Facts,
    rng: &mut Rng,
    samples: &[crate::facts::Sample],
) -> Option<(String, String)> {
    let mut jobs: Vec<&str> = samples.iter().map(|s| s.job.as_str()).collect();
    jobs.sort();
    jobs.dedup();
    let several: Vec<&str> = jobs
        .iter()
        .copied()
        .filter(|j| samples.iter().filter(|s| s.job == *j).count() >= 2)
        .collect();
    // A service of several instances makes the better question.
    let job = if several.is_empty() {
        *pick(rng, &jobs)?
    } else {
        *pick(rng, &several)?
    };
    let best = top(samples.iter().filter(|s| s.job == job))?;
    f.instance_name(&best.key)?;
    Some((job.to_string(), best.key.clone()))
}

fn slowest_instance(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let (job, addr) = top_instance(f, rng, &f.metrics.instance_p99)?;
    Some(Draft {
        question: format!(
            "Which instance of {job} is slowest (p99 latency over the last 5 minutes)?"
        ),
        service: Some(job.clone()),
        truth: instance_answer(f, &addr)?,
        how: format!(
            "firedrill query '{}'",
            queries::INSTANCE_P99.replace("_bucket[5m]", &format!("_bucket{{job=\"{job}\"}}[5m]"))
        ),
    })
}

fn busiest_instance(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let (job, addr) = top_instance(f, rng, &f.metrics.instance_rps)?;
    Some(Draft {
        question: format!(
            "Which instance of {job} serves the most requests (over the last 5 minutes)?"
        ),
        service: Some(job.clone()),
        truth: instance_answer(f, &addr)?,
        how: format!(
            "firedrill query 'sum by (instance) (rate(http_server_request_duration_seconds_count{{job=\"{job}\"}}[5m]))'"
        ),
    })
}

fn addr(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let (s, i) = an_instance(f, rng)?;
    let port = i.addr.rsplit(':').next().unwrap_or_default().to_string();
    Some(Draft {
        question: format!("On which address does {}/{} listen?", s.name, i.index),
        service: Some(s.name.clone()),
        truth: Answer::name_or(i.addr.clone(), vec![port]),
        how: "firedrill status".into(),
    })
}

fn port_owner(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let (s, i) = an_instance(f, rng)?;
    let port = i.addr.rsplit(':').next()?;
    Some(Draft {
        question: format!("Which instance listens on port {port}?"),
        service: Some(s.name.clone()),
        truth: Answer::name(format!("{}/{}", s.name, i.index)),
        how: "firedrill status".into(),
    })
}

/// The service a client span called: `call cart GET /cart/{user}`.
fn called(name: &str) -> Option<&str> {
    name.strip_prefix("call ")?.split_whitespace().next()
}

fn trace_slowest_call(f: &Facts, _: &mut Rng) -> Option<Draft> {
    let t = f.trace.as_ref()?;
    let slowest = t
        .spans
        .iter()
        .filter(|s| s.kind == "client" && called(&s.name).is_some())
        .fold(None, |best: Option<&crate::facts::Span>, s| match best {
            Some(b) if b.duration_ms >= s.duration_ms => Some(b),
            _ => Some(s),
        })?;
    let svc = called(&slowest.name)?.to_string();
    Some(Draft {
        question: format!("In trace {}, the call to which service took longest?", t.id),
        service: Some(svc.clone()),
        truth: Answer::name(svc),
        how: format!("firedrill trace {}", t.id),
    })
}

fn trace_services(f: &Facts, _: &mut Rng) -> Option<Draft> {
    let t = f.trace.as_ref()?;
    Some(Draft {
        question: format!("Which services did trace {} pass through?", t.id),
        service: None,
        truth: Answer::set(t.spans.iter().map(|s| s.service.clone())),
        how: format!("firedrill trace {}", t.id),
    })
}

fn routes_of<'a>(f: &'a Facts, rng: &mut Rng) -> Option<&'a str> {
    let mut jobs: Vec<&str> = f.metrics.route_p99.iter().map(|s| s.job.as_str()).collect();
    jobs.sort();
    jobs.dedup();
    let several: Vec<&str> = jobs
        .iter()
        .copied()
        .filter(|j| f.metrics.route_p99.iter().filter(|s| s.job == *j).count() >= 2)
        .collect();
    // A service of several routes makes the better question.
    if several.is_empty() {
        pick(rng, &jobs).copied()
    } else {
        pick(rng, &several).copied()
    }
}

fn route_errs_most(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let job = routes_of(f, rng)?;
    let worst = top(f
        .metrics
        .route_errors
        .iter()
        .filter(|s| s.job == job && s.value > 0.0));
    Some(Draft {
        question: format!(
            "Which route of {job} errs most (share of 5xx answers over the last 5 minutes; none if none errs)?"
        ),
        service: Some(job.to_string()),
        truth: Answer::name(
            worst
                .map(|s| s.key.clone())
                .unwrap_or_else(|| "none".into()),
        ),
        how: format!(
            "firedrill query '{}'",
            queries::ROUTE_ERRORS.replace("_count{", &format!("_count{{job=\"{job}\","))
        ),
    })
}

fn most_memory(f: &Facts, _: &mut Rng) -> Option<Draft> {
    let best = top(f
        .metrics
        .instance_memory
        .iter()
        .filter(|s| f.instance_name(&s.key).is_some()))?;
    Some(Draft {
        question: "Which instance of the lab uses the most resident memory?".into(),
        service: Some(best.job.clone()),
        truth: instance_answer(f, &best.key)?,
        how: format!("firedrill query 'topk(1, {})'", queries::INSTANCE_MEMORY),
    })
}

fn pid(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let (s, i) = an_instance(f, rng)?;
    Some(Draft {
        question: format!("Which process id runs {}/{}?", s.name, i.index),
        service: Some(s.name.clone()),
        truth: Answer::number(i.pid? as f64, 0.0, ""),
        how: "firedrill status --output json   # or: ps -ef | grep __instance".into(),
    })
}

fn slowest_route(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let job = routes_of(f, rng)?;
    let best = top(f.metrics.route_p99.iter().filter(|s| s.job == job))?;
    Some(Draft {
        question: format!("Which route of {job} is slowest (p99 latency over the last 5 minutes)?"),
        service: Some(job.to_string()),
        truth: Answer::name(best.key.clone()),
        how: format!(
            "firedrill query '{}'",
            queries::ROUTE_P99.replace("_bucket[5m]", &format!("_bucket{{job=\"{job}\"}}[5m]"))
        ),
    })
}
