//! The debrief of a drill: what happened (the revealed faults), the
//! timings against their targets, the score(s) with their breakdown, the
//! trainee's actions beside the ideal path, the whole timeline with hidden
//! events revealed, and the SLI series. [`build`] computes it from the
//! record and the journal; [`text`] renders it for a terminal, [`html`] as
//! one self-contained page; its JSON is `--output json`.

pub mod detail;
pub mod fmt;
pub mod html;
pub mod svg;
pub mod text;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use wire::Event;

pub use html::html;
pub use text::text;

use crate::record::{DrillRecord, Outcome, WrongRecord};
use crate::scenario::{Actor, Check, Cmp, FaultAction, Hint};
use crate::score::{Role, Score, score};
use crate::timings::{Timings, attr_str, drill_events, of_drill, secs_between, timings};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Debrief {
    pub drill: Summary,
    pub faults: Vec<RevealedFault>,
    pub timings: Timings,
    pub targets: Targets,
    /// The trainee's, then the shadow's (shadow drills).
    pub scores: Vec<Score>,
    pub objectives: Vec<ObjectiveResult>,
    pub wrong: Vec<WrongRecord>,
    pub hints: Vec<Hint>,
    /// Operations by people, in time order.
    pub actions: Vec<Action>,
    /// Every event of the drill, hidden ones revealed, in time order.
    pub timeline: Vec<Entry>,
    pub ideal_path: Vec<String>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub id: i64,
    pub scenario: String,
    pub title: String,
    pub trainee: String,
    pub shadow: Option<String>,
    pub seed: u64,
    pub scale: f64,
    pub started: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
    pub duration_s: Option<f64>,
    pub time_limit_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevealedFault {
    pub id: String,
    pub title: String,
    pub root: bool,
    pub action: FaultAction,
    /// The action in words.
    pub action_text: String,
    /// Planned start, after the drill's start.
    pub planned_s: f64,
    pub planned: DateTime<Utc>,
    pub started: Option<DateTime<Utc>>,
    pub remedied: Option<DateTime<Utc>>,
    pub remedied_by: Option<String>,
    /// The remedy's note.
    pub remedy: Option<String>,
    pub reliefs: Vec<Relief>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relief {
    pub time: DateTime<Utc>,
    pub note: String,
    pub until: Option<String>,
    pub by: Option<String>,
}

/// The timing targets of the scenario (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    pub acknowledge_s: f64,
    pub mitigate_s: f64,
    pub resolve_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveResult {
    pub id: String,
    pub title: String,
    pub actor: Actor,
    pub met: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub event_id: i64,
    /// Seconds after the drill's start.
    pub t_s: f64,
    pub time: DateTime<Utc>,
    pub kind: String,
    pub subject: String,
    pub by: String,
    pub detail: String,
    /// Why it was wrong, when it was a wrong operation.
    pub wrong: Option<String>,
    /// The remedy's note, when it remedied a fault.
    pub remedy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub event_id: i64,
    pub t_s: f64,
    pub time: DateTime<Utc>,
    pub kind: String,
    pub source: String,
    pub subject: String,
    /// Hidden from trainees while the drill ran.
    pub hidden: bool,
    pub detail: String,
}

/// One SLI over the drill (the engine queries it; a query objective's
/// expression).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub id: String,
    pub title: String,
    pub expr: String,
    pub op: Cmp,
    pub threshold: f64,
    /// (unix seconds, value)
    pub points: Vec<(f64, f64)>,
}

fn revealed_faults(record: &DrillRecord, events: &[Event]) -> Vec<RevealedFault> {
    record
        .plan
        .faults
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let state = record.state.faults.get(i).cloned().unwrap_or_default();
            let of = |kind: &'static str| {
                drill_events(events, record.id, kind)
                    .filter(|e| attr_str(e, "fault") == Some(f.id.as_str()))
                    .collect::<Vec<_>>()
            };
            let started = of("drill.fault_started").first().map(|e| e.time);
            let remedied = crate::timings::remedied_at(record, events, &f.id);
            let reliefs = of("drill.fault_relieved")
                .into_iter()
                .map(|e| Relief {
                    time: e.time,
                    note: attr_str(e, "note").unwrap_or_default().to_string(),
                    until: attr_str(e, "until").map(str::to_string),
                    by: attr_str(e, "by").map(str::to_string),
                })
                .collect();
            let at = chrono::Duration::from_std(f.at).unwrap_or_default();
            RevealedFault {
                id: f.id.clone(),
                title: f.title.clone(),
                root: f.root,
                action: f.action.clone(),
                action_text: detail::action_text(&f.action),
                planned_s: f.at.as_secs_f64(),
                planned: record.started + at,
                started: started.or(state.started),
                remedied: remedied.map(|e| e.time).or(state.remedied),
                remedied_by: remedied.and_then(|e| attr_str(e, "by").map(str::to_string)),
                remedy: remedied
                    .and_then(|e| attr_str(e, "note").map(str::to_string))
                    .or(state.remedy),
                reliefs,
            }
        })
        .collect()
}

fn event_id_attr(e: &Event) -> Option<i64> {
    e.attributes.get("event_id").and_then(|v| v.as_i64())
}

fn actions(record: &DrillRecord, events: &[Event]) -> Vec<Action> {
    let wrong_why = |id: i64| {
        drill_events(events, record.id, "drill.wrong_op")
            .find(|w| event_id_attr(w) == Some(id))
            .map(|w| attr_str(w, "why").unwrap_or_default().to_string())
            .or_else(|| {
                record
                    .state
                    .wrong
                    .iter()
                    .find(|w| w.event_id == id)
                    .map(|w| w.why.clone())
            })
    };
    let remedy_note = |id: i64| {
        drill_events(events, record.id, "drill.fault_remedied")
            .find(|r| event_id_attr(r) == Some(id))
            .map(|r| attr_str(r, "note").unwrap_or_default().to_string())
    };
    // A deploy or rollback is one action, at its start; a mark on its end
    // (remedies and wrong operations usually match `.finished`) is its own.
    let completion = |e: &Event| {
        let family = e.kind.strip_suffix(".started")?;
        events
            .iter()
            .filter(|f| {
                f.time >= e.time
                    && f.subject == e.subject
                    && detail::who(f) == detail::who(e)
                    && f.kind
                        .strip_prefix(family)
                        .is_some_and(|k| k == ".finished" || k == ".failed")
            })
            .min_by_key(|f| f.time)
            .map(|f| f.id)
    };
    let marked = |e: &Event, mark: &dyn Fn(i64) -> Option<String>| {
        mark(e.id).or_else(|| completion(e).and_then(mark))
    };
    events
        .iter()
        .filter(|e| detail::is_action(e))
        .map(|e| Action {
            event_id: e.id,
            t_s: secs_between(record.started, e.time),
            time: e.time,
            kind: e.kind.clone(),
            subject: e.subject.clone(),
            by: detail::who(e).to_string(),
            detail: detail::detail(e),
            wrong: marked(e, &wrong_why),
            remedy: marked(e, &remedy_note),
        })
        .collect()
}

fn timeline(record: &DrillRecord, events: &[Event]) -> Vec<Entry> {
    events
        .iter()
        .filter(|e| of_drill(e, record.id))
        .map(|e| Entry {
            event_id: e.id,
            t_s: secs_between(record.started, e.time),
            time: e.time,
            kind: e.kind.clone(),
            source: e.source.clone(),
            subject: e.subject.clone(),
            hidden: detail::hidden(&e.kind),
            detail: detail::detail(e),
        })
        .collect()
}

/// The debrief of `record` from its journal `events` (the drill's start to
/// its end, hidden kinds included) and the SLI `series` over the drill.
pub fn build(record: &DrillRecord, events: &[Event], series: Vec<Series>) -> Debrief {
    let mut events: Vec<Event> = events.to_vec();
    events.sort_by_key(|e| (e.time, e.id));
    let timings = timings(record, &events);
    let mut scores = vec![score(record, &timings, &record.trainee, Role::Trainee)];
    if let Some(shadow) = &record.shadow {
        scores.push(score(record, &timings, shadow, Role::Shadow));
    }
    let sc = &record.scenario;
    Debrief {
        drill: Summary {
            id: record.id,
            scenario: sc.id.clone(),
            title: sc.title.clone(),
            trainee: record.trainee.clone(),
            shadow: record.shadow.clone(),
            seed: record.seed,
            scale: record.scale,
            started: record.started,
            ended: record.ended,
            outcome: record.outcome,
            duration_s: record.ended.map(|end| secs_between(record.started, end)),
            time_limit_s: sc.time_limit.as_secs_f64(),
        },
        faults: revealed_faults(record, &events),
        timings,
        targets: Targets {
            acknowledge_s: sc.scoring.acknowledge.as_secs_f64(),
            mitigate_s: sc.scoring.mitigate.as_secs_f64(),
            resolve_s: sc.scoring.resolve.as_secs_f64(),
        },
        scores,
        objectives: sc
            .objectives
            .iter()
            .enumerate()
            .map(|(i, o)| ObjectiveResult {
                id: o.id.clone(),
                title: o.title.clone(),
                actor: o.actor,
                met: record.state.objectives.get(i).and_then(|s| s.met),
            })
            .collect(),
        wrong: record.state.wrong.clone(),
        hints: record
            .plan
            .hints
            .iter()
            .take(record.state.hints_taken)
            .cloned()
            .collect(),
        actions: actions(record, &events),
        timeline: timeline(record, &events),
        ideal_path: sc.ideal_path.clone(),
        series,
    }
}

/// One timing against its target, as the text and HTML show it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimingRow {
    pub name: &'static str,
    pub took_s: Option<f64>,
    /// Detect has no target.
    pub target_s: Option<f64>,
    /// `met`, `late`, `never`, or empty without a target.
    pub verdict: &'static str,
}

impl Debrief {
    /// Detect, acknowledge, mitigate and resolve with their targets.
    pub fn timing_rows(&self) -> [TimingRow; 4] {
        let t = &self.timings;
        let row = |name, took_s: Option<f64>, target_s: Option<f64>| TimingRow {
            name,
            took_s,
            target_s,
            verdict: match (took_s, target_s) {
                (Some(v), Some(x)) if v <= x => "met",
                (Some(_), Some(_)) => "late",
                (None, Some(_)) => "never",
                _ => "",
            },
        };
        [
            row("detect", t.detect_s, None),
            row(
                "acknowledge",
                t.acknowledge_s,
                Some(self.targets.acknowledge_s),
            ),
            row("mitigate", t.mitigate_s, Some(self.targets.mitigate_s)),
            row("resolve", t.resolve_s, Some(self.targets.resolve_s)),
        ]
    }

    /// Seconds after the drill's start.
    pub fn offset(&self, t: DateTime<Utc>) -> f64 {
        secs_between(self.drill.started, t)
    }

    /// The trainee's score.
    pub fn trainee_score(&self) -> Option<&Score> {
        self.scores.iter().find(|s| s.role == Role::Trainee)
    }
}

/// The series of `record`'s query objectives, without points (the engine
/// fills them from the TSDB).
pub fn empty_series(record: &DrillRecord) -> Vec<Series> {
    record
        .scenario
        .objectives
        .iter()
        .filter_map(|o| match &o.check {
            Check::Query {
                expr,
                op,
                threshold,
                ..
            } => Some(Series {
                id: o.id.clone(),
                title: o.title.clone(),
                expr: expr.clone(),
                op: *op,
                threshold: *threshold,
                points: Vec::new(),
            }),
            Check::Journal { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
