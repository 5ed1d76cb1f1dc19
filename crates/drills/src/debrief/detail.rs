//! Events in words: a short detail for the timeline and the actions, the
//! kinds that are a person's operations, and who did an event.

use wire::Event;

use crate::matcher::by_drill;
use crate::scenario::FaultAction;
use crate::timings::attr_str;

/// Kinds that are operations a person does on the lab, on call or alerting.
/// Deploys and rollbacks count once, when started.
pub const OPERATION_KINDS: &[&str] = &[
    "instance.restarted",
    "instance.drained",
    "instance.undrained",
    "deploy.started",
    "rollback.started",
    "service.scaled",
    "config.changed",
    "load.changed",
    "silence.created",
    "page.acknowledged",
    "page.resolved",
    "page.snoozed",
    "page.reassigned",
    "page.noted",
    "ticket.opened",
    "ticket.assigned",
    "ticket.closed",
    "fault.injected",
    "fault.cleared",
];

/// Components that act on their own (crash restarts, automatic page
/// resolution): never a person.
const COMPONENTS: &[&str] = &[
    "supervisor",
    "oncall",
    "alerting",
    "rules",
    "dispatcher",
    "loadgen",
];

/// Whether `kind` is hidden from non-instructors while the drill runs
/// (the one list, in `wire::kinds`).
pub fn hidden(kind: &str) -> bool {
    wire::kinds::is_hidden(kind)
}

/// Who did `e`: its `by` attribute, else its source.
pub fn who(e: &Event) -> &str {
    attr_str(e, "by").unwrap_or(&e.source)
}

/// Whether `e` is an operation by a person (not the drill, not a component).
pub fn is_action(e: &Event) -> bool {
    OPERATION_KINDS.contains(&e.kind.as_str()) && !by_drill(e) && !COMPONENTS.contains(&who(e))
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn get(e: &Event, key: &str) -> String {
    e.attributes.get(key).map(scalar).unwrap_or_default()
}

/// At most `max` characters, with `…` when cut.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The attributes as `key=value`, the drill id left out.
fn generic(e: &Event) -> String {
    let Some(map) = e.attributes.as_object() else {
        return String::new();
    };
    map.iter()
        .filter(|(k, _)| k.as_str() != "drill")
        .map(|(k, v)| format!("{k}={}", scalar(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A one-line detail of `e`, at most 100 characters.
pub fn detail(e: &Event) -> String {
    let text = match e.kind.as_str() {
        "drill.started" => format!("{} ({})", get(e, "title"), get(e, "scenario")),
        "drill.fault_started" => format!("fault {}: {}", get(e, "fault"), get(e, "title")),
        "drill.fault_remedied" => format!(
            "{}: {} (by {})",
            get(e, "fault"),
            get(e, "note"),
            get(e, "by")
        ),
        "drill.fault_relieved" => format!(
            "{}: {} until {}",
            get(e, "fault"),
            get(e, "note"),
            get(e, "until")
        ),
        "drill.wrong_op" => format!(
            "{} {} by {}: {} (−{})",
            get(e, "kind"),
            get(e, "subject"),
            get(e, "by"),
            get(e, "why"),
            get(e, "cost")
        ),
        "drill.objective_met" => format!("{} met", get(e, "title")),
        "drill.hint" => format!("hint: {} (−{})", get(e, "text"), get(e, "cost")),
        "drill.ended" => format!("{}, score {}", get(e, "outcome"), get(e, "score")),
        _ => generic(e),
    };
    cut(&text, 100)
}

/// What a fault did, in words.
pub fn action_text(a: &FaultAction) -> String {
    match a {
        FaultAction::Release { service, version } => {
            format!("the deploy pipeline released {service} {version}")
        }
        FaultAction::Inject { fault } => {
            let mut s = format!("{} fault injected into {}", fault.kind, fault.service);
            if let Some(d) = &fault.delay {
                s.push_str(&format!(", delay {d}"));
            }
            if let Some(st) = fault.status {
                s.push_str(&format!(", status {st}"));
            }
            if let Some(p) = fault.percent {
                s.push_str(&format!(", {p}% of requests"));
            }
            if let Some(c) = &fault.caller {
                s.push_str(&format!(", calls from {c}"));
            }
            s
        }
        FaultAction::Surge { rps } => format!("traffic surged to {rps} journeys per second"),
        FaultAction::Config { service, set } => {
            let pairs: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("a config push to {service}: {}", pairs.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;

    fn ev(kind: &str, source: &str, attrs: serde_json::Value) -> Event {
        Event {
            id: 1,
            time: Utc::now(),
            kind: kind.into(),
            source: source.into(),
            subject: "x".into(),
            attributes: attrs,
        }
    }

    #[test]
    fn actions_are_people_operations() {
        assert!(is_action(&ev("rollback.started", "alice", json!({}))));
        assert!(is_action(&ev(
            "page.acknowledged",
            "oncall",
            json!({"by": "alice"})
        )));
        assert!(!is_action(&ev(
            "page.resolved",
            "oncall",
            json!({"by": "alerting"})
        )));
        assert!(!is_action(&ev(
            "instance.restarted",
            "supervisor",
            json!({"reason": "crashed"})
        )));
        assert!(!is_action(&ev("deploy.started", "deploy-bot", json!({}))));
        assert!(!is_action(&ev("alert.firing", "rules", json!({}))));
        assert!(!is_action(&ev("page.triggered", "oncall", json!({}))));
        assert!(!is_action(&ev("rollback.finished", "alice", json!({}))));
    }

    #[test]
    fn details_are_short_and_leave_out_the_drill() {
        let e = ev(
            "drill.hint",
            "drill",
            json!({"drill": 7, "text": "look", "cost": 10}),
        );
        assert_eq!(detail(&e), "hint: look (−10)");
        let e = ev(
            "rollback.started",
            "alice",
            json!({"drill": 7, "from": "v2", "to": "v1"}),
        );
        assert_eq!(detail(&e), "from=v2 to=v1");
        let long = ev("page.noted", "oncall", json!({"note": "x".repeat(300)}));
        assert_eq!(detail(&long).chars().count(), 100);
        assert!(hidden("drill.fault_started") && hidden("fault.injected"));
        assert!(!hidden("drill.hint"));
    }
}
