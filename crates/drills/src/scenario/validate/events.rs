//! Event matchers (remedies, wrong operations, journal objectives): kinds
//! of the journal's catalogue (`wire::kinds`), subjects naming the lab's
//! services, attribute conditions, actors.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_saphyr::Spanned as S;

use super::Ctx;
use crate::scenario::model::{Actor, Cond, EventMatch};
use crate::scenario::raw::{OneOrMany, RawMatch};

/// One matcher; `default_actor` when it names none.
pub(super) fn matcher(
    c: &mut Ctx,
    m: &S<RawMatch>,
    field: &str,
    default_actor: Option<Actor>,
) -> EventMatch {
    build(c, &m.value, field, default_actor)
}

/// The `when` of a remedy: one matcher or a non-empty list of them.
pub(super) fn matchers(c: &mut Ctx, when: &S<OneOrMany<RawMatch>>, field: &str) -> Vec<EventMatch> {
    match &when.value {
        OneOrMany::One(m) => vec![build(c, m, field, None)],
        OneOrMany::Many(list) => {
            if list.is_empty() {
                c.at(when, field, "a remedy needs at least one matcher");
            }
            list.iter()
                .enumerate()
                .map(|(i, m)| matcher(c, m, &format!("{field}[{i}]"), None))
                .collect()
        }
    }
}

fn build(c: &mut Ctx, m: &RawMatch, field: &str, default_actor: Option<Actor>) -> EventMatch {
    kind(c, &m.kind, &format!("{field}.kind"));
    if let Some(s) = &m.subject {
        subject(c, &m.kind.value, s, &format!("{field}.subject"));
    }
    let mut attrs = BTreeMap::new();
    if let Some(a) = &m.attrs {
        for (path, v) in &a.value.0 {
            let f = format!("{field}.attrs.{}", path.value);
            if let Some(cond) = cond(c, v, &f) {
                attrs.insert(path.value.clone(), cond);
            }
        }
    }
    let actor = match &m.actor {
        Some(a) => c.actor(a, &format!("{field}.actor")),
        None => default_actor.unwrap_or_default(),
    };
    EventMatch {
        kind: m.kind.value.clone(),
        subject: m.subject.as_ref().map(|s| s.value.clone()),
        attrs,
        actor,
    }
}

impl Ctx {
    /// An actor; `shadow` only in a shadow drill.
    pub(super) fn actor(&mut self, a: &S<Actor>, field: &str) -> Actor {
        if a.value == Actor::Shadow && !self.shadow {
            self.at(
                a,
                field,
                "actor shadow is only for shadow drills (shadow: true)",
            );
        }
        a.value
    }
}

/// A kind of the catalogue, or a family (`page.`) with at least one kind.
fn kind(c: &mut Ctx, k: &S<String>, field: &str) {
    let known = wire::kinds::KINDS;
    let name = k.value.as_str();
    if let Some(family) = name.strip_suffix('.') {
        if family.is_empty() || !known.iter().any(|x| x.kind.starts_with(name)) {
            c.at(
                k,
                field,
                format!(
                    "no event kind starts with {name:?} (families: {})",
                    families().join(", ")
                ),
            );
        }
        return;
    }
    if known.iter().any(|x| x.kind == name) {
        return;
    }
    let family = name.split('.').next().unwrap_or("");
    let siblings: Vec<&str> = known
        .iter()
        .filter(|x| x.kind.split('.').next() == Some(family))
        .map(|x| x.kind)
        .collect();
    let message = if siblings.is_empty() {
        format!(
            "unknown event kind {name:?} (families: {}; docs/events.md lists every kind)",
            families().join(", ")
        )
    } else {
        format!(
            "unknown event kind {name:?} (kinds of {family}.: {})",
            siblings.join(", ")
        )
    };
    c.at(k, field, message);
}

/// `lab.`, `instance.`, … in catalogue order.
fn families() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in wire::kinds::KINDS {
        let f = format!("{}.", k.kind.split('.').next().unwrap_or(""));
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// A subject that names a service (kinds whose subject is `service` or
/// `service/index`) must name one of the lab's, unless it is a pattern.
fn subject(c: &mut Ctx, kind: &str, s: &S<String>, field: &str) {
    let Some(k) = wire::kinds::KINDS.iter().find(|k| k.kind == kind) else {
        return;
    };
    let service = match k.subject {
        "service" => s.value.as_str(),
        "service/index" => s.value.split('/').next().unwrap_or(""),
        _ => return,
    };
    if service.contains(['*', '{']) {
        return;
    }
    let named = S {
        value: service.to_string(),
        referenced: s.referenced,
        defined: s.defined,
    };
    c.service(&named, field);
}

/// `value` (equals) or `{equals, gte, lte}`; bounds are numbers or
/// durations (as seconds).
fn cond(c: &mut Ctx, v: &S<Value>, field: &str) -> Option<Cond> {
    let Value::Object(map) = &v.value else {
        return Some(Cond {
            equals: Some(v.value.clone()),
            ..Cond::default()
        });
    };
    if map.is_empty() {
        c.at(v, field, "a condition has equals, gte or lte");
        return None;
    }
    let mut out = Cond::default();
    for (key, x) in map {
        match key.as_str() {
            "equals" => out.equals = Some(x.clone()),
            "gte" | "lte" => {
                let Some(n) = bound(x) else {
                    c.at(
                        v,
                        &format!("{field}.{key}"),
                        format!("{x} is not a number or a duration"),
                    );
                    return None;
                };
                if key == "gte" {
                    out.gte = Some(n);
                } else {
                    out.lte = Some(n);
                }
            }
            other => {
                c.at(
                    v,
                    field,
                    format!("a condition has equals, gte or lte, not {other:?}"),
                );
                return None;
            }
        }
    }
    Some(out)
}

fn bound(x: &Value) -> Option<f64> {
    match x {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s
            .parse::<f64>()
            .ok()
            .or_else(|| diag::duration::parse(s).ok().map(|d| d.as_secs_f64())),
        _ => None,
    }
    .filter(|n| n.is_finite())
}
