//! `journeys`: what simulated users do, step by step, through the entry service.

use std::collections::HashMap;
use std::time::Duration;

use super::ctx::Ctx;
use super::{METHODS, matching_endpoints};
use crate::placeholders;
use crate::topology::model::*;
use crate::topology::raw::*;

/// All journeys; a lab needs at least one.
pub(super) fn journeys(
    ctx: &mut Ctx,
    raw: &RawTopology,
    services: &[Service],
    entry: Option<usize>,
) -> Vec<Journey> {
    let js = match &raw.journeys {
        Some(js) if !js.value.is_empty() => js,
        Some(js) => {
            ctx.at(
                &js.referenced,
                "journeys",
                "no journeys: add at least one so the lab gets user traffic",
            );
            return Vec::new();
        }
        None => {
            ctx.at(
                &raw.name.referenced,
                "journeys",
                "no journeys: add a `journeys:` list so the lab gets user traffic",
            );
            return Vec::new();
        }
    };
    let entry = entry.map(|e| &services[e]);
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut journeys = Vec::new();
    for (i, rj) in js.value.iter().enumerate() {
        let j = &rj.value;
        let f = format!("journeys[{i}]");
        if let Some(prev) = seen.insert(&j.name.value, i) {
            ctx.at(
                &j.name.referenced,
                format!("{f}.name"),
                format!(
                    "duplicate journey name {:?} (also journeys[{prev}])",
                    j.name.value
                ),
            );
        }
        journeys.push(journey(ctx, &f, j, entry, raw));
    }
    journeys
}

/// `journeys[i]`.
fn journey(
    ctx: &mut Ctx,
    f: &str,
    j: &RawJourney,
    entry: Option<&Service>,
    raw: &RawTopology,
) -> Journey {
    ctx.name(&j.name, &format!("{f}.name"));
    let weight = match &j.weight {
        Some(w) if !(w.value > 0.0 && w.value.is_finite()) => {
            ctx.at(
                &w.referenced,
                format!("{f}.weight"),
                format!("weight {} must be more than 0", w.value),
            );
            1.0
        }
        Some(w) => w.value,
        None => 1.0,
    };
    if j.steps.value.is_empty() {
        ctx.at(
            &j.steps.referenced,
            format!("{f}.steps"),
            "a journey needs at least one step",
        );
    }
    let steps = j
        .steps
        .value
        .iter()
        .enumerate()
        .map(|(k, st)| step(ctx, &format!("{f}.steps[{k}]"), st, entry, raw))
        .collect();
    Journey {
        name: j.name.value.clone(),
        weight,
        steps,
    }
}

/// `steps[k]`: served by the entry service, placeholders with values.
fn step(
    ctx: &mut Ctx,
    sf: &str,
    rst: &S<RawStep>,
    entry: Option<&Service>,
    raw: &RawTopology,
) -> Step {
    let st = &rst.value;
    let method = ctx.method(&st.method, &format!("{sf}.method"));
    ctx.path(&st.path, &format!("{sf}.path"), "path");
    let checkable = st.path.value.starts_with('/') && METHODS.contains(&method.as_str());
    if let (Some(svc), true) = (entry, checkable) {
        let matched = matching_endpoints(svc, &method, &st.path.value);
        if matched.is_empty() {
            ctx.at(
                &st.path.referenced,
                format!("{sf}.path"),
                format!(
                    "the entry service {} does not serve {method} {}",
                    svc.name, st.path.value
                ),
            );
        }
        for name in placeholders::names(&st.path.value) {
            let is_route_param = matched
                .iter()
                .any(|e| e.route.split('/').any(|seg| seg == format!("{{{name}}}")));
            if !raw.params.contains_key(name) && !is_route_param {
                ctx.at(
                    &st.path.referenced,
                    format!("{sf}.path"),
                    format!(
                        "placeholder {{{name}}} has no values: add `params: {{{name}: [...]}}`"
                    ),
                );
            }
        }
    }
    let think_time = ctx.duration_or(&st.think_time, &format!("{sf}.think_time"), Duration::ZERO);
    for (n, code) in st.expect_status.iter().enumerate() {
        if !(100..=599).contains(code) {
            ctx.at(
                &rst.referenced,
                format!("{sf}.expect_status[{n}]"),
                format!("{code} is not an HTTP status"),
            );
        }
    }
    Step {
        method,
        path: st.path.value.clone(),
        body: st.body.clone(),
        content_type: st.content_type.clone(),
        think_time,
        expect_status: st.expect_status.clone(),
    }
}
