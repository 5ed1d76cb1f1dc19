//! A drill's timings, computed from the journal (docs/drills.md, "Timings").
//!
//! t0 is the first `drill.fault_started` of a root fault; every timing is
//! in seconds after an anchor, `None` when it never happened. The events
//! are the journal from the drill's start to its end, hidden kinds
//! included; `drill.*` events count only when their `drill` attribute is
//! this drill's id.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use wire::Event;

use crate::record::DrillRecord;
use crate::scenario::Check;

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// When the first root fault started.
    pub t0: Option<DateTime<Utc>>,
    /// First `alert.firing` at or after t0, after t0.
    pub detect_s: Option<f64>,
    /// First `page.acknowledged` at or after t0, after its page's
    /// `page.triggered`.
    pub acknowledge_s: Option<f64>,
    /// The latest hold-window start (`since`) of the query objectives,
    /// after t0; `None` while one is unmet.
    pub mitigate_s: Option<f64>,
    /// The latest remedy of a root fault, after t0; `None` while one is
    /// unremedied.
    pub resolve_s: Option<f64>,
}

/// Seconds from `from` to `to`.
pub fn secs_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

/// The `drill` attribute as a drill id (a number, or a decimal string).
fn drill_attr(e: &Event) -> Option<i64> {
    match e.attributes.get("drill")? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Whether `e` counts for drill `id`: `drill.*` events only when their
/// `drill` attribute is `id`; every other event.
pub fn of_drill(e: &Event, id: i64) -> bool {
    !e.kind.starts_with("drill.") || drill_attr(e) == Some(id)
}

/// The events of kind `kind` (a `drill.*` kind) that belong to drill `id`.
pub fn drill_events<'a>(
    events: &'a [Event],
    id: i64,
    kind: &'a str,
) -> impl Iterator<Item = &'a Event> + 'a {
    events
        .iter()
        .filter(move |e| e.kind == kind && drill_attr(e) == Some(id))
}

/// A string attribute.
pub fn attr_str<'a>(e: &'a Event, key: &str) -> Option<&'a str> {
    e.attributes.get(key).and_then(|v| v.as_str())
}

fn is_root(record: &DrillRecord, fault: &str) -> bool {
    record.plan.faults.iter().any(|f| f.id == fault && f.root)
}

/// When fault `fault` of the drill was remedied, by the journal.
pub fn remedied_at<'a>(
    record: &DrillRecord,
    events: &'a [Event],
    fault: &str,
) -> Option<&'a Event> {
    drill_events(events, record.id, "drill.fault_remedied")
        .filter(|e| attr_str(e, "fault") == Some(fault))
        .min_by_key(|e| e.time)
}

/// t0: the first `drill.fault_started` of a root fault.
pub fn t0(record: &DrillRecord, events: &[Event]) -> Option<DateTime<Utc>> {
    drill_events(events, record.id, "drill.fault_started")
        .filter(|e| attr_str(e, "fault").is_some_and(|f| is_root(record, f)))
        .map(|e| e.time)
        .min()
}

fn first_at_or_after<'a>(events: &'a [Event], kind: &str, t0: DateTime<Utc>) -> Option<&'a Event> {
    events
        .iter()
        .filter(|e| e.kind == kind && e.time >= t0)
        .min_by_key(|e| e.time)
}

fn detect(events: &[Event], t0: DateTime<Utc>) -> Option<f64> {
    first_at_or_after(events, "alert.firing", t0).map(|e| secs_between(t0, e.time))
}

fn acknowledge(events: &[Event], t0: DateTime<Utc>) -> Option<f64> {
    let ack = first_at_or_after(events, "page.acknowledged", t0)?;
    let triggered = events
        .iter()
        .filter(|e| e.kind == "page.triggered" && e.subject == ack.subject)
        .map(|e| e.time)
        .min()?;
    Some(secs_between(triggered, ack.time))
}

fn since_of(e: &Event) -> DateTime<Utc> {
    attr_str(e, "since")
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(e.time)
}

fn mitigate(record: &DrillRecord, events: &[Event], t0: DateTime<Utc>) -> Option<f64> {
    let mut latest: Option<DateTime<Utc>> = None;
    for o in &record.scenario.objectives {
        if !matches!(o.check, Check::Query { .. }) {
            continue;
        }
        let since = drill_events(events, record.id, "drill.objective_met")
            .filter(|e| attr_str(e, "objective") == Some(o.id.as_str()))
            .min_by_key(|e| e.time)
            .map(since_of)?;
        latest = latest.max(Some(since));
    }
    latest.map(|t| secs_between(t0, t))
}

fn resolve(record: &DrillRecord, events: &[Event], t0: DateTime<Utc>) -> Option<f64> {
    let mut latest: Option<DateTime<Utc>> = None;
    for f in record.plan.faults.iter().filter(|f| f.root) {
        let at = remedied_at(record, events, &f.id)?.time;
        latest = latest.max(Some(at));
    }
    latest.map(|t| secs_between(t0, t))
}

/// The timings of `record`'s drill from its journal `events`.
pub fn timings(record: &DrillRecord, events: &[Event]) -> Timings {
    let Some(t0) = t0(record, events) else {
        return Timings::default();
    };
    Timings {
        t0: Some(t0),
        detect_s: detect(events, t0),
        acknowledge_s: acknowledge(events, t0),
        mitigate_s: mitigate(record, events, t0),
        resolve_s: resolve(record, events, t0),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fixture::{Journal, record, two_root_faults};

    #[test]
    fn every_timing_of_a_full_drill() {
        let r = record();
        let j = crate::fixture::bad_release_journal(&r);
        let t = timings(&r, &j);
        assert_eq!(t.t0, Some(r.started + chrono::Duration::seconds(30)));
        assert_eq!(t.detect_s, Some(90.0));
        // Triggered at +125 s, acknowledged at +185 s.
        assert_eq!(t.acknowledge_s, Some(60.0));
        // Hold window began at +400 s.
        assert_eq!(t.mitigate_s, Some(370.0));
        assert_eq!(t.resolve_s, Some(330.0));
    }

    #[test]
    fn no_fault_started_means_nothing() {
        let r = record();
        let mut j = Journal::new(&r);
        j.push(100, "alert.firing", "rules", "ProductErrors", json!({}));
        assert_eq!(timings(&r, &j.events), Timings::default());
    }

    #[test]
    fn no_alert_and_no_page() {
        let r = record();
        let mut j = Journal::new(&r);
        j.fault_started(30, "release");
        let t = timings(&r, &j.events);
        assert!(t.t0.is_some());
        assert_eq!((t.detect_s, t.acknowledge_s), (None, None));
        assert_eq!((t.mitigate_s, t.resolve_s), (None, None));
    }

    #[test]
    fn alerts_and_acks_before_t0_are_ignored() {
        let r = record();
        let mut j = Journal::new(&r);
        j.push(5, "alert.firing", "rules", "Old", json!({}));
        j.push(6, "page.triggered", "oncall", "page/1", json!({}));
        j.push(
            10,
            "page.acknowledged",
            "oncall",
            "page/1",
            json!({"by": "alice"}),
        );
        j.fault_started(30, "release");
        j.push(50, "alert.firing", "rules", "New", json!({}));
        j.push(60, "page.triggered", "oncall", "page/2", json!({}));
        j.push(
            75,
            "page.acknowledged",
            "oncall",
            "page/2",
            json!({"by": "alice"}),
        );
        let t = timings(&r, &j.events);
        assert_eq!(t.detect_s, Some(20.0));
        assert_eq!(t.acknowledge_s, Some(15.0));
    }

    #[test]
    fn other_drills_events_do_not_count() {
        let r = record();
        let mut j = Journal::new(&r);
        j.push(
            20,
            "drill.fault_started",
            "drill",
            "99",
            json!({"drill": 99, "fault": "release"}),
        );
        j.fault_started(40, "release");
        j.push(
            50,
            "drill.fault_remedied",
            "drill",
            "99",
            json!({"drill": 99, "fault": "release"}),
        );
        let t = timings(&r, &j.events);
        assert_eq!(t.t0, Some(r.started + chrono::Duration::seconds(40)));
        assert_eq!(t.resolve_s, None);
    }

    #[test]
    fn an_unmet_query_objective_leaves_mitigate_unset() {
        let r = record();
        let mut j = Journal::new(&r);
        j.fault_started(30, "release");
        // Only the journal objective is met; the query objective is not.
        j.objective_met(80, "acked", None);
        j.remedied(100, "release", "alice");
        let t = timings(&r, &j.events);
        assert_eq!(t.mitigate_s, None);
        assert_eq!(t.resolve_s, Some(70.0));
    }

    #[test]
    fn mitigate_uses_since_and_falls_back_to_the_event_time() {
        let r = record();
        let mut j = Journal::new(&r);
        j.fault_started(30, "release");
        j.objective_met(300, "checkout-ok", Some(180));
        assert_eq!(timings(&r, &j.events).mitigate_s, Some(150.0));
        let mut j = Journal::new(&r);
        j.fault_started(30, "release");
        j.objective_met(300, "checkout-ok", None);
        assert_eq!(timings(&r, &j.events).mitigate_s, Some(270.0));
    }

    #[test]
    fn two_root_faults_take_the_latest_remedy() {
        let r = two_root_faults();
        let mut j = Journal::new(&r);
        j.fault_started(30, "release");
        j.fault_started(60, "leak");
        j.remedied(200, "leak", "alice");
        let t = timings(&r, &j.events);
        assert_eq!(t.t0, Some(r.started + chrono::Duration::seconds(30)));
        assert_eq!(t.resolve_s, None, "one root fault is still unremedied");
        j.remedied(150, "release", "alice");
        assert_eq!(timings(&r, &j.events).resolve_s, Some(170.0));
    }

    #[test]
    fn a_non_root_fault_does_not_set_t0() {
        let mut r = two_root_faults();
        r.plan.faults[0].root = false;
        let mut j = Journal::new(&r);
        j.fault_started(30, "release");
        j.fault_started(60, "leak");
        let t = timings(&r, &j.events);
        assert_eq!(t.t0, Some(r.started + chrono::Duration::seconds(60)));
    }
}
