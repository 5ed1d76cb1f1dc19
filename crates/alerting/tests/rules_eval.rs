//! Rule evaluation against the real store, with a controlled clock.

use alerting::rules::{AlertState, RuleManager, parse_rules};
use telemetry::model::{Appender, Labels, Sample};
use telemetry::promql::{Engine, Value};
use telemetry::tsdb::{Tsdb, TsdbOptions};

const RULES: &str = r#"
groups:
  - name: shop
    interval: 15s
    rules:
      - record: job:errors:ratio_rate1m
        expr: sum by (job) (rate(errors_total[1m])) / sum by (job) (rate(requests_total[1m]))
      - alert: HighErrorRatio
        expr: job:errors:ratio_rate1m > 0.1
        for: 1m
        keep_firing_for: 30s
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.job }} fails {{ $value | humanizePercentage }} of requests"
"#;

fn db() -> Tsdb {
    Tsdb::in_memory(TsdbOptions {
        background: false,
        ..TsdbOptions::default()
    })
}

/// Writes counters every 15 s up to `until` (s): requests +10/s; errors at
/// `err_rate`/s while `bad(t)`.
fn feed(store: &Tsdb, from: i64, until: i64, bad: impl Fn(i64) -> bool, state: &mut (f64, f64)) {
    let mut t = from;
    while t <= until {
        state.0 += 150.0;
        if bad(t) {
            state.1 += 45.0;
        }
        store
            .append(&[
                (
                    Labels::new([("__name__", "requests_total"), ("job", "checkout")]),
                    Sample {
                        t: t * 1000,
                        v: state.0,
                    },
                ),
                (
                    Labels::new([("__name__", "errors_total"), ("job", "checkout")]),
                    Sample {
                        t: t * 1000,
                        v: state.1,
                    },
                ),
            ])
            .unwrap();
        t += 15;
    }
}

#[test]
fn alerts_go_pending_firing_and_resolved_and_recordings_are_queryable() {
    let store = db();
    let groups = parse_rules(RULES, "shop.rules.yml").expect("valid rules");
    let m = RuleManager::new(
        groups,
        std::time::Duration::from_secs(60),
        "http://localhost/graph",
    );
    let mut counters = (0.0, 0.0);
    // Healthy for 5 minutes, broken (30 % errors) from 300 s to 600 s.
    let bad = |t: i64| (300..600).contains(&t);
    let mut states = Vec::new();
    let mut t = 0;
    while t <= 900 {
        feed(&store, t, t, bad, &mut counters);
        let sent = m.evaluate_all(&store, t * 1000);
        let alerts = m.alerts_json();
        let state = alerts["alerts"]
            .as_array()
            .unwrap()
            .first()
            .map(|a| a["state"].as_str().unwrap().to_string());
        states.push((t, state, sent.len()));
        t += 15;
    }
    let at = |s: i64| states.iter().find(|(t, _, _)| *t == s).cloned().unwrap();
    assert_eq!(at(285).1, None, "healthy: no alert");
    // The 1m rate sees errors from 315 s; pending, then firing after `for: 1m`.
    assert_eq!(at(330).1.as_deref(), Some("pending"));
    assert_eq!(at(405).1.as_deref(), Some("firing"));
    assert!(at(405).2 >= 1, "a firing alert is sent");
    // Errors stop at 600 s; the condition clears at 615 s (the 1m rate falls
    // to 0.1), keep_firing_for keeps it firing 30 s more, then it resolves.
    assert_eq!(at(630).1.as_deref(), Some("firing"), "{states:?}");
    assert_eq!(at(645).1, None, "{states:?}");
    assert!(at(660).2 >= 1, "the resolved alert is sent too");

    // The recording rule's output and ALERTS are in the store.
    let e = Engine::default();
    let r = e
        .instant_query(&store, "job:errors:ratio_rate1m", 450_000)
        .unwrap();
    let Value::Vector(v) = r.value else { panic!() };
    assert!((v[0].v - 0.3).abs() < 0.02, "{v:?}");
    let r = e
        .instant_query(
            &store,
            r#"ALERTS{alertname="HighErrorRatio",alertstate="firing"}"#,
            450_000,
        )
        .unwrap();
    let Value::Vector(v) = r.value else { panic!() };
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].labels.get("severity"), Some("page"));
    // Staleness: ALERTS disappears once resolved.
    let r = e.instant_query(&store, "ALERTS", 800_000).unwrap();
    let Value::Vector(v) = r.value else { panic!() };
    assert!(v.is_empty(), "{v:?}");
}

#[test]
fn annotations_are_templated_and_shown_in_api_shapes() {
    let store = db();
    let m = RuleManager::new(
        parse_rules(RULES, "f").unwrap(),
        std::time::Duration::from_secs(60),
        "",
    );
    let mut c = (0.0, 0.0);
    for t in (0..=600).step_by(15) {
        feed(&store, t, t, |_| true, &mut c);
        m.evaluate_all(&store, t * 1000);
    }
    let rules = m.rules_json(None);
    let alerting = &rules["groups"][0]["rules"][1];
    assert_eq!(alerting["type"], "alerting");
    assert_eq!(alerting["state"], "firing");
    assert_eq!(alerting["duration"], 60.0);
    assert_eq!(alerting["health"], "ok");
    let a = &alerting["alerts"][0];
    assert_eq!(
        a["annotations"]["summary"],
        "checkout fails 30% of requests"
    );
    assert_eq!(rules["groups"][0]["rules"][0]["type"], "recording");
    let _ = AlertState::Firing;
}

#[test]
fn rule_file_mistakes_are_located() {
    let bad = "groups:\n  - name: g\n    rules:\n      - record: bad name\n        expr: up\n      - alert: A\n        expr: rate(up[5m]\n        for: soon\n      - expr: up\n";
    let e = parse_rules(bad, "bad.yml").unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("bad.yml:4:17: groups[0].rules[0].record: invalid recording rule name"),
        "{text}"
    );
    assert!(
        text.contains("bad.yml:7:15: groups[0].rules[1].expr: could not parse expression"),
        "{text}"
    );
    assert!(
        text.contains("bad.yml:8:14: groups[0].rules[1].for:"),
        "{text}"
    );
    assert!(
        text.contains("bad.yml:9:15: groups[0].rules[2]: one of 'record' or 'alert' must be set"),
        "{text}"
    );
    let unknown = parse_rules("groups:\n  - name: g\n    rulez: []\n", "u.yml").unwrap_err();
    assert!(unknown.to_string().starts_with("u.yml:3:"), "{unknown}");
}

/// Issue 11: a deep expression (the parser recurses) and a number as a
/// range (the parser panics on `1e300`) are located errors, not a crash.
#[test]
fn hostile_expressions_in_a_rule_file_are_located_errors() {
    let sum = vec!["x"; 10_000].join(" + ");
    let text = format!(
        "groups:\n  - name: g\n    rules:\n      - record: a:sum\n        expr: {sum}\n      - record: b:rate\n        expr: rate(x[1e300])\n"
    );
    let e = parse_rules(&text, "hostile.yml").unwrap_err().to_string();
    assert!(
        e.contains("hostile.yml:5:15: groups[0].rules[0].expr: could not parse expression:"),
        "{e}"
    );
    assert!(
        e.contains("hostile.yml:7:15: groups[0].rules[1].expr: could not parse expression:"),
        "{e}"
    );
    assert!(e.contains("nests too deeply"), "{e}");
    assert!(e.contains("duration out of range"), "{e}");
    assert!(!e.contains("invalid parameter"), "{e}");
}
