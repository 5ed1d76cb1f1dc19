//! Faults: ids, start delays (`after`, a duration or a range), exactly one
//! action (or variants of one action each) checked against the lab, and
//! remedies.

use std::time::Duration;

use chaos::InjectRequest;
use serde_saphyr::Spanned as S;

use super::{Ctx, Ids, events};
use crate::scenario::model::{Effect, FaultAction, FaultDef, Remedy};
use crate::scenario::raw::{ActionRef, OneOrMany, RawAction, RawFault, RawMatch, RawRemedy, Text};

const ACTIONS: &str = "release, inject, surge or config";

/// Every fault; `limit` is the time limit and where it was written.
pub(super) fn all(
    c: &mut Ctx,
    faults: &S<Vec<S<RawFault>>>,
    limit: Option<(Duration, &S<Text>)>,
) -> Vec<FaultDef> {
    if faults.value.is_empty() {
        c.at(faults, "faults", "name at least one fault");
        return Vec::new();
    }
    let mut ids = Ids::new("fault");
    let out: Vec<FaultDef> = faults
        .value
        .iter()
        .enumerate()
        .map(|(i, f)| fault(c, &mut ids, f, &format!("faults[{i}]"), limit))
        .collect();
    if !out.iter().any(|f| f.root) {
        c.at(
            faults,
            "faults",
            "at least one fault must be a root cause (root: true)",
        );
    }
    out
}

fn fault(
    c: &mut Ctx,
    ids: &mut Ids,
    f: &S<RawFault>,
    field: &str,
    limit: Option<(Duration, &S<Text>)>,
) -> FaultDef {
    let r = &f.value;
    ids.check(c, &r.id, &format!("{field}.id"));
    let title = c.non_empty(&r.title, &format!("{field}.title"));
    let (after_min, after_max) = match &r.after {
        Some(a) => after(c, a, &format!("{field}.after"), limit),
        None => (Duration::ZERO, Duration::ZERO),
    };
    let own = r.action().given();
    let mut given: Vec<&str> = own.clone();
    if r.variants.is_some() {
        given.push("variants");
    }
    let variants = match given.len() {
        0 => {
            c.at(
                f,
                field,
                format!("a fault needs an action: one of {ACTIONS}, or variants"),
            );
            Vec::new()
        }
        1 => match &r.variants {
            None => action(c, r.action(), field).into_iter().collect(),
            Some(list) => variants(c, list, &format!("{field}.variants")),
        },
        _ => {
            c.at(
                f,
                field,
                format!(
                    "a fault does exactly one of {ACTIONS}, or variants; this one has {}",
                    given.join(" and ")
                ),
            );
            Vec::new()
        }
    };
    let root = r.root.unwrap_or(true);
    if root && r.remedies.value.is_empty() {
        c.at(
            &r.remedies,
            &format!("{field}.remedies"),
            "a root fault needs at least one remedy (or root: false)",
        );
    }
    let remedies: Vec<Remedy> = r
        .remedies
        .value
        .iter()
        .enumerate()
        .map(|(i, m)| remedy(c, m, &format!("{field}.remedies[{i}]")))
        .collect();
    if let Some(v) = variants.iter().find(|v| v.service().is_none()) {
        let without = match v {
            FaultAction::Surge { .. } => "surge",
            _ => "action",
        };
        let message = format!("{{service}} names the fault's service, but its {without} has none");
        if r.title.value.contains("{service}") {
            c.at(&r.title, &format!("{field}.title"), message.clone());
        }
        for (i, m) in r.remedies.value.iter().enumerate() {
            if m.value.note.value.contains("{service}") || uses_service(&m.value) {
                c.at(m, &format!("{field}.remedies[{i}]"), message.clone());
            }
        }
    }
    FaultDef {
        id: r.id.value.clone(),
        title,
        root,
        after_min,
        after_max,
        variants,
        remedies,
    }
}

/// Whether a remedy's matchers use `{service}`.
fn uses_service(r: &RawRemedy) -> bool {
    let list: Vec<&RawMatch> = match &r.when.value {
        OneOrMany::One(m) => vec![m],
        OneOrMany::Many(l) => l.iter().map(|m| &m.value).collect(),
    };
    list.iter().any(|m| {
        m.kind.value.contains("{service}")
            || m.subject
                .as_ref()
                .is_some_and(|s| s.value.contains("{service}"))
    })
}

/// `after`: a duration, or a range `A..B` the seed draws from; it must end
/// within the time limit.
fn after(
    c: &mut Ctx,
    a: &S<Text>,
    field: &str,
    limit: Option<(Duration, &S<Text>)>,
) -> (Duration, Duration) {
    let text = a.value.0.as_str();
    let part = |s: &str| S {
        value: s.trim().to_string(),
        referenced: a.referenced,
        defined: a.defined,
    };
    let (min, max) = match text.split_once("..") {
        None => {
            let d = c.report.duration(&part(text), field);
            (d, d)
        }
        Some((lo, hi)) => {
            let lo = c.report.duration(&part(lo), field);
            let hi = c.report.duration(&part(hi), field);
            if let (Some(l), Some(h)) = (lo, hi)
                && l > h
            {
                c.at(a, field, format!("the range {text} ends before it starts"));
                return (l, l);
            }
            (lo, hi)
        }
    };
    let (Some(min), Some(max)) = (min, max) else {
        return (Duration::ZERO, Duration::ZERO);
    };
    if let Some((l, written)) = limit
        && max >= l
    {
        c.at(
            a,
            field,
            format!(
                "the fault could start at {}, not before the time limit ({}) ends the drill",
                diag::duration::format(max),
                written.value.0
            ),
        );
    }
    (min, max)
}

fn variants(c: &mut Ctx, list: &S<Vec<S<RawAction>>>, field: &str) -> Vec<FaultAction> {
    if list.value.is_empty() {
        c.at(list, field, "name at least one variant");
    }
    let mut out = Vec::new();
    for (i, v) in list.value.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let given = v.value.action().given();
        match given.len() {
            1 => out.extend(action(c, v.value.action(), &f)),
            0 => c.at(
                v,
                &f,
                format!("a variant needs an action: one of {ACTIONS}"),
            ),
            _ => c.at(
                v,
                &f,
                format!(
                    "a variant does exactly one of {ACTIONS}; this one has {}",
                    given.join(" and ")
                ),
            ),
        }
    }
    out
}

/// The one action of `a` (checked against the lab).
fn action(c: &mut Ctx, a: ActionRef<'_>, field: &str) -> Option<FaultAction> {
    if let Some(r) = a.release {
        let f = format!("{field}.release");
        if let Some(svc) = c.service(&r.value.service, &format!("{f}.service")) {
            c.version(&svc, &r.value.version, &format!("{f}.version"));
        }
        return Some(FaultAction::Release {
            service: r.value.service.value.clone(),
            version: r.value.version.value.clone(),
        });
    }
    if let Some(i) = a.inject {
        return Some(FaultAction::Inject {
            fault: inject(c, i, &format!("{field}.inject")),
        });
    }
    if let Some(s) = a.surge {
        return Some(FaultAction::Surge {
            rps: c.rps(&s.value.rps, &format!("{field}.surge.rps")),
        });
    }
    if let Some(cfg) = a.config {
        let f = format!("{field}.config");
        return Some(FaultAction::Config {
            service: cfg.value.service.value.clone(),
            set: c.config(&cfg.value.service, &cfg.value.set, &f),
        });
    }
    None
}

/// A chaos fault, planned against the lab as the fault controller will;
/// `for` is refused (a drill's fault lasts until it is remedied).
fn inject(c: &mut Ctx, i: &S<InjectRequest>, field: &str) -> InjectRequest {
    if i.value.duration.is_some() {
        c.at(
            i,
            &format!("{field}.for"),
            "`for` is refused: an injected fault lasts until it is remedied or the drill ends",
        );
    } else if let Some(topo) = &c.topo
        && let Err(e) = i.value.plan(topo)
    {
        c.at(i, field, e.to_string());
    }
    i.value.clone()
}

fn remedy(c: &mut Ctx, m: &S<RawRemedy>, field: &str) -> Remedy {
    let r = &m.value;
    let when = events::matchers(c, &r.when, &format!("{field}.when"));
    let effect = match &r.relief {
        Some(d) => match c.positive(d, &format!("{field}.relief")) {
            Some(for_) => Effect::Relief { for_ },
            None => Effect::End,
        },
        None => Effect::End,
    };
    Remedy {
        when,
        effect,
        note: c.non_empty(&r.note, &format!("{field}.note")),
    }
}
