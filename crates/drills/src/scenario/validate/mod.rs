//! Raw scenario → [`Scenario`], collecting every problem with its
//! position and field. One file per part: the lab it runs on (`topology.rs`:
//! topology, services, versions, config keys, setup), faults and remedies
//! (`faults.rs`), event matchers (`events.rs`), objectives (`objectives.rs`).
//! The messages are documented in docs/drills.md ("Mistakes and their
//! messages").

mod events;
mod faults;
mod objectives;
mod topology;

use std::collections::HashMap;
use std::time::Duration;

use ::lab::topology::Topology;
use diag::{Problems, Report};
use serde_saphyr::Spanned as S;

use super::model::{Hint, Scenario, Scoring, WrongOp};
use super::raw::{RawScenario, RawScoring, Text};

/// What every check needs: the report, the lab the scenario runs on (when
/// it is known) and whether it is a shadow drill.
pub(super) struct Ctx {
    report: Report,
    topo: Option<Topology>,
    shadow: bool,
}

impl Ctx {
    fn at<T>(&mut self, s: &S<T>, field: &str, message: impl Into<String>) {
        self.report.at(s, field, message);
    }

    fn duration(&mut self, s: &S<Text>, field: &str) -> Option<Duration> {
        self.report.duration(s, field)
    }

    /// A duration that must be longer than zero.
    fn positive(&mut self, s: &S<Text>, field: &str) -> Option<Duration> {
        let d = self.duration(s, field)?;
        if d.is_zero() {
            self.at(s, field, "must be longer than 0s");
            return None;
        }
        Some(d)
    }

    /// An optional positive duration with a default.
    fn positive_or(&mut self, s: Option<&S<Text>>, field: &str, default: Duration) -> Duration {
        s.and_then(|s| self.positive(s, field)).unwrap_or(default)
    }

    fn non_empty(&mut self, s: &S<String>, field: &str) -> String {
        if s.value.trim().is_empty() {
            self.at(s, field, "must not be empty");
        }
        s.value.clone()
    }

    /// A cost or weight: a number of points, zero or more.
    fn points(&mut self, s: &S<f64>, field: &str, what: &str) -> f64 {
        if !s.value.is_finite() || s.value < 0.0 {
            self.at(s, field, format!("{what} is a number of points, 0 or more"));
            return 0.0;
        }
        s.value
    }
}

/// Ids seen so far in one list, to refuse a second use.
struct Ids<'a> {
    what: &'a str,
    seen: HashMap<String, u64>,
}

impl<'a> Ids<'a> {
    fn new(what: &'a str) -> Ids<'a> {
        Ids {
            what,
            seen: HashMap::new(),
        }
    }

    fn check(&mut self, c: &mut Ctx, id: &S<String>, field: &str) {
        if id.value.trim().is_empty() || id.value.contains(char::is_whitespace) {
            c.at(id, field, "an id is one word without spaces");
            return;
        }
        match self.seen.get(&id.value) {
            Some(line) => c.at(
                id,
                field,
                format!(
                    "{} id {:?} is used twice (first on line {line})",
                    self.what, id.value
                ),
            ),
            None => {
                self.seen.insert(id.value.clone(), id.referenced.line());
            }
        }
    }
}

/// Lower-case words (letters and digits) joined by `-`.
fn is_scenario_id(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Default targets and weights of the score (docs/drills.md, "Score").
pub const DEFAULT_SCORING: Scoring = Scoring {
    acknowledge: Duration::from_secs(5 * 60),
    mitigate: Duration::from_secs(10 * 60),
    resolve: Duration::from_secs(15 * 60),
    objectives: 50.0,
    speed: 30.0,
    clean: 20.0,
};

/// The most difficult drill.
const MAX_DIFFICULTY: i64 = 5;

pub(super) fn scenario(raw: RawScenario, file: &str) -> Result<Scenario, Problems> {
    let mut c = Ctx {
        report: Report::new(file),
        topo: None,
        shadow: raw.shadow,
    };
    if !is_scenario_id(&raw.id.value) {
        c.at(
            &raw.id,
            "id",
            format!(
                "{:?} is not a scenario id: use lower-case words joined by '-' (e.g. bad-release)",
                raw.id.value
            ),
        );
    }
    let title = c.non_empty(&raw.title, "title");
    let briefing = c.non_empty(&raw.briefing, "briefing");
    c.topo = topology::resolve(&mut c, &raw.topology);
    if !(1..=MAX_DIFFICULTY).contains(&raw.difficulty.value) {
        c.at(
            &raw.difficulty,
            "difficulty",
            format!(
                "{} is out of range: difficulty goes from 1 (a first drill) to {MAX_DIFFICULTY}",
                raw.difficulty.value
            ),
        );
    }
    let skills = raw.skills.iter().map(|s| s.value.clone()).collect();
    let typical = c.positive(&raw.typical, "typical");
    let time_limit = c.positive(&raw.time_limit, "time_limit");
    if let (Some(t), Some(l)) = (typical, time_limit)
        && t > l
    {
        c.at(
            &raw.typical,
            "typical",
            format!(
                "typical ({}) is longer than time_limit ({})",
                raw.typical.value.0, raw.time_limit.value.0
            ),
        );
    }
    let setup = raw
        .setup
        .iter()
        .enumerate()
        .filter_map(|(i, s)| topology::setup(&mut c, s, &format!("setup[{i}]")))
        .collect();
    let faults = faults::all(
        &mut c,
        &raw.faults,
        time_limit.map(|l| (l, &raw.time_limit)),
    );
    let objectives = objectives::all(&mut c, &raw.objectives);
    let hints = raw
        .hints
        .iter()
        .enumerate()
        .map(|(i, h)| Hint {
            text: c.non_empty(&h.value.text, &format!("hints[{i}].text")),
            cost: c.points(&h.value.cost, &format!("hints[{i}].cost"), "a cost"),
        })
        .collect();
    let wrong = raw
        .wrong
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let f = format!("wrong[{i}]");
            WrongOp {
                when: events::matcher(&mut c, &w.value.when, &format!("{f}.when"), None),
                cost: c.points(&w.value.cost, &format!("{f}.cost"), "a cost"),
                why: c.non_empty(&w.value.why, &format!("{f}.why")),
            }
        })
        .collect();
    let scoring = match &raw.scoring {
        Some(s) => scoring(&mut c, &s.value),
        None => DEFAULT_SCORING,
    };
    let ideal_path = raw.ideal_path.iter().map(|s| s.value.clone()).collect();
    c.report.finish(Scenario {
        id: raw.id.value,
        title,
        topology: raw.topology.value,
        difficulty: raw.difficulty.value.clamp(1, MAX_DIFFICULTY) as u8,
        skills,
        typical: typical.unwrap_or_default(),
        time_limit: time_limit.unwrap_or_default(),
        briefing,
        shadow: raw.shadow,
        setup,
        faults,
        objectives,
        hints,
        wrong,
        scoring,
        ideal_path,
    })
}

fn scoring(c: &mut Ctx, s: &RawScoring) -> Scoring {
    let d = DEFAULT_SCORING;
    let mut out = Scoring {
        acknowledge: c.positive_or(s.acknowledge.as_ref(), "scoring.acknowledge", d.acknowledge),
        mitigate: c.positive_or(s.mitigate.as_ref(), "scoring.mitigate", d.mitigate),
        resolve: c.positive_or(s.resolve.as_ref(), "scoring.resolve", d.resolve),
        ..d
    };
    if let Some(w) = &s.weights {
        let mut weight = |v: &Option<S<f64>>, name: &str, default: f64| match v {
            Some(v) => c.points(v, &format!("scoring.weights.{name}"), "a weight"),
            None => default,
        };
        out.objectives = weight(&w.value.objectives, "objectives", d.objectives);
        out.speed = weight(&w.value.speed, "speed", d.speed);
        out.clean = weight(&w.value.clean, "clean", d.clean);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_ids_are_lower_case_words_joined_by_dashes() {
        for ok in ["bad-release", "x", "v2-rollout", "a-b-c"] {
            assert!(is_scenario_id(ok), "{ok}");
        }
        for bad in ["", "Bad", "bad_release", "-x", "x-", "a--b", "a b"] {
            assert!(!is_scenario_id(bad), "{bad}");
        }
    }
}
