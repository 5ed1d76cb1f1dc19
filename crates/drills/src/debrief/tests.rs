//! A whole bad-release drill through the debrief: build, text, JSON, HTML.

use serde_json::json;

use super::*;
use crate::fixture::{Journal, bad_release_journal, finished_record};
use crate::history::HistoryRow;

fn series(d_started: DateTime<Utc>) -> Vec<Series> {
    let t0 = d_started.timestamp() as f64;
    let points = (0..=54)
        .map(|i| {
            let t = i as f64 * 10.0;
            let v = if (40.0..400.0).contains(&t) {
                0.7
            } else {
                0.999
            };
            (t0 + t, v)
        })
        .collect();
    vec![Series {
        id: "checkout-ok".into(),
        title: "Checkouts succeed <again>".into(),
        expr: "sum(rate(ok[1m])) / sum(rate(all[1m]))".into(),
        op: Cmp::Ge,
        threshold: 0.995,
        points,
    }]
}

fn debrief() -> Debrief {
    let r = finished_record();
    let mut events = bad_release_journal(&r);
    // Another drill's hidden event in the same stretch of journal.
    let mut other = Journal::new(&r);
    other.drill = 99;
    other.fault_started(50, "elsewhere");
    events.extend(other.events.into_iter().map(|mut e| {
        e.id += 500;
        e
    }));
    build(&r, &events, series(r.started))
}

#[test]
fn the_debrief_reveals_faults_timings_and_actions() {
    let d = debrief();
    assert_eq!(d.drill.duration_s, Some(540.0));
    assert_eq!(d.timings.resolve_s, Some(330.0));
    let f = &d.faults[0];
    assert_eq!(f.remedied_by.as_deref(), Some("alice"));
    assert_eq!(f.remedy.as_deref(), Some("rolled back productcatalog"));
    assert_eq!(d.trainee_score().map(|s| s.total), Some(80.0));
    // People's operations only, with the wrong one and the remedy marked.
    let kinds: Vec<&str> = d.actions.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "page.acknowledged",
            "rollback.started",
            "page.noted",
            "rollback.started"
        ]
    );
    assert!(d.actions.iter().all(|a| a.by == "alice"));
    assert_eq!(d.hints.len(), 1);
    // The other drill's event is left out; this drill's hidden ones are in.
    assert!(d.timeline.iter().all(|e| !e.detail.contains("elsewhere")));
    assert!(
        d.timeline
            .iter()
            .any(|e| e.kind == "drill.fault_started" && e.hidden)
    );
    assert_eq!(d.timeline[0].t_s, 0.0);
}

#[test]
fn remedies_and_wrong_operations_mark_the_actions() {
    let r = finished_record();
    let mut j = Journal::new(&r);
    j.fault_started(30, "release");
    let wrong = j.push(60, "rollback.started", "alice", "cart", json!({}));
    j.push(
        61,
        "drill.wrong_op",
        "drill",
        "7",
        json!({"drill": 7, "event_id": wrong, "why": "cart was healthy"}),
    );
    let good = j.push(90, "rollback.started", "alice", "productcatalog", json!({}));
    j.push(
        95,
        "drill.fault_remedied",
        "drill",
        "7",
        json!({"drill": 7, "fault": "release", "event_id": good, "note": "rolled back", "by": "alice"}),
    );
    let d = build(&r, &j.events, Vec::new());
    assert_eq!(d.actions[0].wrong.as_deref(), Some("cart was healthy"));
    assert_eq!(d.actions[1].remedy.as_deref(), Some("rolled back"));
}

#[test]
fn the_text_tells_what_happened_and_the_timings() {
    let t = text(&debrief());
    assert!(t.starts_with("Drill 7 — A release that breaks product pages"));
    assert!(t.contains("Outcome: completed after 9m 00s · score 80/100"));
    assert!(t.contains("productcatalog v2 fails 30% of product lookups (root cause)"));
    assert!(t.contains("the deploy pipeline released productcatalog v2"));
    assert!(t.contains("remedied t+06:00 by alice: rolled back productcatalog"));
    assert!(t.contains("acknowledge"));
    assert!(t.contains("1m 00s") && t.contains("target 5m 00s"));
    assert!(t.contains("6m 10s") && t.contains("5m 30s"));
    assert!(t.contains("Ideal path\n  1. Acknowledge the page."));
    assert!(t.contains("t+04:20") && t.contains("wrong: cart was healthy"));
    assert!(t.contains("t+00:30 * drill.fault_started"));
}

#[test]
fn json_round_trips() {
    let d = debrief();
    let s = serde_json::to_string(&d).expect("serializes");
    let back: Debrief = serde_json::from_str(&s).expect("deserializes");
    assert_eq!(back, d);
    let v: serde_json::Value = serde_json::from_str(&s).expect("json");
    assert_eq!(v["timings"]["acknowledge_s"], json!(60.0));
    assert_eq!(v["drill"]["outcome"], json!("completed"));
    assert_eq!(v["series"][0]["op"], json!(">="));
}

fn history() -> Vec<HistoryRow> {
    let d = debrief();
    (0..3)
        .map(|i| HistoryRow {
            drill: i,
            scenario: "bad-release".into(),
            title: d.drill.title.clone(),
            trainee: "alice".into(),
            shadow: None,
            started: d.drill.started - chrono::Duration::days(3 - i),
            ended: d.drill.ended,
            outcome: d.drill.outcome,
            score: 50.0 + 10.0 * i as f64,
            timings: d.timings,
        })
        .collect()
}

#[test]
fn the_html_is_one_self_contained_document() {
    let h = html(&debrief(), &history());
    assert!(h.starts_with("<!DOCTYPE html>"));
    assert_eq!(h.matches("<html").count(), 1);
    assert!(h.trim_end().ends_with("</html>"));
    // A chart, the strip, the score bar and the trend.
    assert!(h.matches("<svg").count() >= 4);
    assert!(h.contains(r#"class="threshold""#));
    assert!(h.contains(">t+02:00<") && h.contains(">0.9<"));
    for marker in [
        "fault release",
        "first alert",
        ">page<",
        ">ack<",
        "remedy release",
        ">end<",
    ] {
        assert!(h.contains(marker), "marker {marker}");
    }
    // Nothing outside the document, no script.
    assert!(!h.contains("http://") && !h.contains("https://"));
    assert!(!h.contains("src=") && !h.contains("href="));
    assert!(!h.contains("<script"));
    // Injection through the journal and the scenario is escaped.
    assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(h.contains("Checkouts succeed &lt;again&gt;"));
    assert!(h.contains("rolled back productcatalog"));
}

#[test]
fn a_subject_with_markup_is_escaped_everywhere() {
    let r = finished_record();
    let mut j = Journal::new(&r);
    j.fault_started(30, "release");
    j.push(
        60,
        "instance.restarted",
        "<script>x</script>",
        "<script>alert('s')</script>",
        json!({}),
    );
    let d = build(&r, &j.events, series(r.started));
    assert_eq!(d.actions.len(), 1);
    let h = html(&d, &[]);
    assert!(!h.contains("<script"));
    assert!(h.contains("&lt;script&gt;alert(&#39;s&#39;)&lt;/script&gt;"));
    assert!(!h.contains(r#"class="trend""#), "no trend from one row");
}

#[test]
fn a_drill_without_samples_or_end_still_renders() {
    let mut r = crate::fixture::record();
    r.shadow = Some("bob".into());
    let d = build(&r, &[], empty_series(&r));
    assert_eq!(d.scores.len(), 2);
    assert_eq!(d.series.len(), 1);
    let t = text(&d);
    assert!(t.contains("Outcome: running") && t.contains("never started"));
    let h = html(&d, &[]);
    assert!(h.contains("no samples"));
}
