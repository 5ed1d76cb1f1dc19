//! Objectives: a PromQL condition held for a while (parsed now, with its
//! `{{.window}}` filled) or a journal event; unique ids; actors.

use std::time::Duration;

use serde_saphyr::Spanned as S;

use super::{Ctx, Ids, events};
use crate::scenario::model::{Actor, Check, Objective, fill_window};
use crate::scenario::raw::RawObjective;

/// The default `window` of a query objective.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

pub(super) fn all(c: &mut Ctx, list: &S<Vec<S<RawObjective>>>) -> Vec<Objective> {
    if list.value.is_empty() {
        c.at(list, "objectives", "name at least one objective");
    }
    let mut ids = Ids::new("objective");
    list.value
        .iter()
        .enumerate()
        .filter_map(|(i, o)| objective(c, &mut ids, o, &format!("objectives[{i}]")))
        .collect()
}

fn objective(c: &mut Ctx, ids: &mut Ids, o: &S<RawObjective>, field: &str) -> Option<Objective> {
    let r = &o.value;
    ids.check(c, &r.id, &format!("{field}.id"));
    let title = c.non_empty(&r.title, &format!("{field}.title"));
    let actor = r
        .actor
        .as_ref()
        .map(|a| c.actor(a, &format!("{field}.actor")));
    let check = match (&r.query, &r.event) {
        (Some(q), None) => query(c, r, q, field)?,
        (None, Some(e)) => {
            let query_only: Vec<&str> = [
                ("op", r.op.is_some()),
                ("threshold", r.threshold.is_some()),
                ("hold", r.hold.is_some()),
                ("window", r.window.is_some()),
            ]
            .into_iter()
            .filter_map(|(n, on)| on.then_some(n))
            .collect();
            if !query_only.is_empty() {
                c.at(
                    o,
                    field,
                    format!(
                        "{} belong to query objectives, not to an event objective",
                        query_only.join(", ")
                    ),
                );
            }
            Check::Journal {
                event: events::matcher(
                    c,
                    e,
                    &format!("{field}.event"),
                    Some(actor.unwrap_or(Actor::Trainee)),
                ),
            }
        }
        _ => {
            c.at(
                o,
                field,
                "an objective has either query (a PromQL condition) or event (a journal event)",
            );
            return None;
        }
    };
    let actor = actor.unwrap_or(match check {
        Check::Query { .. } => Actor::Anyone,
        Check::Journal { .. } => Actor::Trainee,
    });
    Some(Objective {
        id: r.id.value.clone(),
        title,
        check,
        actor,
    })
}

fn query(c: &mut Ctx, r: &RawObjective, q: &S<String>, field: &str) -> Option<Check> {
    let missing: Vec<&str> = [
        ("op", r.op.is_none()),
        ("threshold", r.threshold.is_none()),
        ("hold", r.hold.is_none()),
    ]
    .into_iter()
    .filter_map(|(n, absent)| absent.then_some(n))
    .collect();
    if !missing.is_empty() {
        c.at(
            q,
            field,
            format!(
                "a query objective needs op (>=, <=, > or <), threshold and hold; missing: {}",
                missing.join(", ")
            ),
        );
    }
    let window = c.positive_or(
        r.window.as_ref(),
        &format!("{field}.window"),
        DEFAULT_WINDOW,
    );
    let hold = match &r.hold {
        Some(h) => c.duration(h, &format!("{field}.hold")).unwrap_or_default(),
        None => Duration::ZERO,
    };
    let threshold = r.threshold.as_ref().map(|t| t.value).unwrap_or_default();
    if let Some(t) = &r.threshold
        && !t.value.is_finite()
    {
        c.at(
            t,
            &format!("{field}.threshold"),
            "the threshold is a finite number",
        );
    }
    let expr = q.value.clone();
    let filled = fill_window(&expr, window);
    if let Err(e) = telemetry::promql::parse(&filled) {
        let why = e.to_string();
        let why = why
            .strip_prefix("invalid parameter \"query\": ")
            .unwrap_or(&why)
            .to_string();
        c.at(
            q,
            &format!("{field}.query"),
            format!("not valid PromQL: {why}"),
        );
    }
    let op = r.op.as_ref()?.value;
    r.threshold.as_ref()?;
    r.hold.as_ref()?;
    Some(Check::Query {
        expr,
        op,
        threshold,
        hold,
        window,
    })
}
