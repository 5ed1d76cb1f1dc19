//! What the topology declares: for each journey and service, what losing
//! the service should do to the journey. A service reached only through
//! critical calls breaks the journey; one reached through a non-critical
//! call only degrades it; one never reached leaves it alone.

use std::collections::BTreeMap;

use lab::topology::{Endpoint, Topology, route_matches};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    Ok,
    Degraded,
    Broken,
}

impl Impact {
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::Ok => "ok",
            Impact::Degraded => "degraded",
            Impact::Broken => "broken",
        }
    }
}

/// The declared impact, and whether it only happens sometimes (a call made
/// with a probability below 1 on the way).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Expected {
    pub impact: Impact,
    pub sometimes: bool,
}

fn endpoint<'a>(t: &'a Topology, service: &str, method: &str, path: &str) -> Option<&'a Endpoint> {
    t.service(service)?
        .endpoints
        .iter()
        .find(|e| e.method.eq_ignore_ascii_case(method) && route_matches(&e.route, path))
}

/// Walks the calls from `ep`, recording the worst declared impact on each
/// service reached. `all_critical`: every call so far was critical.
fn walk(
    t: &Topology,
    ep: &Endpoint,
    all_critical: bool,
    sometimes: bool,
    depth: usize,
    out: &mut BTreeMap<String, Expected>,
) {
    if depth > 16 {
        return;
    }
    for c in &ep.calls {
        let critical = all_critical && c.critical;
        let maybe = sometimes || c.probability < 1.0;
        let impact = if critical {
            Impact::Broken
        } else {
            Impact::Degraded
        };
        let e = out.entry(c.service.clone()).or_insert(Expected {
            impact: Impact::Ok,
            sometimes: maybe,
        });
        if impact > e.impact {
            *e = Expected {
                impact,
                sometimes: maybe,
            };
        } else if impact == e.impact {
            e.sometimes &= maybe;
        }
        if let Some(next) = endpoint(t, &c.service, &c.method, &c.path) {
            walk(t, next, critical, maybe, depth + 1, out);
        }
    }
}

/// journey → service → declared impact of losing the service.
pub fn declared(t: &Topology) -> BTreeMap<String, BTreeMap<String, Expected>> {
    let mut out = BTreeMap::new();
    for j in &t.journeys {
        let mut m: BTreeMap<String, Expected> = t
            .services
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    Expected {
                        impact: Impact::Ok,
                        sometimes: false,
                    },
                )
            })
            .collect();
        m.insert(
            t.entry.clone(),
            Expected {
                impact: Impact::Broken,
                sometimes: false,
            },
        );
        for step in &j.steps {
            if let Some(ep) = endpoint(t, &t.entry, &step.method, &step.path) {
                walk(t, ep, true, false, 0, &mut m);
            }
        }
        out.insert(j.name.clone(), m);
    }
    out
}
