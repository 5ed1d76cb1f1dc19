//! A drill as stored (table `drills`) and served: who, which scenario and
//! seed, the plan, and the engine's state. The state is a cache of what the
//! journal says, kept so a restart resumes where the drill was; timings and
//! scores are computed from the journal (`timings.rs`, `score.rs`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::scenario::Scenario;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillRecord {
    pub id: i64,
    /// The scenario as it runs: already multiplied by `scale`.
    pub scenario: Scenario,
    pub trainee: String,
    pub shadow: Option<String>,
    pub seed: u64,
    /// Clock compression (1.0 = as written).
    pub scale: f64,
    pub started: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
    pub plan: Plan,
    pub state: DrillState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every objective met.
    Completed,
    /// The time limit passed first.
    TimedOut,
    /// Ended by an instructor (or the trainee giving up).
    Stopped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::TimedOut => "timed_out",
            Outcome::Stopped => "stopped",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DrillState {
    /// One per planned fault, same order.
    pub faults: Vec<FaultState>,
    /// One per objective, same order.
    pub objectives: Vec<ObjectiveState>,
    /// Hints read so far (the first N of the plan's hints).
    pub hints_taken: usize,
    pub hints_cost: f64,
    pub wrong: Vec<WrongRecord>,
    /// The last journal event the engine has looked at.
    pub last_event_id: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FaultState {
    pub started: Option<DateTime<Utc>>,
    pub remedied: Option<DateTime<Utc>>,
    /// The remedy's note, once remedied.
    pub remedy: Option<String>,
    /// The fault controller's id while an injected part is active.
    pub chaos_id: Option<String>,
    /// A relief took the injected part away until then.
    pub relieved_until: Option<DateTime<Utc>>,
    pub reliefs: u32,
    /// Which of each remedy's `when` matchers have happened since the
    /// fault began (remedy index -> one flag per matcher).
    pub matched: Vec<Vec<bool>>,
    /// What the fault replaced, to put back if it is never remedied.
    #[serde(default)]
    pub undo: Undo,
}

/// What a started fault's effect replaced.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Undo {
    /// The version a release replaced.
    pub previous_version: Option<String>,
    /// The config a push replaced (key -> value before).
    pub previous_config: std::collections::BTreeMap<String, String>,
    /// The load before a surge.
    pub previous_rps: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectiveState {
    pub met: Option<DateTime<Utc>>,
    /// Query objectives: since when the condition holds (the hold window's
    /// start); `None` while it does not hold.
    pub since: Option<DateTime<Utc>>,
    /// Query objectives: the last value seen.
    pub value: Option<f64>,
    /// Query objectives: seen outside the condition since the first root
    /// fault began (the hold only counts from then on, or once every root
    /// fault is remedied).
    #[serde(default)]
    pub violated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WrongRecord {
    pub time: DateTime<Utc>,
    pub event_id: i64,
    pub kind: String,
    pub subject: String,
    pub source: String,
    pub why: String,
    pub cost: f64,
}

impl DrillRecord {
    pub fn running(&self) -> bool {
        self.ended.is_none()
    }
}
