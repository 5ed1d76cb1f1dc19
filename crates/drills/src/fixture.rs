//! Test material shared by the timings, score and debrief tests: a
//! bad-release drill record and a journal builder.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use wire::Event;

use crate::plan::{Plan, PlannedFault};
use crate::record::{DrillRecord, DrillState, FaultState, ObjectiveState, Outcome, WrongRecord};
use crate::scenario::{
    Actor, Check, Cmp, Effect, EventMatch, FaultAction, FaultDef, Hint, Objective, Remedy,
    Scenario, Scoring, WrongOp,
};

pub const ID: i64 = 7;

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 4, 14, 0, 0)
        .single()
        .expect("a valid date")
}

fn matcher(kind: &str, subject: &str) -> EventMatch {
    EventMatch {
        kind: kind.into(),
        subject: Some(subject.into()),
        ..Default::default()
    }
}

fn release_fault() -> (FaultDef, PlannedFault) {
    let action = FaultAction::Release {
        service: "productcatalog".into(),
        version: "v2".into(),
    };
    let remedies = vec![Remedy {
        when: vec![matcher("rollback.finished", "productcatalog")],
        effect: Effect::End,
        note: "rolled back productcatalog".into(),
    }];
    let title = "productcatalog v2 fails 30% of product lookups".to_string();
    let def = FaultDef {
        id: "release".into(),
        title: title.clone(),
        root: true,
        after_min: Duration::from_secs(30),
        after_max: Duration::from_secs(30),
        variants: vec![action.clone()],
        remedies: remedies.clone(),
    };
    let planned = PlannedFault {
        id: "release".into(),
        title,
        root: true,
        at: Duration::from_secs(30),
        variant: 0,
        action,
        remedies,
    };
    (def, planned)
}

pub fn scenario() -> Scenario {
    let (def, _) = release_fault();
    Scenario {
        id: "bad-release".into(),
        title: "A release that breaks product pages".into(),
        topology: "shop".into(),
        difficulty: 2,
        skills: vec!["alerting".into(), "rollback".into()],
        typical: Duration::from_secs(900),
        time_limit: Duration::from_secs(1500),
        briefing: "You are on call for the shop.".into(),
        shadow: false,
        setup: vec![],
        faults: vec![def],
        objectives: vec![
            Objective {
                id: "checkout-ok".into(),
                title: "Checkouts succeed again".into(),
                check: Check::Query {
                    expr: "sum(rate(ok[1m])) / sum(rate(all[1m]))".into(),
                    op: Cmp::Ge,
                    threshold: 0.995,
                    hold: Duration::from_secs(120),
                    window: Duration::from_secs(60),
                },
                actor: Actor::Anyone,
            },
            Objective {
                id: "acked".into(),
                title: "The page is acknowledged".into(),
                check: Check::Journal {
                    event: EventMatch {
                        kind: "page.acknowledged".into(),
                        actor: Actor::Trainee,
                        ..Default::default()
                    },
                },
                actor: Actor::Trainee,
            },
        ],
        hints: vec![
            Hint {
                text: "Look at what changed recently".into(),
                cost: 10.0,
            },
            Hint {
                text: "Roll back productcatalog".into(),
                cost: 20.0,
            },
        ],
        wrong: vec![WrongOp {
            when: matcher("rollback.finished", "cart"),
            cost: 10.0,
            why: "cart was healthy".into(),
        }],
        scoring: Scoring {
            acknowledge: Duration::from_secs(300),
            mitigate: Duration::from_secs(600),
            resolve: Duration::from_secs(900),
            objectives: 50.0,
            speed: 30.0,
            clean: 20.0,
        },
        ideal_path: vec![
            "Acknowledge the page.".into(),
            "Look at recent deploys.".into(),
            "Roll back productcatalog.".into(),
        ],
    }
}

/// A bad-release drill that has not begun its fault yet.
pub fn record() -> DrillRecord {
    let scenario = scenario();
    let (_, planned) = release_fault();
    DrillRecord {
        id: ID,
        plan: Plan {
            seed: 42,
            faults: vec![planned],
            hints: scenario.hints.clone(),
        },
        scenario,
        trainee: "alice".into(),
        shadow: None,
        seed: 42,
        scale: 1.0,
        started: start(),
        ended: None,
        outcome: None,
        state: DrillState {
            faults: vec![FaultState::default()],
            objectives: vec![ObjectiveState::default(), ObjectiveState::default()],
            ..Default::default()
        },
    }
}

/// The record with a second root fault, `leak`, at +60 s.
pub fn two_root_faults() -> DrillRecord {
    let mut r = record();
    let mut leak = r.plan.faults[0].clone();
    leak.id = "leak".into();
    leak.title = "cart leaks memory".into();
    leak.at = Duration::from_secs(60);
    r.plan.faults.push(leak);
    r.state.faults.push(FaultState::default());
    r
}

/// Builds a journal for a drill, times as offsets from its start.
pub struct Journal {
    pub drill: i64,
    pub started: DateTime<Utc>,
    pub events: Vec<Event>,
}

impl Journal {
    pub fn new(r: &DrillRecord) -> Journal {
        Journal {
            drill: r.id,
            started: r.started,
            events: Vec::new(),
        }
    }

    pub fn time(&self, offset_s: i64) -> DateTime<Utc> {
        self.started + chrono::Duration::seconds(offset_s)
    }

    pub fn push(
        &mut self,
        offset_s: i64,
        kind: &str,
        source: &str,
        subject: &str,
        attributes: serde_json::Value,
    ) -> i64 {
        let id = self.events.len() as i64 + 1000;
        self.events.push(Event {
            id,
            time: self.time(offset_s),
            kind: kind.into(),
            source: source.into(),
            subject: subject.into(),
            attributes,
        });
        id
    }

    fn drill_event(&mut self, offset_s: i64, kind: &str, mut attrs: serde_json::Value) -> i64 {
        attrs["drill"] = json!(self.drill);
        let subject = self.drill.to_string();
        self.push(offset_s, kind, "drill", &subject, attrs)
    }

    pub fn fault_started(&mut self, offset_s: i64, fault: &str) {
        self.drill_event(
            offset_s,
            "drill.fault_started",
            json!({"fault": fault, "title": fault, "planned_s": offset_s}),
        );
    }

    pub fn remedied(&mut self, offset_s: i64, fault: &str, by: &str) {
        self.drill_event(
            offset_s,
            "drill.fault_remedied",
            json!({"fault": fault, "note": "rolled back productcatalog", "by": by, "event_id": 0}),
        );
    }

    pub fn objective_met(&mut self, offset_s: i64, objective: &str, since_s: Option<i64>) {
        let mut attrs = json!({"objective": objective, "title": objective});
        if let Some(s) = since_s {
            attrs["since"] = json!(self.time(s).to_rfc3339());
        }
        self.drill_event(offset_s, "drill.objective_met", attrs);
    }
}

/// The whole drill: release at +30 s, alert +120, page +125, ack +185
/// (alice), a hint, a wrong rollback of cart, the rollback of
/// productcatalog at +360, the SLO holding from +400, the end at +540.
pub fn bad_release_journal(r: &DrillRecord) -> Vec<Event> {
    let mut j = Journal::new(r);
    j.drill_event(
        0,
        "drill.started",
        json!({"scenario": "bad-release", "title": r.scenario.title, "trainee": "alice", "seed": 42, "scale": 1.0}),
    );
    j.push(1, "load.changed", "drill", "loadgen", json!({"rps": 20}));
    j.fault_started(30, "release");
    j.push(
        30,
        "deploy.started",
        "deploy-bot",
        "productcatalog",
        json!({"from": "v1", "to": "v2"}),
    );
    j.push(
        32,
        "deploy.finished",
        "deploy-bot",
        "productcatalog",
        json!({"from": "v1", "to": "v2"}),
    );
    j.push(
        120,
        "alert.firing",
        "rules",
        "ProductCatalogErrors",
        json!({"severity": "page"}),
    );
    j.push(
        125,
        "page.triggered",
        "oncall",
        "page/1",
        json!({"assignee": "alice"}),
    );
    j.push(126, "notification.sent", "dispatcher", "pager", json!({}));
    j.push(
        185,
        "page.acknowledged",
        "oncall",
        "page/1",
        json!({"by": "alice"}),
    );
    j.objective_met(185, "acked", None);
    j.drill_event(
        200,
        "drill.hint",
        json!({"index": 0, "cost": 10, "text": "Look at what changed recently"}),
    );
    j.push(
        250,
        "rollback.started",
        "alice",
        "cart",
        json!({"from": "v3", "to": "v2"}),
    );
    let wrong = j.push(
        260,
        "rollback.finished",
        "alice",
        "cart",
        json!({"from": "v3", "to": "v2"}),
    );
    j.drill_event(
        260,
        "drill.wrong_op",
        json!({"event_id": wrong, "kind": "rollback.finished", "subject": "cart", "by": "alice", "why": "cart was healthy", "cost": 10}),
    );
    j.push(
        300,
        "page.noted",
        "oncall",
        "page/1",
        json!({"by": "alice", "note": "<script>alert(1)</script>"}),
    );
    j.push(
        340,
        "rollback.started",
        "alice",
        "productcatalog",
        json!({"from": "v2", "to": "v1"}),
    );
    j.push(
        360,
        "rollback.finished",
        "alice",
        "productcatalog",
        json!({"from": "v2", "to": "v1"}),
    );
    j.remedied(360, "release", "alice");
    j.objective_met(520, "checkout-ok", Some(400));
    j.push(
        530,
        "alert.resolved",
        "rules",
        "ProductCatalogErrors",
        json!({}),
    );
    j.push(
        540,
        "page.resolved",
        "oncall",
        "page/1",
        json!({"by": "alerting"}),
    );
    j.drill_event(
        540,
        "drill.ended",
        json!({"outcome": "completed", "score": 80, "by": "drill"}),
    );
    j.events
}

/// The record's state at the end of [`bad_release_journal`].
pub fn finished_record() -> DrillRecord {
    let mut r = record();
    let t = |s: i64| r.started + chrono::Duration::seconds(s);
    r.ended = Some(t(540));
    r.outcome = Some(Outcome::Completed);
    r.state.faults[0] = FaultState {
        started: Some(t(30)),
        remedied: Some(t(360)),
        remedy: Some("rolled back productcatalog".into()),
        ..Default::default()
    };
    r.state.objectives = vec![
        ObjectiveState {
            met: Some(t(520)),
            since: Some(t(400)),
            value: Some(0.999),
            violated: true,
        },
        ObjectiveState {
            met: Some(t(185)),
            ..Default::default()
        },
    ];
    r.state.hints_taken = 1;
    r.state.hints_cost = 10.0;
    r.state.wrong = vec![WrongRecord {
        time: t(260),
        event_id: 1012,
        kind: "rollback.finished".into(),
        subject: "cart".into(),
        source: "alice".into(),
        why: "cart was healthy".into(),
        cost: 10.0,
    }];
    r
}
