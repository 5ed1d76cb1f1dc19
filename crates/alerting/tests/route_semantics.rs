//! Routing, grouping, inhibition and silences, on cases taken from
//! Alertmanager's documented semantics, with a controlled clock.

use std::collections::BTreeMap;

use alerting::route::dispatch::Dispatcher;
use alerting::route::parse_config;
use alerting::route::payload;
use alerting::route::silence::{Silence, Silences, api_matchers};
use alerting::rules::OutgoingAlert;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

const CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['severity="page"']
      receiver: pager
      continue: true
    - matchers: ['team=~"db|storage"']
      receiver: db-team
      group_by: ['...']
receivers:
  - name: default
  - name: pager
  - name: db-team
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname, cluster]
"#;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
}

fn alert(labels: &[(&str, &str)], start: DateTime<Utc>, end: DateTime<Utc>) -> OutgoingAlert {
    OutgoingAlert {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        annotations: BTreeMap::from([("summary".to_string(), "it broke".to_string())]),
        starts_at: start,
        ends_at: end,
        generator_url: "http://prom/graph".into(),
    }
}

fn firing(labels: &[(&str, &str)]) -> OutgoingAlert {
    alert(labels, t0(), t0() + Duration::hours(10))
}

#[test]
fn routes_with_continue_and_inheritance() {
    let c = parse_config(CONFIG, "am.yml").unwrap();
    let mut d = Dispatcher::new(c);
    let s = Silences::open(None).unwrap();
    // severity=page and team=db: pager (continue) and db-team; not default.
    d.receive(
        vec![firing(&[
            ("alertname", "DiskFull"),
            ("severity", "page"),
            ("team", "db"),
            ("instance", "a"),
        ])],
        t0(),
    );
    assert!(
        d.tick(t0() + Duration::seconds(29), &s).is_empty(),
        "group_wait holds the first notification"
    );
    let mut got: Vec<String> = d
        .tick(t0() + Duration::seconds(30), &s)
        .into_iter()
        .map(|n| n.receiver)
        .collect();
    got.sort();
    assert_eq!(got, ["db-team", "pager"]);
    // group_by ['...'] on db-team: every alert its own group; inherited group_wait.
    let c = parse_config(CONFIG, "am.yml").unwrap();
    let mut d = Dispatcher::new(c);
    d.receive(
        vec![
            firing(&[("alertname", "X"), ("team", "db"), ("i", "1")]),
            firing(&[("alertname", "X"), ("team", "db"), ("i", "2")]),
        ],
        t0(),
    );
    let n = d.tick(t0() + Duration::seconds(30), &s);
    assert_eq!(n.len(), 2);
    assert!(
        n.iter()
            .all(|n| n.receiver == "db-team" && n.alerts.len() == 1)
    );
    // No match below the root: the root's receiver.
    d.receive(vec![firing(&[("alertname", "Y")])], t0());
    let n = d.tick(t0() + Duration::seconds(60), &s);
    assert_eq!(
        n.iter().map(|n| n.receiver.as_str()).collect::<Vec<_>>(),
        ["default"]
    );
}

#[test]
fn group_wait_interval_repeat_and_resolve() {
    let mut d = Dispatcher::new(parse_config(CONFIG, "am.yml").unwrap());
    let s = Silences::open(None).unwrap();
    d.receive(vec![firing(&[("alertname", "A"), ("i", "1")])], t0());
    let n = d.tick(t0() + Duration::seconds(30), &s);
    assert_eq!(n.len(), 1);
    // A second alert of the group waits for group_interval after the flush.
    d.receive(
        vec![firing(&[("alertname", "A"), ("i", "2")])],
        t0() + Duration::seconds(60),
    );
    assert!(d.tick(t0() + Duration::seconds(300), &s).is_empty());
    let n = d.tick(t0() + Duration::seconds(330), &s);
    assert_eq!(n[0].alerts.len(), 2, "the group is sent whole");
    // Unchanged: nothing until repeat_interval (4h) since the last send.
    assert!(d.tick(t0() + Duration::seconds(630), &s).is_empty());
    let n = d.tick(t0() + Duration::seconds(330) + Duration::hours(4), &s);
    assert_eq!(n.len(), 1, "repeat_interval reminder");
    // One alert resolves: a notification carrying it as resolved.
    let later = t0() + Duration::hours(5);
    d.receive(
        vec![alert(&[("alertname", "A"), ("i", "1")], t0(), later)],
        later,
    );
    let n = d.tick(later + Duration::minutes(5), &s);
    assert_eq!(n.len(), 1);
    let resolved: Vec<_> = n[0]
        .alerts
        .iter()
        .filter(|a| a.resolved(n[0].now))
        .collect();
    assert_eq!(resolved.len(), 1);
    assert_eq!(n[0].status(), "firing", "one is still firing");
    // Deduplication: receiving the same firing alert again changes nothing.
    d.receive(
        vec![firing(&[("alertname", "A"), ("i", "2")])],
        later + Duration::minutes(6),
    );
    assert!(d.tick(later + Duration::minutes(10), &s).is_empty());
}

#[test]
fn silences_mute_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let s = Silences::open(Some(dir.path().join("silences.json"))).unwrap();
    let now = Utc::now();
    let id = s
        .upsert(
            Silence {
                id: String::new(),
                matchers: api_matchers(&["alertname=\"A\"".to_string()]).unwrap(),
                starts_at: now - Duration::minutes(1),
                ends_at: now + Duration::hours(1),
                created_by: "trainee".into(),
                comment: "maintenance".into(),
                updated_at: now,
            },
            now,
        )
        .unwrap();
    let mut d = Dispatcher::new(parse_config(CONFIG, "am.yml").unwrap());
    d.receive(
        vec![alert(&[("alertname", "A")], now, now + Duration::hours(2))],
        now,
    );
    assert!(
        d.tick(now + Duration::seconds(31), &s).is_empty(),
        "silenced"
    );
    // Persisted: a reopen sees it.
    assert_eq!(
        Silences::open(Some(dir.path().join("silences.json")))
            .unwrap()
            .list()
            .len(),
        1
    );
    s.expire(&id, now + Duration::seconds(40)).unwrap();
    let n = d.tick(now + Duration::minutes(6), &s);
    assert_eq!(n.len(), 1, "expired silence unmutes");
    // Expired silences stay listed for Alertmanager's retention (120h),
    // then are forgotten, on disk too.
    assert_eq!(s.prune(now + Duration::hours(119)), 0);
    assert_eq!(s.list().len(), 1);
    assert_eq!(s.prune(now + Duration::hours(121)), 1);
    assert!(s.list().is_empty());
    assert!(
        Silences::open(Some(dir.path().join("silences.json")))
            .unwrap()
            .list()
            .is_empty()
    );
    // Bad silences are refused with a reason.
    assert!(
        s.upsert(
            Silence {
                id: String::new(),
                matchers: vec![],
                starts_at: now,
                ends_at: now + Duration::hours(1),
                created_by: String::new(),
                comment: String::new(),
                updated_at: now
            },
            now
        )
        .is_err()
    );
}

#[test]
fn critical_inhibits_warning_with_equal_labels() {
    let mut d = Dispatcher::new(parse_config(CONFIG, "am.yml").unwrap());
    let s = Silences::open(None).unwrap();
    d.receive(
        vec![
            firing(&[
                ("alertname", "Lag"),
                ("severity", "critical"),
                ("cluster", "eu"),
            ]),
            firing(&[
                ("alertname", "Lag"),
                ("severity", "warning"),
                ("cluster", "eu"),
            ]),
            firing(&[
                ("alertname", "Lag"),
                ("severity", "warning"),
                ("cluster", "us"),
            ]),
        ],
        t0(),
    );
    let n = d.tick(t0() + Duration::seconds(30), &s);
    let labels: Vec<_> = n
        .iter()
        .flat_map(|n| {
            n.alerts
                .iter()
                .map(|a| (a.labels["severity"].clone(), a.labels["cluster"].clone()))
        })
        .collect();
    assert!(labels.contains(&("critical".into(), "eu".into())));
    assert!(
        labels.contains(&("warning".into(), "us".into())),
        "other cluster not inhibited"
    );
    assert!(
        !labels.contains(&("warning".into(), "eu".into())),
        "inhibited: {labels:?}"
    );
}

#[test]
fn webhook_payload_is_version_4() {
    let mut d = Dispatcher::new(parse_config(CONFIG, "am.yml").unwrap());
    let s = Silences::open(None).unwrap();
    d.receive(vec![firing(&[("alertname", "A"), ("i", "1")])], t0());
    let n = d.tick(t0() + Duration::seconds(30), &s);
    let p = payload::webhook(&n[0], "http://127.0.0.1:9700", 0);
    let fp = format!(
        "{:016x}",
        alerting::route::dispatch::fingerprint(&BTreeMap::from([
            ("alertname".to_string(), "A".to_string()),
            ("i".to_string(), "1".to_string())
        ]))
    );
    assert_eq!(
        p,
        json!({
            "receiver": "default",
            "status": "firing",
            "alerts": [{
                "status": "firing",
                "labels": {"alertname": "A", "i": "1"},
                "annotations": {"summary": "it broke"},
                "startsAt": "2026-01-01T12:00:00.000Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom/graph",
                "fingerprint": fp,
            }],
            "groupLabels": {"alertname": "A"},
            "commonLabels": {"alertname": "A", "i": "1"},
            "commonAnnotations": {"summary": "it broke"},
            "externalURL": "http://127.0.0.1:9700",
            "version": "4",
            "groupKey": "{}:{alertname=\"A\"}",
            "truncatedAlerts": 0,
        })
    );
    let pd = payload::pagerduty(&n[0], "KEY", None, "http://x");
    assert_eq!(pd["event_action"], "trigger");
    assert_eq!(pd["routing_key"], "KEY");
    let sl = payload::slack(&n[0], Some("#oncall"));
    assert_eq!(sl["text"], "[FIRING:1] A");
}

#[test]
fn config_mistakes_are_located() {
    let bad = "route:\n  receiver: nobody\n  group_wait: soon\n  routes:\n    - matchers: ['severity=~\"(\"']\nreceivers:\n  - name: team\n";
    let e = parse_config(bad, "am.yml").unwrap_err().to_string();
    assert!(
        e.contains("am.yml:2:13: route.receiver: undefined receiver \"nobody\""),
        "{e}"
    );
    assert!(e.contains("am.yml:3:15: route.group_wait:"), "{e}");
    assert!(
        e.contains("am.yml:5:18: route.routes[0].matchers[0]:"),
        "{e}"
    );
}

/// Issue 11: a corrupt silences file is an error naming the file and the
/// JSON problem; the file is left as it was (never overwritten by a save).
#[test]
fn a_corrupt_silences_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silences.json");
    let corrupt = "[{\"id\": \"a\",\n  \"matchers\": [}\n";
    std::fs::write(&path, corrupt).unwrap();
    let e = match Silences::open(Some(path.clone())) {
        Ok(_) => panic!("a corrupt file was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.starts_with(&format!(
            "{}:2:16: the silences are not valid JSON (expected value)",
            path.display()
        )),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), corrupt);
    // A missing file is no silences yet.
    let fresh = Silences::open(Some(dir.path().join("none.json"))).unwrap();
    assert!(fresh.list().is_empty());
}
