//! A drill's score out of 100 (docs/drills.md, "Score"):
//!
//! - objectives = weights.objectives × met / total, over the objectives
//!   whose actor is anyone or the person's role (a shadow: `actor: shadow`
//!   only);
//! - speed = weights.speed / 3 for each of acknowledge, mitigate, resolve ×
//!   f(t / target): 1 up to the target, linearly down to 0 at 3× the
//!   target, 0 when never;
//! - clean = max(0, weights.clean × the share of objectives met − the
//!   costs of the person's wrong operations): a clean response earns it,
//!   doing nothing does not;
//! - total = clamp(objectives + speed + clean − hint costs (the trainee's
//!   only), 0, 100).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::record::DrillRecord;
use crate::scenario::Actor;
use crate::timings::Timings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Trainee,
    Shadow,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub person: String,
    pub role: Role,
    pub total: f64,
    pub parts: Vec<Part>,
}

/// One line of the breakdown. Hints are a part with negative points and a
/// maximum of 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub name: String,
    pub points: f64,
    pub max: f64,
    pub detail: String,
}

/// The speed factor of a time `t` against `target`: 1 up to the target,
/// falling linearly to 0 at 3× the target; 0 when never.
pub fn speed_factor(t: Option<f64>, target: Duration) -> f64 {
    let Some(t) = t else { return 0.0 };
    let target = target.as_secs_f64();
    if t <= target {
        return 1.0;
    }
    if target <= 0.0 {
        return 0.0;
    }
    ((3.0 - t / target) / 2.0).clamp(0.0, 1.0)
}

fn counts_for(actor: Actor, role: Role) -> bool {
    match role {
        Role::Trainee => matches!(actor, Actor::Anyone | Actor::Trainee),
        Role::Shadow => actor == Actor::Shadow,
    }
}

/// The objectives part, and the share of the person's objectives met (1
/// when none applies).
fn objectives_part(record: &DrillRecord, role: Role) -> (Part, f64) {
    let weight = record.scenario.scoring.objectives;
    let mut total = 0usize;
    let mut met = 0usize;
    for (i, o) in record.scenario.objectives.iter().enumerate() {
        if !counts_for(o.actor, role) {
            continue;
        }
        total += 1;
        if record
            .state
            .objectives
            .get(i)
            .is_some_and(|s| s.met.is_some())
        {
            met += 1;
        }
    }
    // Nothing to meet: nothing missed.
    let share = if total == 0 {
        1.0
    } else {
        met as f64 / total as f64
    };
    let part = Part {
        name: "objectives".into(),
        points: weight * share,
        max: weight,
        detail: format!("{met} of {total} met"),
    };
    (part, share)
}

fn speed_part(name: &str, t: Option<f64>, target: Duration, max: f64) -> Part {
    let f = speed_factor(t, target);
    let detail = match t {
        Some(t) => format!(
            "{} against a target of {}",
            crate::debrief::fmt::duration(t),
            crate::debrief::fmt::duration(target.as_secs_f64())
        ),
        None => "never".into(),
    };
    Part {
        name: name.into(),
        points: max * f,
        max,
        detail,
    }
}

/// `share`: of the person's objectives met; the clean weight is earned in
/// that proportion, so standing by earns nothing for being harmless.
fn clean_part(record: &DrillRecord, person: &str, share: f64) -> Part {
    let weight = record.scenario.scoring.clean;
    let wrong: Vec<_> = record
        .state
        .wrong
        .iter()
        .filter(|w| w.source == person)
        .collect();
    // `+ 0.0`: an empty sum of f64 is −0.
    let cost: f64 = wrong.iter().map(|w| w.cost).sum::<f64>() + 0.0;
    Part {
        name: "clean".into(),
        points: (weight * share - cost).max(0.0),
        max: weight,
        detail: format!(
            "{} wrong operation(s), −{}; earned for {:.0}% of objectives met",
            wrong.len(),
            num(cost),
            share * 100.0
        ),
    }
}

fn hints_part(record: &DrillRecord) -> Part {
    Part {
        name: "hints".into(),
        points: 0.0 - record.state.hints_cost,
        max: 0.0,
        detail: format!(
            "{} hint(s) read, −{}",
            record.state.hints_taken,
            num(record.state.hints_cost)
        ),
    }
}

fn num(x: f64) -> String {
    crate::debrief::fmt::number(x, 1)
}

/// `person`'s score in the drill of `record` with `timings`.
pub fn score(record: &DrillRecord, timings: &Timings, person: &str, role: Role) -> Score {
    let s = &record.scenario.scoring;
    let third = s.speed / 3.0;
    let (objectives, share) = objectives_part(record, role);
    let mut parts = vec![
        objectives,
        speed_part("acknowledge", timings.acknowledge_s, s.acknowledge, third),
        speed_part("mitigate", timings.mitigate_s, s.mitigate, third),
        speed_part("resolve", timings.resolve_s, s.resolve, third),
        clean_part(record, person, share),
    ];
    if role == Role::Trainee {
        parts.push(hints_part(record));
    }
    let sum: f64 = parts.iter().map(|p| p.points).sum();
    Score {
        person: person.into(),
        role,
        total: sum.clamp(0.0, 100.0),
        parts,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::fixture::{finished_record, record};
    use crate::record::WrongRecord;

    fn at_target() -> Timings {
        Timings {
            t0: Some(Utc::now()),
            detect_s: Some(10.0),
            acknowledge_s: Some(300.0),
            mitigate_s: Some(600.0),
            resolve_s: Some(900.0),
        }
    }

    fn ideal() -> DrillRecord {
        let mut r = finished_record();
        r.state.wrong.clear();
        r.state.hints_taken = 0;
        r.state.hints_cost = 0.0;
        r
    }

    fn part<'a>(s: &'a Score, name: &str) -> &'a Part {
        s.parts.iter().find(|p| p.name == name).expect("the part")
    }

    #[test]
    fn everything_at_target_scores_100() {
        let s = score(&ideal(), &at_target(), "alice", Role::Trainee);
        assert_eq!(s.total, 100.0);
        assert_eq!(part(&s, "objectives").points, 50.0);
        assert_eq!(part(&s, "resolve").points, 10.0);
    }

    #[test]
    fn nothing_done_scores_nothing_not_even_clean() {
        let s = score(&record(), &Timings::default(), "alice", Role::Trainee);
        assert_eq!(s.total, 0.0);
        assert_eq!(part(&s, "clean").points, 0.0);
        assert_eq!(part(&s, "acknowledge").detail, "never");
    }

    #[test]
    fn clean_is_earned_in_proportion_to_objectives_met() {
        // Two objectives, one met (a guard that holds by itself): half the
        // objectives and half the clean weight, less the costs.
        let mut r = ideal();
        assert_eq!(r.scenario.objectives.len(), 2);
        r.state.objectives[0].met = None;
        let s = score(&r, &Timings::default(), "alice", Role::Trainee);
        assert_eq!(part(&s, "objectives").points, 25.0);
        assert_eq!(part(&s, "clean").points, 10.0);
        r.state.wrong = finished_record().state.wrong;
        let s = score(&r, &Timings::default(), "alice", Role::Trainee);
        assert_eq!(part(&s, "clean").points, 0.0);
    }

    #[test]
    fn hints_and_wrong_operations_cost_points() {
        // finished_record: one hint (10) and one wrong op by alice (10).
        let s = score(&finished_record(), &at_target(), "alice", Role::Trainee);
        assert_eq!(part(&s, "clean").points, 10.0);
        assert_eq!(part(&s, "hints").points, -10.0);
        assert_eq!(s.total, 80.0);
        // Someone else's wrong operation does not cost alice.
        let mut r = ideal();
        r.state.wrong.push(WrongRecord {
            time: Utc::now(),
            event_id: 1,
            kind: "rollback.finished".into(),
            subject: "cart".into(),
            source: "bob".into(),
            why: "no".into(),
            cost: 15.0,
        });
        assert_eq!(score(&r, &at_target(), "alice", Role::Trainee).total, 100.0);
        assert_eq!(
            part(&score(&r, &at_target(), "bob", Role::Shadow), "clean").points,
            5.0
        );
    }

    #[test]
    fn speed_falls_linearly_to_zero_at_three_targets() {
        let target = Duration::from_secs(300);
        assert_eq!(speed_factor(Some(0.0), target), 1.0);
        assert_eq!(speed_factor(Some(300.0), target), 1.0);
        assert_eq!(speed_factor(Some(600.0), target), 0.5);
        assert_eq!(speed_factor(Some(750.0), target), 0.25);
        assert_eq!(speed_factor(Some(900.0), target), 0.0);
        assert_eq!(speed_factor(Some(5000.0), target), 0.0);
        assert_eq!(speed_factor(None, target), 0.0);
        let mut t = at_target();
        t.acknowledge_s = Some(600.0);
        let s = score(&ideal(), &t, "alice", Role::Trainee);
        assert_eq!(part(&s, "acknowledge").points, 5.0);
        assert_eq!(s.total, 95.0);
    }

    #[test]
    fn the_total_is_clamped() {
        let mut r = record();
        r.state.hints_cost = 500.0;
        assert_eq!(
            score(&r, &Timings::default(), "alice", Role::Trainee).total,
            0.0
        );
        let mut r = ideal();
        r.scenario.scoring.objectives = 90.0;
        assert_eq!(score(&r, &at_target(), "alice", Role::Trainee).total, 100.0);
        // The clean part itself never goes below 0.
        let mut r = ideal();
        r.state.wrong = finished_record().state.wrong;
        r.state.wrong[0].cost = 50.0;
        let s = score(&r, &at_target(), "alice", Role::Trainee);
        assert_eq!(part(&s, "clean").points, 0.0);
    }

    #[test]
    fn a_shadow_is_scored_on_shadow_objectives_without_hints() {
        let mut r = ideal();
        r.scenario.objectives[1].actor = Actor::Shadow;
        r.state.objectives[1].met = None;
        r.state.hints_cost = 30.0;
        let s = score(&r, &at_target(), "bob", Role::Shadow);
        assert_eq!(part(&s, "objectives").points, 0.0);
        assert!(s.parts.iter().all(|p| p.name != "hints"));
        // Speed only: no shadow objective met, so no clean points either.
        assert_eq!(s.total, 30.0);
        // The trainee's objectives: only the one for anyone, met.
        let t = score(&r, &at_target(), "alice", Role::Trainee);
        assert_eq!(part(&t, "objectives").detail, "1 of 1 met");
    }
}
