//! Journal events against a scenario's [`EventMatch`] patterns: remedies,
//! wrong operations and journal objectives all use this one test.

use wire::Event;

use crate::scenario::{Actor, Cond, EventMatch};

/// Sources of the drill's own doing: never a trainee's action.
pub const DRILL_SOURCES: &[&str] = &["drill", "chaos", "deploy-bot", "config-bot"];

/// Who is who in a running drill.
#[derive(Debug, Clone, Copy)]
pub struct People<'a> {
    pub trainee: &'a str,
    pub shadow: Option<&'a str>,
}

/// Whether `e` was done by a person (not by the drill, the lab or alerting).
pub fn by_drill(e: &Event) -> bool {
    DRILL_SOURCES.contains(&e.source.as_str())
}

fn actor_of(e: &Event) -> Vec<&str> {
    let mut who = vec![e.source.as_str()];
    if let Some(by) = e.attributes.get("by").and_then(|v| v.as_str()) {
        who.push(by);
    }
    who
}

/// `*` matches any run of characters; everything else literally.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// A number, or a duration string as seconds.
fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s
            .parse::<f64>()
            .ok()
            .or_else(|| diag::duration::parse(s).ok().map(|d| d.as_secs_f64())),
        serde_json::Value::Bool(_) | serde_json::Value::Null => None,
        _ => None,
    }
}

fn lookup<'a>(attrs: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let mut v = attrs;
    for key in path.split('/') {
        v = v.get(key)?;
    }
    Some(v)
}

fn cond_holds(c: &Cond, v: &serde_json::Value) -> bool {
    if let Some(want) = &c.equals {
        let same = match (want, v) {
            (serde_json::Value::String(a), serde_json::Value::String(b)) => a == b,
            _ => match (number(want), number(v)) {
                (Some(a), Some(b)) => a == b,
                _ => want == v,
            },
        };
        if !same {
            return false;
        }
    }
    if let Some(min) = c.gte
        && number(v).is_none_or(|x| x < min)
    {
        return false;
    }
    if let Some(max) = c.lte
        && number(v).is_none_or(|x| x > max)
    {
        return false;
    }
    true
}

/// Whether `e` matches `m` in a drill with `people`.
pub fn matches(m: &EventMatch, e: &Event, people: People<'_>) -> bool {
    if by_drill(e) {
        return false;
    }
    let kind_ok = if m.kind.ends_with('.') {
        e.kind.starts_with(&m.kind)
    } else {
        e.kind == m.kind
    };
    if !kind_ok {
        return false;
    }
    if let Some(s) = &m.subject
        && !glob(s, &e.subject)
    {
        return false;
    }
    for (path, cond) in &m.attrs {
        match lookup(&e.attributes, path) {
            Some(v) if cond_holds(cond, v) => {}
            _ => return false,
        }
    }
    let who = actor_of(e);
    match m.actor {
        Actor::Anyone => true,
        Actor::Trainee => who.contains(&people.trainee),
        Actor::Shadow => people.shadow.is_some_and(|s| who.contains(&s)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    fn ev(kind: &str, source: &str, subject: &str, attrs: serde_json::Value) -> Event {
        Event {
            id: 1,
            time: chrono::Utc::now(),
            kind: kind.into(),
            source: source.into(),
            subject: subject.into(),
            attributes: attrs,
        }
    }

    const P: People<'static> = People {
        trainee: "alice",
        shadow: Some("bob"),
    };

    #[test]
    fn kinds_subjects_and_sources() {
        let m = EventMatch {
            kind: "rollback.finished".into(),
            subject: Some("productcatalog".into()),
            ..Default::default()
        };
        assert!(matches(
            &m,
            &ev("rollback.finished", "alice", "productcatalog", json!({})),
            P
        ));
        assert!(!matches(
            &m,
            &ev("rollback.finished", "alice", "cart", json!({})),
            P
        ));
        assert!(!matches(
            &m,
            &ev("rollback.started", "alice", "productcatalog", json!({})),
            P
        ));
        // The drill's own operations never count.
        assert!(!matches(
            &m,
            &ev("rollback.finished", "drill", "productcatalog", json!({})),
            P
        ));
        let fam = EventMatch {
            kind: "page.".into(),
            ..Default::default()
        };
        assert!(matches(
            &fam,
            &ev("page.acknowledged", "alice", "1", json!({})),
            P
        ));
        let glob_m = EventMatch {
            kind: "instance.restarted".into(),
            subject: Some("cart/*".into()),
            ..Default::default()
        };
        assert!(matches(
            &glob_m,
            &ev("instance.restarted", "alice", "cart/1", json!({})),
            P
        ));
        assert!(!matches(
            &glob_m,
            &ev("instance.restarted", "alice", "cartcache/1", json!({})),
            P
        ));
    }

    #[test]
    fn attribute_conditions_with_durations_and_paths() {
        let mut attrs = BTreeMap::new();
        attrs.insert(
            "set/timeout.weather-api".to_string(),
            Cond {
                lte: Some(0.5),
                ..Default::default()
            },
        );
        let m = EventMatch {
            kind: "config.changed".into(),
            attrs,
            ..Default::default()
        };
        let ok = ev(
            "config.changed",
            "alice",
            "cmd-weather",
            json!({"set": {"timeout.weather-api": "300ms"}}),
        );
        let slow = ev(
            "config.changed",
            "alice",
            "cmd-weather",
            json!({"set": {"timeout.weather-api": "2s"}}),
        );
        let other = ev(
            "config.changed",
            "alice",
            "cmd-weather",
            json!({"set": {"retries.weather-api": "0"}}),
        );
        assert!(matches(&m, &ok, P));
        assert!(!matches(&m, &slow, P));
        assert!(!matches(&m, &other, P));
        let mut scale = BTreeMap::new();
        scale.insert(
            "to".to_string(),
            Cond {
                gte: Some(4.0),
                ..Default::default()
            },
        );
        let m = EventMatch {
            kind: "service.scaled".into(),
            attrs: scale,
            ..Default::default()
        };
        assert!(matches(
            &m,
            &ev("service.scaled", "alice", "frontend", json!({"to": 4})),
            P
        ));
        assert!(!matches(
            &m,
            &ev("service.scaled", "alice", "frontend", json!({"to": 3})),
            P
        ));
    }

    #[test]
    fn actors() {
        let m = EventMatch {
            kind: "page.acknowledged".into(),
            actor: Actor::Shadow,
            ..Default::default()
        };
        assert!(matches(
            &m,
            &ev("page.acknowledged", "x", "1", json!({"by": "bob"})),
            P
        ));
        assert!(!matches(
            &m,
            &ev("page.acknowledged", "x", "1", json!({"by": "alice"})),
            P
        ));
        let t = EventMatch {
            actor: Actor::Trainee,
            ..m
        };
        assert!(matches(
            &t,
            &ev("page.acknowledged", "alice", "1", json!({})),
            P
        ));
    }
}
