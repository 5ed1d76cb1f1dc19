//! Pages on a real database with a clock moved by hand: escalation order and
//! timing, shadows, deduplication, snooze, reassign, auto-resolve, tickets,
//! reports, and a restart in the middle of an escalation. Runs on SQLite,
//! and on PostgreSQL when FIREDRILL_TEST_POSTGRES_URL is set (CI sets it).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use oncall::config::Person;
use oncall::{AlertGroup, ManualClock, Notifier, OnCall, OnCallError, Page};
use serde_json::json;
use store::{Db, Journal};

const CONFIG: &str = r#"
time_zone: Europe/Berlin
people:
  - handle: ines
  - handle: alice
  - handle: bob
  - handle: carol
  - handle: dave
  - handle: erin
schedules:
  - name: lab
    layers:
      - role: primary
        people: [alice, bob]
        start: 2026-11-09 09:00
        rotation: 1w
      - role: secondary
        people: [carol, dave]
        start: 2026-11-09 09:00
        rotation: 1w
shadows:
  - apprentice: erin
    mentor: alice
escalation_policies:
  - name: default
    repeat: 1
    steps:
      - targets: [{schedule: lab, role: primary}]
        escalate_after: 5m
      - targets: [{schedule: lab, role: secondary}]
        escalate_after: 5m
      - targets: [{person: ines}]
        escalate_after: 10m
pager:
  escalation_policy: default
  auto_resolve: true
tickets:
  assign_to: {schedule: lab, role: secondary}
"#;

/// Remembers who was notified of what.
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, String, i64, String)>>);

impl Notifier for Recorder {
    fn notify(&self, person: &Person, role: &str, page: &Page, event: &str) {
        self.0.lock().unwrap().push((
            person.handle.clone(),
            role.to_string(),
            page.id,
            event.to_string(),
        ));
    }
}

impl Recorder {
    fn take(&self) -> Vec<(String, String, String)> {
        self.0
            .lock()
            .unwrap()
            .drain(..)
            .map(|(p, r, _, e)| (p, r, e))
            .collect()
    }
}

fn t0() -> DateTime<Utc> {
    // Wednesday 2026-11-25 10:00 in Berlin: week 3 of the rotation, alice
    // primary (weeks alternate alice, bob from 2026-11-09), carol secondary.
    Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap()
}

struct Rig {
    oncall: OnCall,
    clock: Arc<ManualClock>,
    sent: Arc<Recorder>,
    url: String,
    dir: Option<tempfile::TempDir>,
}

async fn rig_at(url: &str, clock: Arc<ManualClock>, dir: Option<tempfile::TempDir>) -> Rig {
    let db = Db::open(url).await.unwrap();
    let cfg = Arc::new(oncall::config::parse(CONFIG, "test.yaml").unwrap());
    let sent = Arc::new(Recorder::default());
    let oncall = OnCall::new(
        cfg,
        db.clone(),
        Journal::new(db),
        clock.clone(),
        sent.clone(),
    );
    Rig {
        oncall,
        clock,
        sent,
        url: url.to_string(),
        dir,
    }
}

/// A fresh database for each test: SQLite in a temp dir, or a PostgreSQL
/// schema of its own.
async fn rigs() -> Vec<Rig> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let url = Db::sqlite_url(dir.path());
    out.push(rig_at(&url, Arc::new(ManualClock::new(t0())), Some(dir)).await);
    if let Ok(pg) = std::env::var("FIREDRILL_TEST_POSTGRES_URL") {
        let name = format!("firedrill_oncall_{}_{}", std::process::id(), rand_suffix());
        let url = store::db::fresh_postgres(&pg, &name)
            .await
            .expect("PostgreSQL from FIREDRILL_TEST_POSTGRES_URL");
        out.push(rig_at(&url, Arc::new(ManualClock::new(t0())), None).await);
    } else if std::env::var("CI").is_ok() {
        panic!("CI must run the on-call tests against PostgreSQL: set FIREDRILL_TEST_POSTGRES_URL");
    } else {
        eprintln!("skipping PostgreSQL: FIREDRILL_TEST_POSTGRES_URL is not set");
    }
    out
}

/// Closes the databases; PostgreSQL ones are dropped.
async fn done(rigs: Vec<Rig>) {
    for r in rigs {
        r.oncall.db.close().await;
        if r.dir.is_none()
            && let Ok(pg) = std::env::var("FIREDRILL_TEST_POSTGRES_URL")
            && let Some(name) = r.url.rsplit('/').next()
        {
            store::db::drop_postgres(&pg, name).await;
        }
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed) * 1_000_000_000 + Utc::now().timestamp_subsec_nanos() as u64
}

fn alert(key: &str) -> AlertGroup {
    AlertGroup {
        group_key: key.into(),
        title: format!("{key} burning"),
        summary: "checkout failing".into(),
        labels: json!({"alertname": key}),
        firing: 1,
    }
}

#[tokio::test]
async fn escalation_follows_the_policy_in_order_and_on_time() {
    let all = rigs().await;
    for r in &all {
        let (p, new) = r.oncall.trigger(&alert("A")).await.unwrap();
        assert!(new);
        assert_eq!(p.assignee, "alice", "{}", r.url);
        assert_eq!(
            r.sent.take(),
            [
                ("alice".into(), "primary".into(), "page.triggered".into()),
                ("erin".into(), "shadow".into(), "page.triggered".into())
            ]
        );
        // 4m59s: nothing moves.
        r.clock.advance(Duration::seconds(299));
        assert!(r.oncall.tick().await.unwrap().is_empty());
        // 5m: the secondary.
        r.clock.advance(Duration::seconds(1));
        assert_eq!(r.oncall.tick().await.unwrap(), [p.id]);
        assert_eq!(
            r.sent.take(),
            [("carol".into(), "secondary".into(), "page.escalated".into())]
        );
        // 10m: the instructor.
        r.clock.advance(Duration::minutes(5));
        r.oncall.tick().await.unwrap();
        assert_eq!(
            r.sent.take(),
            [("ines".into(), "person".into(), "page.escalated".into())]
        );
        // 20m: repeat once from the start.
        r.clock.advance(Duration::minutes(10));
        r.oncall.tick().await.unwrap();
        let page = r.oncall.page(p.id).await.unwrap();
        assert_eq!((page.step, page.round), (0, 1));
        assert_eq!(r.sent.take().len(), 2, "primary and shadow again");
        // Then steps 1 and 2 of round 1, and the policy is exhausted.
        r.clock.advance(Duration::minutes(5));
        r.oncall.tick().await.unwrap();
        r.clock.advance(Duration::minutes(5));
        r.oncall.tick().await.unwrap();
        r.clock.advance(Duration::minutes(10));
        r.oncall.tick().await.unwrap();
        r.clock.advance(Duration::hours(1));
        assert!(r.oncall.tick().await.unwrap().is_empty());
        let page = r.oncall.page(p.id).await.unwrap();
        assert_eq!((page.step, page.round, page.next_escalation), (2, 1, None));
        let kinds: Vec<String> = r
            .oncall
            .timeline(p.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds.iter().filter(|k| *k == "page.escalated").count(), 5);
        assert_eq!(kinds.last().unwrap(), "page.exhausted");
    }
    done(all).await;
}

#[tokio::test]
async fn acknowledging_stops_escalation_and_shadows_may_only_note() {
    let all = rigs().await;
    for r in &all {
        let (p, _) = r.oncall.trigger(&alert("B")).await.unwrap();
        let e = r.oncall.acknowledge(p.id, Some("erin")).await.unwrap_err();
        assert!(matches!(e, OnCallError::Forbidden(_)), "{e}");
        let e = r.oncall.resolve(p.id, Some("erin")).await.unwrap_err();
        assert!(matches!(e, OnCallError::Forbidden(_)), "{e}");
        r.oncall
            .note(p.id, Some("erin"), "dashboards show payment 5xx")
            .await
            .unwrap();
        let e = r
            .oncall
            .acknowledge(p.id, Some("nobody"))
            .await
            .unwrap_err();
        assert!(matches!(e, OnCallError::UnknownPerson(_)), "{e}");
        r.clock.advance(Duration::seconds(90));
        let acked = r.oncall.acknowledge(p.id, Some("alice")).await.unwrap();
        assert_eq!(acked.status, "acknowledged");
        assert_eq!(acked.acknowledged_by.as_deref(), Some("alice"));
        assert_eq!(
            (acked.acknowledged.unwrap() - acked.created).num_seconds(),
            90
        );
        r.sent.take();
        r.clock.advance(Duration::hours(1));
        assert!(
            r.oncall.tick().await.unwrap().is_empty(),
            "no escalation once acknowledged"
        );
        assert!(r.sent.take().is_empty());
        let resolved = r.oncall.resolve(p.id, Some("alice")).await.unwrap();
        assert_eq!(resolved.status, "resolved");
        let e = r.oncall.acknowledge(p.id, Some("alice")).await.unwrap_err();
        assert!(matches!(e, OnCallError::Conflict(_)), "{e}");
        let tl = r.oncall.timeline(p.id).await.unwrap();
        let note = tl.iter().find(|e| e.kind == "page.noted").unwrap();
        assert_eq!(note.attributes["by"], "erin");
        assert!(tl.iter().any(
            |e| e.kind == "page.acknowledged" && e.attributes["seconds_to_acknowledge"] == 90.0
        ));
    }
    done(all).await;
}

#[tokio::test]
async fn one_open_page_per_alert_group_and_auto_resolve() {
    let all = rigs().await;
    for r in &all {
        let (a, new_a) = r.oncall.trigger(&alert("C")).await.unwrap();
        let mut again = alert("C");
        again.firing = 3;
        let (b, new_b) = r.oncall.trigger(&again).await.unwrap();
        assert!(new_a && !new_b);
        assert_eq!(a.id, b.id);
        assert_eq!(b.alerts, 3);
        assert_eq!(r.sent.take().len(), 2, "the duplicate notifies nobody");
        let (other, _) = r.oncall.trigger(&alert("D")).await.unwrap();
        assert_ne!(other.id, a.id);
        let resolved = r.oncall.alerts_resolved("C").await.unwrap().unwrap();
        assert_eq!(
            (resolved.status.as_str(), resolved.resolved_by.as_deref()),
            ("resolved", Some("alerting"))
        );
        // The group fires again: a new page.
        let (c, new_c) = r.oncall.trigger(&alert("C")).await.unwrap();
        assert!(new_c && c.id != a.id);
    }
    done(all).await;
}

#[tokio::test]
async fn snooze_wakes_the_page_and_reassign_hands_it_over() {
    let all = rigs().await;
    for r in &all {
        let (p, _) = r.oncall.trigger(&alert("E")).await.unwrap();
        r.sent.take();
        let s = r
            .oncall
            .snooze(p.id, Some("alice"), std::time::Duration::from_secs(600))
            .await
            .unwrap();
        assert_eq!(s.status, "acknowledged");
        r.clock.advance(Duration::minutes(9));
        assert!(r.oncall.tick().await.unwrap().is_empty());
        r.clock.advance(Duration::minutes(1));
        assert_eq!(r.oncall.tick().await.unwrap(), [p.id]);
        let woke = r.oncall.page(p.id).await.unwrap();
        assert_eq!(woke.status, "triggered");
        assert_eq!(
            r.sent.take()[0],
            ("alice".into(), "primary".into(), "page.unsnoozed".into())
        );
        let e = r
            .oncall
            .reassign(p.id, Some("alice"), "erin")
            .await
            .unwrap_err();
        assert!(matches!(e, OnCallError::Forbidden(_)));
        let moved = r.oncall.reassign(p.id, Some("alice"), "bob").await.unwrap();
        assert_eq!(moved.assignee, "bob");
        assert_eq!(
            r.sent.take(),
            [("bob".into(), "reassigned".into(), "page.reassigned".into())]
        );
        // The step's timer starts over for bob.
        r.clock.advance(Duration::minutes(4));
        assert!(r.oncall.tick().await.unwrap().is_empty());
        r.clock.advance(Duration::minutes(1));
        assert_eq!(r.oncall.tick().await.unwrap(), [p.id]);
    }
    done(all).await;
}

#[tokio::test]
async fn a_drill_puts_the_trainee_and_shadow_on_call_until_it_ends() {
    let all = rigs().await;
    for r in &all {
        let until = t0() + Duration::minutes(30);
        // Bad overrides are refused with the reason.
        let e = r.oncall.set_override("nobody", None, until).unwrap_err();
        assert!(matches!(e, OnCallError::UnknownPerson(_)), "{e}");
        let e = r
            .oncall
            .set_override("dave", Some("dave"), until)
            .unwrap_err();
        assert!(matches!(e, OnCallError::Invalid(_)), "{e}");
        let e = r.oncall.set_override("dave", None, t0()).unwrap_err();
        assert!(matches!(e, OnCallError::Invalid(_)), "{e}");

        // dave (a secondary by the rotation) is the trainee, bob shadows him.
        r.oncall.set_override("dave", Some("bob"), until).unwrap();
        let (p, _) = r.oncall.trigger(&alert("drill")).await.unwrap();
        assert_eq!(p.assignee, "dave", "{}", r.url);
        assert_eq!(
            r.sent.take(),
            [
                ("dave".into(), "primary".into(), "page.triggered".into()),
                ("bob".into(), "shadow".into(), "page.triggered".into())
            ]
        );
        // The shadow is a shadow: notes, not acknowledgements.
        let e = r.oncall.acknowledge(p.id, Some("bob")).await.unwrap_err();
        assert!(matches!(e, OnCallError::Forbidden(_)), "{e}");
        // Unacknowledged, it escalates as the policy says (the secondary).
        r.clock.advance(Duration::minutes(5));
        r.oncall.tick().await.unwrap();
        assert_eq!(
            r.sent.take(),
            [("carol".into(), "secondary".into(), "page.escalated".into())]
        );
        // `who` shows the trainee in every primary role, the shadow beside.
        let at = r.clock.now_utc();
        let o = r.oncall.override_at(at);
        let rows = oncall::roster::who(&r.oncall.config, at, o.as_ref());
        let primary = rows
            .iter()
            .find(|w| w.role == oncall::config::Role::Primary)
            .unwrap();
        let now = primary.now.as_ref().unwrap();
        assert_eq!(
            (now.person.as_str(), now.source.as_str()),
            ("dave", "drill")
        );
        assert_eq!(now.end, until);
        assert_eq!(primary.shadows, ["bob"]);
        assert_eq!(primary.next.as_ref().unwrap().person, "alice");
        assert!(primary.next.as_ref().unwrap().start >= until);

        // Past `until`: the rotation again (alice, with her apprentice).
        r.clock.set(until);
        assert_eq!(r.oncall.override_at(until), None);
        let (q, _) = r.oncall.trigger(&alert("after")).await.unwrap();
        assert_eq!(q.assignee, "alice");
        assert_eq!(
            r.sent.take(),
            [
                ("alice".into(), "primary".into(), "page.triggered".into()),
                ("erin".into(), "shadow".into(), "page.triggered".into())
            ]
        );

        // Released early: the rotation at once.
        r.oncall
            .set_override("carol", None, until + Duration::hours(1))
            .unwrap();
        let (d, _) = r.oncall.trigger(&alert("released")).await.unwrap();
        assert_eq!(d.assignee, "carol");
        r.oncall.clear_override();
        r.sent.take();
        let (e, _) = r.oncall.trigger(&alert("rotation")).await.unwrap();
        assert_eq!(e.assignee, "alice");
        let rows = oncall::roster::who(&r.oncall.config, r.clock.now_utc(), None);
        assert!(
            rows.iter()
                .all(|w| w.now.as_ref().is_none_or(|n| n.source != "drill"))
        );
    }
    done(all).await;
}

#[tokio::test]
async fn a_restart_in_the_middle_of_an_escalation_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = Db::sqlite_url(dir.path());
    let clock = Arc::new(ManualClock::new(t0()));
    let first = rig_at(&url, clock.clone(), None).await;
    let (p, _) = first.oncall.trigger(&alert("F")).await.unwrap();
    clock.advance(Duration::minutes(5));
    first.oncall.tick().await.unwrap();
    assert_eq!(first.oncall.page(p.id).await.unwrap().step, 1);
    first.oncall.db.close().await;
    drop(first);
    // Down for two minutes; the timer of step 1 (due at 10m) still holds.
    clock.advance(Duration::minutes(2));
    let second = rig_at(&url, clock.clone(), None).await;
    let page = second.oncall.page(p.id).await.unwrap();
    assert_eq!((page.step, page.assignee.as_str()), (1, "carol"));
    assert_eq!(page.next_escalation, Some(t0() + Duration::minutes(10)));
    clock.advance(Duration::minutes(2));
    assert!(second.oncall.tick().await.unwrap().is_empty());
    clock.advance(Duration::minutes(1));
    assert_eq!(second.oncall.tick().await.unwrap(), [p.id]);
    assert_eq!(
        second.sent.take(),
        [("ines".into(), "person".into(), "page.escalated".into())]
    );
    // A page that came due while the engine was down escalates on the first tick.
    let (q, _) = second.oncall.trigger(&alert("G")).await.unwrap();
    second.oncall.db.close().await;
    drop(second);
    clock.advance(Duration::minutes(30));
    let third = rig_at(&url, clock, None).await;
    assert_eq!(third.oncall.tick().await.unwrap(), [p.id, q.id]);
    assert_eq!(third.oncall.page(q.id).await.unwrap().step, 1);
    drop(dir);
}

#[tokio::test]
async fn tickets_are_assigned_listed_and_closed() {
    let all = rigs().await;
    for r in &all {
        let (t, new) = r.oncall.open_ticket(&alert("slow")).await.unwrap();
        assert!(new);
        assert_eq!(t.assignee, "carol", "the secondary on call");
        let (same, new) = r.oncall.open_ticket(&alert("slow")).await.unwrap();
        assert!(!new && same.id == t.id);
        let t = r
            .oncall
            .assign_ticket(t.id, Some("carol"), "dave")
            .await
            .unwrap();
        assert_eq!(t.assignee, "dave");
        assert_eq!(r.oncall.tickets(Some("open")).await.unwrap().len(), 1);
        let t = r.oncall.close_ticket(t.id, Some("dave")).await.unwrap();
        assert_eq!(t.status, "closed");
        assert!(r.oncall.tickets(Some("open")).await.unwrap().is_empty());
        assert!(matches!(
            r.oncall.close_ticket(t.id, None).await,
            Err(OnCallError::Conflict(_))
        ));
    }
    done(all).await;
}

#[tokio::test]
async fn reports_count_pages_acknowledgements_and_off_hours() {
    let all = rigs().await;
    for r in &all {
        let start = r.clock.now_utc();
        // Office hours (Wednesday 10:00 Berlin): acknowledged after 2 minutes.
        let (a, _) = r.oncall.trigger(&alert("R1")).await.unwrap();
        r.clock.advance(Duration::minutes(2));
        r.oncall.acknowledge(a.id, Some("alice")).await.unwrap();
        r.oncall.resolve(a.id, Some("alice")).await.unwrap();
        // 23:00 Berlin: off hours, escalates to carol, who acknowledges.
        r.clock
            .set(Utc.with_ymd_and_hms(2026, 11, 25, 22, 0, 0).unwrap());
        let (b, _) = r.oncall.trigger(&alert("R2")).await.unwrap();
        r.clock.advance(Duration::minutes(5));
        r.oncall.tick().await.unwrap();
        r.clock.advance(Duration::minutes(1));
        r.oncall.acknowledge(b.id, Some("carol")).await.unwrap();
        let end = r.clock.now_utc() + Duration::minutes(1);

        let h = r.oncall.handoff(start, end).await.unwrap();
        assert_eq!(
            (h.opened, h.acknowledged, h.resolved, h.escalations),
            (2, 2, 1, 1)
        );
        assert_eq!(h.mean_seconds_to_acknowledge, Some((120.0 + 360.0) / 2.0));
        assert_eq!(h.open_pages.len(), 1);
        assert_eq!(h.open_pages[0].id, b.id);

        let l = r.oncall.load(start, end).await.unwrap();
        let get = |who: &str| l.people.iter().find(|p| p.person == who).unwrap().clone();
        let (alice, carol, erin) = (get("alice"), get("carol"), get("erin"));
        assert_eq!(
            (alice.pages, alice.off_hours_pages, alice.acknowledged),
            (2, 1, 1)
        );
        assert_eq!(alice.mean_seconds_to_acknowledge, Some(120.0));
        assert_eq!(
            (carol.pages, carol.off_hours_pages, carol.acknowledged),
            (1, 1, 1)
        );
        assert_eq!((erin.pages, erin.shadow_pages), (0, 2));
        assert!(alice.hours_on_call > 12.0);
        let alice_shift = l.shifts.iter().find(|s| s.shift.person == "alice").unwrap();
        assert_eq!(alice_shift.pages, 2);
    }
    done(all).await;
}

trait NowUtc {
    fn now_utc(&self) -> DateTime<Utc>;
}

impl NowUtc for ManualClock {
    fn now_utc(&self) -> DateTime<Utc> {
        oncall::Clock::now(self)
    }
}
