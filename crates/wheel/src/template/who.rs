//! Who? People on call, pages, shadows, and who depends on whom.

use drills::plan::Rng;

use super::{Template, pick};
use crate::answer::Answer;
use crate::card::{Category::Who, Draft};
use crate::facts::Facts;

pub(super) const TEMPLATES: &[Template] = &[
    Template {
        id: "who.oncall-primary",
        category: Who,
        summary: "Who is on call (primary) for SERVICE right now?",
        generate: oncall_primary,
    },
    Template {
        id: "who.oncall-secondary",
        category: Who,
        summary: "Who is the secondary on call right now?",
        generate: oncall_secondary,
    },
    Template {
        id: "who.next-primary",
        category: Who,
        summary: "Who takes the primary pager at the next handover?",
        generate: next_primary,
    },
    Template {
        id: "who.last-ack",
        category: Who,
        summary: "Who acknowledged the most recent acknowledged page?",
        generate: last_ack,
    },
    Template {
        id: "who.last-page-assignee",
        category: Who,
        summary: "Who is responsible for the latest page?",
        generate: last_page_assignee,
    },
    Template {
        id: "who.shadows-whom",
        category: Who,
        summary: "Whom does APPRENTICE shadow?",
        generate: shadows_whom,
    },
    Template {
        id: "who.shadowed-by",
        category: Who,
        summary: "Who shadows MENTOR?",
        generate: shadowed_by,
    },
    Template {
        id: "who.callers",
        category: Who,
        summary: "Which services call SERVICE?",
        generate: callers,
    },
    Template {
        id: "who.needs",
        category: Who,
        summary: "Which services' requests fail when SERVICE is down (they need it)?",
        generate: needs,
    },
    Template {
        id: "who.entry",
        category: Who,
        summary: "Which service do the users' requests reach first?",
        generate: entry,
    },
    Template {
        id: "who.roster-size",
        category: Who,
        summary: "How many people are in the on-call roster?",
        generate: roster_size,
    },
];

fn role(f: &Facts, role: &str) -> Option<String> {
    f.on_call
        .iter()
        .find(|o| o.role == role)
        .and_then(|o| o.person.clone())
}

fn oncall_primary(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let person = f.primary()?.to_string();
    let svc = pick(rng, &f.services)?;
    Some(Draft {
        question: format!("Who is on call (primary) for {} right now?", svc.name),
        service: Some(svc.name.clone()),
        truth: Answer::name(person),
        how: "firedrill oncall who".into(),
    })
}

fn oncall_secondary(f: &Facts, _: &mut Rng) -> Option<Draft> {
    Some(Draft {
        question: "Who is the secondary on call right now?".into(),
        service: None,
        truth: Answer::name(role(f, "secondary")?),
        how: "firedrill oncall who".into(),
    })
}

fn next_primary(f: &Facts, _: &mut Rng) -> Option<Draft> {
    let next = f
        .on_call
        .iter()
        .find(|o| o.role == "primary")
        .and_then(|o| o.next.clone())?;
    Some(Draft {
        question: "Who takes the primary pager at the next handover?".into(),
        service: None,
        truth: Answer::name(next),
        how: "firedrill oncall who   # or: firedrill oncall schedule".into(),
    })
}

fn last_ack(f: &Facts, _: &mut Rng) -> Option<Draft> {
    let p = f.pages.iter().find(|p| p.acknowledged_by.is_some())?;
    Some(Draft {
        question: "Who acknowledged the most recent acknowledged page?".into(),
        service: None,
        truth: Answer::name(p.acknowledged_by.clone()?),
        how: format!(
            "firedrill page list --status all; firedrill page show {}",
            p.id
        ),
    })
}

fn last_page_assignee(f: &Facts, _: &mut Rng) -> Option<Draft> {
    let p = f.pages.first()?;
    if p.assignee.is_empty() {
        return None;
    }
    Some(Draft {
        question: "Who is responsible for the latest page (its assignee)?".into(),
        service: None,
        truth: Answer::name(p.assignee.clone()),
        how: "firedrill page list --status all".into(),
    })
}

fn shadows_whom(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let apprentices: Vec<_> = f
        .people
        .iter()
        .filter(|p| !p.apprentice_of.is_empty())
        .collect();
    let p = pick(rng, &apprentices)?;
    Some(Draft {
        question: format!("Whom does {} shadow?", p.handle),
        service: None,
        truth: Answer::set(p.apprentice_of.clone()),
        how: "GET /api/oncall/people (the on-call file's people and shadows)".into(),
    })
}

fn shadowed_by(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let mut mentors: Vec<&String> = f.people.iter().flat_map(|p| &p.apprentice_of).collect();
    mentors.sort();
    mentors.dedup();
    let m = (*pick(rng, &mentors)?).clone();
    let who = f
        .people
        .iter()
        .filter(|p| p.apprentice_of.contains(&m))
        .map(|p| p.handle.clone());
    Some(Draft {
        question: format!("Who shadows {m}?"),
        service: None,
        truth: Answer::set(who),
        how: "GET /api/oncall/people (the on-call file's people and shadows)".into(),
    })
}

fn callers(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let called: Vec<_> = f
        .services
        .iter()
        .filter(|s| !f.callers_of(&s.name).is_empty())
        .collect();
    let s = pick(rng, &called)?;
    Some(Draft {
        question: format!("Which services call {}?", s.name),
        service: Some(s.name.clone()),
        truth: Answer::set(f.callers_of(&s.name)),
        how: "firedrill topology show".into(),
    })
}

fn needs(f: &Facts, rng: &mut Rng) -> Option<Draft> {
    let dependents = |name: &str| -> Vec<String> {
        f.services
            .iter()
            .filter(|s| {
                s.endpoints.iter().any(|e| {
                    e.calls
                        .iter()
                        .any(|c| c.service == name && c.fails_caller())
                })
            })
            .map(|s| s.name.clone())
            .collect()
    };
    let needed: Vec<_> = f
        .services
        .iter()
        .filter(|s| !dependents(&s.name).is_empty())
        .collect();
    let s = pick(rng, &needed)?;
    Some(Draft {
        question: format!(
            "Which services' requests fail when {} is down (they call it without a fallback)?",
            s.name
        ),
        service: Some(s.name.clone()),
        truth: Answer::set(dependents(&s.name)),
        how: "firedrill topology show   # calls marked critical, or optional without fallback"
            .into(),
    })
}

fn entry(f: &Facts, _: &mut Rng) -> Option<Draft> {
    if f.entry.is_empty() || f.services.is_empty() {
        return None;
    }
    Some(Draft {
        question: "Which service do the users' requests reach first?".into(),
        service: Some(f.entry.clone()),
        truth: Answer::name(f.entry.clone()),
        how: "firedrill topology show".into(),
    })
}

fn roster_size(f: &Facts, _: &mut Rng) -> Option<Draft> {
    if f.people.is_empty() {
        return None;
    }
    Some(Draft {
        question: "How many people are in the on-call roster?".into(),
        service: None,
        truth: Answer::number(f.people.len() as f64, 0.0, ""),
        how: "GET /api/oncall/people (the on-call file's people and shadows)".into(),
    })
}
