//! The journal is the one history, kept at the moment of each change: for
//! every kind of change made over the API, the event is in the journal as
//! soon as the call returns (read at once, no waiting). Alert transitions
//! and notification outcomes, which no API call causes, are journaled in
//! causal order: the alert fires before its page opens, the page opens
//! before its notification is delivered.

mod common;

use common::{Lab, eventually, webhook};
use serde_json::{Value, json};

/// The newest event id now.
fn newest(lab: &Lab) -> i64 {
    lab.get("/api/events?limit=1")["data"][0]["id"]
        .as_i64()
        .unwrap_or(0)
}

/// Events of `kind` after `after`, read at once.
fn since(lab: &Lab, after: i64, kind: &str) -> Vec<Value> {
    lab.get(&format!(
        "/api/events?after_id={after}&kind={kind}&limit=1000"
    ))["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Does `call`, then checks at once that each of `kinds` was journaled.
fn journaled(lab: &Lab, kinds: &[&str], call: impl FnOnce() -> Value) -> Vec<Value> {
    let before = newest(lab);
    let answer = call();
    assert_eq!(answer["status"], "success", "{kinds:?}: {answer}");
    kinds
        .iter()
        .map(|k| {
            let got = since(lab, before, k);
            assert!(
                !got.is_empty(),
                "{k} not in the journal when the call returned ({answer})"
            );
            got.last().cloned().unwrap()
        })
        .collect()
}

fn files(hook: &str) -> (tempfile::TempDir, String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let oncall = dir.path().join("oncall.yaml");
    std::fs::write(
        &oncall,
        format!(
            "time_zone: UTC
people:
  - handle: alice
    contact: {{webhook: \"{hook}\"}}
schedules:
  - name: lab
    layers:
      - {{role: primary, people: [alice], start: 2026-01-05 09:00, rotation: 1w}}
escalation_policies:
  - name: default
    steps:
      - targets: [{{schedule: lab, role: primary}}]
        escalate_after: 10m
"
        ),
    )
    .unwrap();
    let am = dir.path().join("am.yml");
    std::fs::write(
        &am,
        "route:
  receiver: lab
  group_by: [alertname]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
  routes:
    - matchers: ['severity=\"page\"']
      receiver: pager
receivers:
  - name: lab
  - name: pager
",
    )
    .unwrap();
    // Fires while ad runs more than one instance.
    let rules = dir.path().join("rules.yml");
    std::fs::write(
        &rules,
        "groups:
  - name: journal-test
    rules:
      - alert: AdScaledOut
        expr: count(up{job=\"ad\"} == 1) > 1
        labels:
          severity: page
        annotations:
          summary: ad runs more than one instance
",
    )
    .unwrap();
    let p = |p: std::path::PathBuf| p.display().to_string();
    (dir, p(oncall), p(am), p(rules))
}

#[test]
fn every_change_is_in_the_journal_when_the_api_answers() {
    let (hook, received, _rt) = webhook();
    let (_dir, oncall, am, rules) = files(&hook);
    let lab = Lab::start(
        "shop",
        &[
            "--rps",
            "5",
            "--oncall",
            &oncall,
            "--alertmanager-config",
            &am,
            "--rules",
            &rules,
        ],
    );
    let started = since(&lab, 0, "lab.started");
    assert_eq!(started.len(), 1, "lab.started once");

    // Lab operations, each journaled under who asked.
    let ev = journaled(&lab, &["instance.restarted"], || {
        lab.post("/api/lab/restart", json!({"service": "cart", "index": 0}))
    });
    assert_eq!(ev[0]["subject"], "cart/0");
    assert_eq!(ev[0]["source"], "instructor");
    journaled(&lab, &["config.changed"], || {
        lab.post(
            "/api/lab/config",
            json!({"service": "cart", "set": {"retries.cartcache": "1"}}),
        )
    });
    journaled(
        &lab,
        &["deploy.started", "instance.restarted", "deploy.finished"],
        || {
            lab.post(
                "/api/lab/deploy",
                json!({"service": "productcatalog", "version": "v2"}),
            )
        },
    );
    journaled(&lab, &["rollback.started", "rollback.finished"], || {
        lab.post("/api/lab/rollback", json!({"service": "productcatalog"}))
    });
    journaled(&lab, &["load.changed"], || {
        lab.post("/api/lab/load", json!({"rps": 6}))
    });
    journaled(&lab, &["instance.drained"], || {
        lab.post("/api/lab/drain", json!({"service": "cart", "index": 0}))
    });
    journaled(&lab, &["instance.undrained"], || {
        lab.post(
            "/api/lab/drain",
            json!({"service": "cart", "index": 0, "on": false}),
        )
    });

    // Silences (Alertmanager's API answers without an envelope).
    let before = newest(&lab);
    let now = chrono::Utc::now();
    let (s, v) = lab.call(
        "POST",
        "/api/v2/silences",
        Some(&lab.token()),
        Some(
            json!({"matchers": [{"name": "alertname", "value": "Nothing", "isRegex": false}],
            "startsAt": now, "endsAt": now + chrono::Duration::hours(1),
            "createdBy": "test", "comment": "journal test"}),
        ),
    );
    assert_eq!(s, 200, "{v}");
    let id = v["silenceID"].as_str().unwrap().to_string();
    let created = since(&lab, before, "silence.created");
    assert_eq!(created.len(), 1, "silence.created at once");
    assert_eq!(created[0]["subject"], id.as_str());
    let (s, _) = lab.call(
        "DELETE",
        &format!("/api/v2/silence/{id}"),
        Some(&lab.token()),
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(since(&lab, before, "silence.expired").len(), 1);

    // Faults.
    let ev = journaled(&lab, &["fault.injected"], || {
        lab.post(
            "/api/faults",
            json!({"kind": "latency", "service": "ad", "delay": "20ms", "for": "1m"}),
        )
    });
    let fault = ev[0]["attributes"]["id"].as_str().unwrap().to_string();
    let before = newest(&lab);
    let (s, _) = lab.call(
        "DELETE",
        &format!("/api/faults/{fault}"),
        Some(&lab.token()),
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(since(&lab, before, "fault.cleared").len(), 1);

    // Pages, tokens and tools' own events.
    let ev = journaled(&lab, &["page.triggered"], || {
        lab.post("/api/pages", json!({"title": "by hand"}))
    });
    let page = ev[0]["subject"]
        .as_str()
        .unwrap()
        .trim_start_matches("page-")
        .to_string();
    journaled(&lab, &["page.acknowledged"], || {
        lab.post(&format!("/api/pages/{page}/ack"), json!({"by": "alice"}))
    });
    journaled(&lab, &["token.created"], || {
        lab.post("/api/tokens", json!({"name": "tess", "role": "viewer"}))
    });
    journaled(&lab, &["drill.custom"], || {
        lab.post(
            "/api/events",
            json!({"kind": "drill.custom", "subject": "x"}),
        )
    });

    // An alert fires because of a scale-out: the scale is journaled at
    // once; then alert.firing, page.triggered and notification.sent follow
    // in that order, and the contact got the page.
    let before = newest(&lab);
    journaled(&lab, &["service.scaled"], || {
        lab.post("/api/lab/scale", json!({"service": "ad", "instances": 2}))
    });
    let delivered = eventually(60, || {
        let sent = since(&lab, before, "notification.sent");
        (!sent.is_empty()).then_some(sent)
    })
    .unwrap_or_else(|| panic!("no notification.sent; log:\n{}", lab.log()));
    let firing = since(&lab, before, "alert.firing");
    let paged = since(&lab, before, "page.triggered");
    let fired = firing
        .iter()
        .find(|e| e["subject"] == "AdScaledOut")
        .expect("alert.firing for AdScaledOut");
    let page = paged.first().expect("page.triggered");
    assert!(
        fired["id"].as_i64() < page["id"].as_i64(),
        "{fired} before {page}"
    );
    assert!(page["id"].as_i64() < delivered[0]["id"].as_i64());
    assert_eq!(fired["attributes"]["labels"]["severity"], "page");
    assert!(
        !received.lock().unwrap().is_empty(),
        "the webhook got the page"
    );

    // Scaling back resolves it.
    let before = newest(&lab);
    lab.post("/api/lab/scale", json!({"service": "ad", "instances": 1}));
    eventually(30, || {
        let r = since(&lab, before, "alert.resolved");
        r.iter()
            .any(|e| e["subject"] == "AdScaledOut")
            .then_some(())
    })
    .expect("alert.resolved for AdScaledOut");
}
