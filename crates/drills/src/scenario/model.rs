//! A drill scenario after loading and validation: what every other part of
//! the crate (plan, engine, score, debrief) consumes. The file shape and
//! its checks are in `raw.rs` and `validate.rs`; docs/drills.md documents it.

use std::collections::BTreeMap;
use std::time::Duration;

use chaos::InjectRequest;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Lower-case words joined by `-` (`bad-release`).
    pub id: String,
    pub title: String,
    /// `shop` or `chatbot` (or the name of a topology file's lab).
    pub topology: String,
    /// 1 (a first drill) to 5 (for experienced on-callers).
    pub difficulty: u8,
    pub skills: Vec<String>,
    /// How long a drill usually takes (the catalogue shows it).
    #[serde(with = "secs")]
    pub typical: Duration,
    /// The drill ends, failed, after this long.
    #[serde(with = "secs")]
    pub time_limit: Duration,
    /// What the trainee reads before starting; never names the fault.
    pub briefing: String,
    /// A shadow drill: an apprentice (`--shadow`) shadows the trainee and is
    /// scored on the objectives marked `actor: shadow`.
    pub shadow: bool,
    /// Lab operations carried out when the drill starts, before any fault.
    pub setup: Vec<SetupStep>,
    pub faults: Vec<FaultDef>,
    pub objectives: Vec<Objective>,
    pub hints: Vec<Hint>,
    /// Operations that are wrong for this drill and cost points.
    pub wrong: Vec<WrongOp>,
    pub scoring: Scoring,
    /// The ideal response, step by step, for the debrief.
    pub ideal_path: Vec<String>,
}

/// A lab operation done by the drill itself (source `drill`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SetupStep {
    Load {
        rps: f64,
    },
    Config {
        service: String,
        set: BTreeMap<String, String>,
    },
    Scale {
        service: String,
        instances: u32,
    },
    Deploy {
        service: String,
        version: String,
    },
}

/// A hidden fault: when it starts, what it does (one variant drawn from the
/// seed), and which operations end it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultDef {
    pub id: String,
    /// Revealed in the debrief ("productcatalog v2 fails a third of lookups").
    pub title: String,
    /// A root cause: time to resolve counts until every root fault is remedied.
    pub root: bool,
    /// Start delay after the drill starts, drawn from the seed in
    /// `[after_min, after_max]`.
    #[serde(with = "secs")]
    pub after_min: Duration,
    #[serde(with = "secs")]
    pub after_max: Duration,
    /// At least one; the seed picks one.
    pub variants: Vec<FaultAction>,
    pub remedies: Vec<Remedy>,
}

/// What a fault does to the lab. `{service}` in the fault's remedies, hints
/// and title is the chosen variant's service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
// One per fault, never in bulk; boxing would only burden every match.
#[allow(clippy::large_enum_variant)]
pub enum FaultAction {
    /// Through the fault controller (chaos kinds); lasts until remedied or
    /// the drill ends (its `for` is ignored).
    Inject { fault: InjectRequest },
    /// The deploy pipeline (source `deploy-bot`) releases `version`: a
    /// visible deploy, as at work; only its effects tell it is bad.
    Release { service: String, version: String },
    /// Traffic surge: the load generator goes to `rps`.
    Surge { rps: f64 },
    /// A runtime config push (source `config-bot`).
    Config {
        service: String,
        set: BTreeMap<String, String>,
    },
}

impl FaultAction {
    /// The service the fault is about (`{service}`), if any.
    pub fn service(&self) -> Option<&str> {
        match self {
            FaultAction::Inject { fault } => Some(&fault.service),
            FaultAction::Release { service, .. } | FaultAction::Config { service, .. } => {
                Some(service)
            }
            FaultAction::Surge { .. } => None,
        }
    }
}

/// Operations (journal events) that end a fault or relieve it for a while.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remedy {
    /// Every one of these must have happened since the fault began (any order).
    pub when: Vec<EventMatch>,
    pub effect: Effect,
    /// In words, for the debrief ("rolled back productcatalog").
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// The fault is over: its injected part is cleared (if any) and it
    /// counts as remedied.
    End,
    /// Only buys time: an injected fault is cleared and comes back after
    /// `for`; a released version keeps its bug (the restart itself is the
    /// relief). Recorded, never counted as remedied.
    Relief {
        #[serde(rename = "for", with = "secs")]
        for_: Duration,
    },
}

/// A pattern over journal events. Events of the drill's own sources
/// (`drill`, `chaos`, `deploy-bot`, `config-bot`) never match.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EventMatch {
    /// An exact kind (`rollback.finished`), or a family with a trailing dot
    /// (`page.`).
    pub kind: String,
    /// Exact subject, or a pattern with `*` (`cart/*`); `{service}` filled.
    pub subject: Option<String>,
    /// Conditions on attributes; a key path uses `/` between levels
    /// (`set/timeout.weather-api`).
    pub attrs: BTreeMap<String, Cond>,
    /// Who must have done it.
    pub actor: Actor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// Anyone but the drill's own sources.
    #[default]
    Anyone,
    /// The trainee (the event's source, or its `by` attribute, is the trainee).
    Trainee,
    /// The shadow of a shadow drill.
    Shadow,
}

/// A condition on one attribute. Numbers compare as numbers; strings that
/// are durations (`500ms`) compare as seconds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Cond {
    pub equals: Option<serde_json::Value>,
    pub gte: Option<f64>,
    pub lte: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub id: String,
    pub title: String,
    pub check: Check,
    /// Who is scored on it.
    pub actor: Actor,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Check {
    /// A PromQL condition held for `hold` (checked once the first root
    /// fault has begun). `{{.window}}` in `expr` is `window`. Query
    /// objectives are the SLIs of time to mitigate and of the debrief charts.
    Query {
        expr: String,
        op: Cmp,
        threshold: f64,
        #[serde(with = "secs")]
        hold: Duration,
        #[serde(with = "secs")]
        window: Duration,
    },
    /// A journal event since the drill began.
    Journal { event: EventMatch },
}

/// The placeholder of a query objective's range: its `window`.
pub const WINDOW: &str = "{{.window}}";

impl Check {
    /// A query objective's PromQL with `{{.window}}` filled; `None` for a
    /// journal objective.
    pub fn promql(&self) -> Option<String> {
        match self {
            Check::Query { expr, window, .. } => Some(fill_window(expr, *window)),
            Check::Journal { .. } => None,
        }
    }
}

/// `expr` with every `{{.window}}` replaced by `window` as a PromQL
/// duration (`1m`, `30s`, `1500ms`).
pub fn fill_window(expr: &str, window: Duration) -> String {
    let ms = window.as_millis();
    let text = if ms > 0 && ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms > 0 && ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    };
    expr.replace(WINDOW, &text)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cmp {
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<")]
    Lt,
}

impl Cmp {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Cmp::Ge => value >= threshold,
            Cmp::Le => value <= threshold,
            Cmp::Gt => value > threshold,
            Cmp::Lt => value < threshold,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Cmp::Ge => ">=",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Lt => "<",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hint {
    pub text: String,
    /// Points taken from the score when the hint is read.
    pub cost: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WrongOp {
    pub when: EventMatch,
    /// Points each time it happens.
    pub cost: f64,
    /// Why it is wrong, for the debrief.
    pub why: String,
}

/// Targets for the timings and the weights of the score's parts
/// (docs/drills.md, "Score").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scoring {
    #[serde(with = "secs")]
    pub acknowledge: Duration,
    #[serde(with = "secs")]
    pub mitigate: Duration,
    #[serde(with = "secs")]
    pub resolve: Duration,
    /// Points for the objectives met (default 50).
    pub objectives: f64,
    /// Points for speed (default 30): acknowledge, mitigate, resolve.
    pub speed: f64,
    /// Points for a clean response (default 20), less wrong operations.
    pub clean: f64,
}

/// The shortest `{{.window}}` a compressed clock makes.
pub const MIN_WINDOW: Duration = Duration::from_secs(15);

impl Scenario {
    /// Every duration of the scenario multiplied by `scale` (a compressed
    /// clock for tests and short lessons; 1.0 leaves it as written).
    pub fn scaled(&self, scale: f64) -> Scenario {
        let s = |d: Duration| d.mul_f64(scale);
        let mut out = self.clone();
        out.typical = s(out.typical);
        out.time_limit = s(out.time_limit);
        for f in &mut out.faults {
            f.after_min = s(f.after_min);
            f.after_max = s(f.after_max);
            for r in &mut f.remedies {
                if let Effect::Relief { for_ } = &mut r.effect {
                    *for_ = s(*for_);
                }
            }
        }
        for o in &mut out.objectives {
            if let Check::Query { hold, window, .. } = &mut o.check {
                // A short window over a few requests is noise: windows
                // shrink to no less than MIN_WINDOW, and a hold covers at
                // least two windows, so luck cannot pass an objective.
                let w = s(*window).max(MIN_WINDOW.min(*window));
                *hold = s(*hold).max((2 * w).min(*hold));
                *window = w;
            }
        }
        out.scoring.acknowledge = s(out.scoring.acknowledge);
        out.scoring.mitigate = s(out.scoring.mitigate);
        out.scoring.resolve = s(out.scoring.resolve);
        out
    }
}

/// Durations as seconds (f64) in JSON.
pub(crate) mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v).map_err(serde::de::Error::custom)
    }
}
