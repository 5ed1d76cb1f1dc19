//! On call in a running lab: a failure in the shop pages the scheduled
//! primary and their shadow and, unacknowledged, the secondary at the
//! configured delay; and a SIGKILL of the control plane while pages are
//! acknowledged and alerts arrive loses nothing that was reported stored.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Lab, eventually, webhook};
use serde_json::{Value, json};

fn oncall_file(dir: &std::path::Path, hook: &str, escalate_after: &str) -> String {
    let path = dir.join("oncall.yaml");
    std::fs::write(
        &path,
        format!(
            "time_zone: Europe/Berlin
people:
  - handle: alice
    contact: {{webhook: \"{hook}?to=alice\"}}
  - handle: erin
    contact: {{webhook: \"{hook}?to=erin\"}}
  - handle: carol
    contact: {{webhook: \"{hook}?to=carol\"}}
  - handle: ines
schedules:
  - name: lab
    layers:
      - {{role: primary, people: [alice], start: 2026-01-05 09:00, rotation: 1w}}
      - {{role: secondary, people: [carol], start: 2026-01-05 09:00, rotation: 1w}}
shadows:
  - {{apprentice: erin, mentor: alice}}
escalation_policies:
  - name: default
    steps:
      - targets: [{{schedule: lab, role: primary}}]
        escalate_after: {escalate_after}
      - targets: [{{schedule: lab, role: secondary}}]
        escalate_after: 10m
      - targets: [{{person: ines}}]
        escalate_after: 10m
"
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn routing_file(dir: &std::path::Path) -> String {
    let path = dir.join("am.yml");
    std::fs::write(
        &path,
        "route:
  receiver: lab
  group_by: [alertname, sloth_slo, sloth_severity]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
  routes:
    - matchers: ['severity=\"page\"']
      receiver: pager
    - matchers: ['severity=\"ticket\"']
      receiver: tickets
receivers:
  - name: lab
  - name: pager
  - name: tickets
",
    )
    .unwrap();
    path.display().to_string()
}

/// The webhook bodies sent to `who`.
fn sent_to(received: &Mutex<Vec<Value>>, who: &str) -> Vec<Value> {
    received
        .lock()
        .unwrap()
        .iter()
        .filter(|b| b["person"] == who)
        .cloned()
        .collect()
}

#[test]
fn a_failure_in_the_shop_pages_primary_and_shadow_then_the_secondary() {
    let (hook, received, _rt) = webhook();
    let files = tempfile::tempdir().unwrap();
    let oncall = oncall_file(files.path(), &hook, "8s");
    let am = routing_file(files.path());
    let lab = Lab::start(
        "shop",
        &[
            "--rps",
            "40",
            "--oncall",
            &oncall,
            "--alertmanager-config",
            &am,
        ],
    );
    let (ok, out, err) = lab.cli(&["oncall", "who"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("alice") && out.contains("erin") && out.contains("carol"),
        "{out}"
    );
    eventually(30, || {
        (lab.journeys(&["journey=\"checkout\"", "outcome=\"success\""]) >= 2.0).then_some(())
    })
    .expect("checkouts succeed first");

    // Payment down: every checkout fails, the SLO burns, the pager rings.
    let r = lab.post(
        "/api/lab/scale",
        json!({"service": "payment", "instances": 0}),
    );
    assert_eq!(r["status"], "success", "{r}");
    let primary = eventually(90, || sent_to(&received, "alice").into_iter().next())
        .unwrap_or_else(|| panic!("alice was not paged; log:\n{}", lab.log()));
    assert_eq!(primary["event"], "page.triggered");
    assert_eq!(primary["role"], "primary");
    assert!(
        primary["page"]["title"]
            .as_str()
            .unwrap()
            .contains("CheckoutAvailabilityBurn"),
        "{primary}"
    );
    let id = primary["page"]["id"].as_i64().unwrap();
    let shadow = eventually(10, || sent_to(&received, "erin").into_iter().next())
        .expect("the shadow is paged too");
    assert_eq!(
        (shadow["role"].as_str(), shadow["shadow"].as_bool()),
        (Some("shadow"), Some(true))
    );
    assert_eq!(shadow["page"]["id"], id);
    assert!(
        sent_to(&received, "carol").is_empty(),
        "the secondary waits"
    );

    // A shadow cannot acknowledge it for the primary.
    let (ok, _, err) = lab.cli(&["page", "ack", &id.to_string(), "--as", "erin"]);
    assert!(!ok && err.contains("shadows page"), "{err}");

    // Unacknowledged: the secondary is paged at the configured delay.
    let esc = eventually(30, || sent_to(&received, "carol").into_iter().next())
        .expect("the secondary is paged");
    assert_eq!(
        (esc["event"].as_str(), esc["role"].as_str()),
        (Some("page.escalated"), Some("secondary"))
    );
    let timeline = lab.get(&format!("/api/pages/{id}"))["data"]["timeline"].clone();
    let at = |kind: &str| {
        timeline
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == kind)
            .and_then(|e| chrono::DateTime::parse_from_rfc3339(e["time"].as_str()?).ok())
            .unwrap_or_else(|| panic!("no {kind} in {timeline}"))
    };
    let delay = (at("page.escalated") - at("page.triggered")).num_milliseconds() as f64 / 1000.0;
    println!("escalated to the secondary {delay:.1}s after the page opened (configured: 8s)");
    assert!(delay >= 8.0, "escalated before its time: {delay}s");

    // The secondary takes it; the pager view shows it; the journal has it all.
    let (ok, out, err) = lab.cli(&["page", "ack", &id.to_string(), "--as", "carol"]);
    assert!(ok, "{err}");
    assert!(out.contains("acknowledged"), "{out}");
    let (ok, out, _) = lab.cli(&["pager", "--for", "1s"]);
    assert!(
        ok && out.contains("acknowledged") && out.contains("carol"),
        "{out}"
    );
    let (ok, out, _) = lab.cli(&[
        "events",
        "--kind",
        "page.",
        "--subject",
        &format!("page-{id}"),
    ]);
    assert!(ok);
    for kind in ["page.triggered", "page.escalated", "page.acknowledged"] {
        assert!(out.contains(kind), "{kind} missing from:\n{out}");
    }
    // The alert itself is in the journal.
    let (ok, out, _) = lab.cli(&["events", "--kind", "alert.firing"]);
    assert!(ok && out.contains("CheckoutAvailabilityBurn"), "{out}");
    // Deliveries went through the notification log.
    let (ok, out, _) = lab.cli(&["notifications"]);
    assert!(
        ok && out.contains("oncall:alice") && out.contains("oncall:carol"),
        "{out}"
    );
}

#[test]
fn a_sigkill_loses_no_acknowledgement_or_event_that_was_reported_stored() {
    let files = tempfile::tempdir().unwrap();
    let am = routing_file(files.path());
    let mut lab = Lab::start("shop", &["--rps", "5", "--alertmanager-config", &am]);
    let (url, token) = (lab.url.clone(), lab.token());
    let stop = Arc::new(AtomicBool::new(false));
    let opened: Arc<Mutex<Vec<i64>>> = Default::default();
    let acked: Arc<Mutex<Vec<i64>>> = Default::default();
    let noted: Arc<Mutex<Vec<i64>>> = Default::default();
    let client = || {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap()
    };
    let mut workers = Vec::new();
    // Pages opened by hand, each a new group.
    {
        let (url, token, stop, opened) = (url.clone(), token.clone(), stop.clone(), opened.clone());
        let c = client();
        workers.push(std::thread::spawn(move || {
            for n in 0..2000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let r = c
                    .post(format!("{url}/api/pages"))
                    .bearer_auth(&token)
                    .json(
                        &json!({"title": format!("drill {n}"), "group_key": format!("drill-{n}")}),
                    )
                    .send();
                if let Ok(r) = r
                    && r.status().is_success()
                    && let Ok(v) = r.json::<Value>()
                    && let Some(id) = v["data"]["page"]["id"].as_i64()
                {
                    opened.lock().unwrap().push(id);
                }
            }
        }));
    }
    // Acknowledgements and notes on whatever is open.
    {
        let (url, token, stop, opened, acked, noted) = (
            url.clone(),
            token.clone(),
            stop.clone(),
            opened.clone(),
            acked.clone(),
            noted.clone(),
        );
        let c = client();
        workers.push(std::thread::spawn(move || {
            let mut next = 0;
            while !stop.load(Ordering::Relaxed) {
                let id = opened.lock().unwrap().get(next).copied();
                let Some(id) = id else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                next += 1;
                let ack = c
                    .post(format!("{url}/api/pages/{id}/acknowledge"))
                    .bearer_auth(&token)
                    .json(&json!({"by": "alice"}))
                    .send();
                if ack.is_ok_and(|r| r.status().is_success()) {
                    acked.lock().unwrap().push(id);
                }
                let note = c
                    .post(format!("{url}/api/pages/{id}/notes"))
                    .bearer_auth(&token)
                    .json(&json!({"by": "erin", "text": format!("note on {id}")}))
                    .send();
                if let Ok(r) = note
                    && r.status().is_success()
                    && let Ok(v) = r.json::<Value>()
                    && let Some(ev) = v["data"]["id"].as_i64()
                {
                    noted.lock().unwrap().push(ev);
                }
            }
        }));
    }
    // Alerts arriving over the Alertmanager API at the same time.
    {
        let (url, stop, token) = (url.clone(), stop.clone(), lab.token());
        let c = client();
        workers.push(std::thread::spawn(move || {
            for n in 0..2000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let _ = c
                    .post(format!("{url}/api/v2/alerts"))
                    .bearer_auth(&token)
                    .json(&json!([{"labels": {"alertname": format!("Storm{}", n % 50), "severity": "page"}}]))
                    .send();
                std::thread::sleep(Duration::from_millis(10));
            }
        }));
    }
    eventually(30, || (acked.lock().unwrap().len() >= 20).then_some(()))
        .expect("acknowledgements flow");
    let storm_pages = |lab: &Lab| {
        lab.get("/api/pages?status=all&limit=10000")["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|p| p["title"].as_str().unwrap_or("").contains("Storm"))
                    .count()
            })
            .unwrap_or(0)
    };
    eventually(30, || (storm_pages(&lab) > 0).then_some(())).expect("routed alerts open pages");
    std::thread::sleep(Duration::from_millis(300));
    lab.crash();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let (opened, acked, noted) = (
        opened.lock().unwrap().clone(),
        acked.lock().unwrap().clone(),
        noted.lock().unwrap().clone(),
    );
    println!(
        "before the SIGKILL: {} pages opened, {} acknowledged, {} notes",
        opened.len(),
        acked.len(),
        noted.len()
    );

    let lab = lab.restart("shop", &["--rps", "5", "--alertmanager-config", &am]);
    let all = lab.get("/api/pages?status=all&limit=10000")["data"].clone();
    let pages = all.as_array().unwrap();
    for id in &opened {
        assert!(
            pages.iter().any(|p| p["id"] == *id),
            "page {id} was reported opened and is gone"
        );
    }
    for id in &acked {
        let p = pages.iter().find(|p| p["id"] == *id).unwrap();
        assert_eq!(
            p["status"], "acknowledged",
            "page {id} was reported acknowledged: {p}"
        );
        assert_eq!(p["acknowledged_by"], "alice");
    }
    let events = lab.get("/api/events?kind=page.&limit=100000")["data"].clone();
    let ids: std::collections::BTreeSet<i64> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    for ev in &noted {
        assert!(
            ids.contains(ev),
            "journal event {ev} was reported stored and is gone"
        );
    }
    let acked_events = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "page.acknowledged")
        .count();
    assert!(
        acked_events >= acked.len(),
        "{acked_events} acknowledgement events for {} acknowledgements",
        acked.len()
    );
    // Alerts that arrived became pages through the router (deduplicated per group).
    let storms = storm_pages(&lab);
    assert!(storms > 0);
    println!("{storms} pages from the alert storm");
}
