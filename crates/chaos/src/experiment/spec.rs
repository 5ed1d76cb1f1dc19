//! Experiment files (in the spirit of Chaos Toolkit): title, hypothesis,
//! steady-state probes with tolerances, a method of timed faults, halt
//! conditions, rollbacks. Loaded with file:line:column for every mistake;
//! faults are checked against the named topology.

use std::path::Path;
use std::time::Duration;

use diag::Report;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned as S;

use crate::faults::InjectRequest;

pub use diag::Problem;

/// Every problem found in an experiment file.
pub type SpecError = diag::Problems;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    title: S<String>,
    #[serde(default)]
    description: String,
    topology: S<String>,
    hypothesis: S<String>,
    steady_state: S<Vec<S<RawProbe>>>,
    method: S<Vec<S<RawStep>>>,
    #[serde(default)]
    halt: Vec<S<RawProbe>>,
    #[serde(default)]
    rollbacks: Vec<S<RawRollback>>,
    #[serde(default)]
    settings: RawSettings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    name: S<String>,
    #[serde(default)]
    query: Option<S<String>>,
    /// An SLO of the lab by name: its current burn rate.
    #[serde(default)]
    slo_burn: Option<S<String>>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    name: Option<String>,
    fault: S<InjectRequest>,
    #[serde(default)]
    after: Option<S<String>>,
    #[serde(rename = "for")]
    for_: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRollback {
    /// A lab operation: `POST /api/lab/<op>` with this body.
    lab: S<String>,
    #[serde(default)]
    body: Option<S<serde_json::Value>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default)]
    interval: Option<S<String>>,
    #[serde(default)]
    recovery: Option<S<String>>,
    #[serde(default)]
    warmup: Option<S<String>>,
}

/// A condition on one number: within [min, max].
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub name: String,
    /// The PromQL evaluated (an SLO probe's burn-rate query).
    pub query: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Probe {
    pub fn within(&self, v: f64) -> bool {
        !v.is_nan() && self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }

    pub fn tolerance(&self) -> String {
        match (self.min, self.max) {
            (Some(a), Some(b)) => format!("{a} ≤ x ≤ {b}"),
            (Some(a), None) => format!("≥ {a}"),
            (None, Some(b)) => format!("≤ {b}"),
            (None, None) => "any".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: String,
    pub fault: InjectRequest,
    pub after: Duration,
    pub duration: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rollback {
    pub op: String,
    pub body: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct Experiment {
    pub title: String,
    pub description: String,
    pub topology: String,
    pub hypothesis: String,
    pub steady_state: Vec<Probe>,
    pub method: Vec<Step>,
    pub halt: Vec<Probe>,
    pub rollbacks: Vec<Rollback>,
    /// How often halt conditions are checked.
    pub interval: Duration,
    /// Wait after the rollback before the steady state is checked again.
    pub recovery: Duration,
    /// Wait after the last fault starts before the "during" check
    /// (default: the end of the method).
    pub warmup: Option<Duration>,
}

impl Experiment {
    /// When the method ends: the last fault's end.
    pub fn method_duration(&self) -> Duration {
        self.method
            .iter()
            .map(|s| s.after + s.duration)
            .max()
            .unwrap_or_default()
    }
}

/// The experiments bundled with firedrill, by name.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "ad-outage",
        include_str!("../../experiments/ad-outage.yaml"),
    ),
    (
        "recommendation-latency",
        include_str!("../../experiments/recommendation-latency.yaml"),
    ),
    (
        "payment-outage",
        include_str!("../../experiments/payment-outage.yaml"),
    ),
    (
        "catalog-bad-release",
        include_str!("../../experiments/catalog-bad-release.yaml"),
    ),
    (
        "weather-api-blackhole",
        include_str!("../../experiments/weather-api-blackhole.yaml"),
    ),
    (
        "datastore-slow",
        include_str!("../../experiments/datastore-slow.yaml"),
    ),
    (
        "router-cpu-burn",
        include_str!("../../experiments/router-cpu-burn.yaml"),
    ),
];

struct Check {
    report: Report,
    /// The SLOs `slo_burn` may name, when known.
    slos: Option<(String, Vec<String>)>,
}

/// The SLO names of a topology (by its name), when the caller knows them:
/// `slo_burn` is checked against them. The SLO compiler lives in
/// `alerting`, which chaos does not depend on; the binary passes them in.
pub type SloNames<'a> = &'a dyn Fn(&str) -> Option<Vec<String>>;

/// The fastest halt-condition check the runner does.
const MIN_INTERVAL: Duration = Duration::from_millis(200);

impl Check {
    fn at<T>(&mut self, s: &S<T>, field: &str, message: impl Into<String>) {
        self.report.at(s, field, message);
    }

    fn dur(&mut self, s: &Option<S<String>>, field: &str, default: Duration) -> Duration {
        match s {
            None => default,
            Some(v) => self.report.duration(v, field).unwrap_or(default),
        }
    }

    fn probe(&mut self, p: &S<RawProbe>, field: &str) -> Option<Probe> {
        let r = &p.value;
        let query = match (&r.query, &r.slo_burn) {
            (Some(q), None) => {
                if let Err(e) = promql_check(&q.value) {
                    self.at(q, &format!("{field}.query"), e);
                }
                q.value.clone()
            }
            (None, Some(slo)) => {
                if let Some((topology, known)) = &self.slos
                    && !known.contains(&slo.value)
                {
                    let names = if known.is_empty() {
                        "it has none".to_string()
                    } else {
                        format!("it has {}", known.join(", "))
                    };
                    self.at(
                        slo,
                        &format!("{field}.slo_burn"),
                        format!("topology {topology} has no SLO {:?}: {names}", slo.value),
                    );
                }
                format!(
                    "max(slo:current_burn_rate:ratio{{sloth_slo=\"{}\"}})",
                    slo.value.replace('"', "")
                )
            }
            _ => {
                self.at(
                    p,
                    field,
                    "a probe has either `query` (PromQL) or `slo_burn` (an SLO's name)",
                );
                return None;
            }
        };
        if r.min.is_none() && r.max.is_none() {
            self.at(p, field, "a probe needs a tolerance: `min`, `max` or both");
        }
        if let (Some(a), Some(b)) = (r.min, r.max)
            && a > b
        {
            self.at(p, field, format!("min {a} is above max {b}"));
        }
        Some(Probe {
            name: r.name.value.clone(),
            query,
            min: r.min,
            max: r.max,
        })
    }
}

/// A light syntax check; the engine has the last word at run time.
fn promql_check(q: &str) -> Result<(), String> {
    if q.trim().is_empty() {
        return Err("empty query".into());
    }
    let (mut round, mut curly, mut square) = (0i32, 0i32, 0i32);
    for c in q.chars() {
        match c {
            '(' => round += 1,
            ')' => round -= 1,
            '{' => curly += 1,
            '}' => curly -= 1,
            '[' => square += 1,
            ']' => square -= 1,
            _ => {}
        }
        if round < 0 || curly < 0 || square < 0 {
            return Err(format!("unbalanced brackets in {q:?}"));
        }
    }
    if round != 0 || curly != 0 || square != 0 {
        return Err(format!("unbalanced brackets in {q:?}"));
    }
    Ok(())
}

/// Parses and checks an experiment; faults are planned against the
/// experiment's topology (bundled name or file) so mistakes show now.
/// `slo_burn` is not checked: see [`parse_with`].
pub fn parse(text: &str, file: &str) -> Result<Experiment, SpecError> {
    parse_with(text, file, &|_| None)
}

/// As [`parse`], checking `slo_burn` against the SLOs `slos` knows for
/// the experiment's topology.
pub fn parse_with(text: &str, file: &str, slos: SloNames) -> Result<Experiment, SpecError> {
    let raw: Raw = diag::yaml::from_str(text, file)?;
    let mut c = Check {
        report: Report::new(file),
        slos: None,
    };
    let topo = match lab::topology::resolve(&raw.topology.value) {
        Ok(t) => Some(t),
        Err(e) => {
            c.at(&raw.topology, "topology", format!("cannot load: {e}"));
            None
        }
    };
    c.slos = topo
        .as_ref()
        .and_then(|t| slos(&t.name).map(|names| (t.name.clone(), names)));
    if raw.steady_state.value.is_empty() {
        c.at(
            &raw.steady_state,
            "steady_state",
            "name at least one probe: the hypothesis must be measurable",
        );
    }
    let steady_state = raw
        .steady_state
        .value
        .iter()
        .enumerate()
        .filter_map(|(i, p)| c.probe(p, &format!("steady_state[{i}]")))
        .collect();
    let halt = raw
        .halt
        .iter()
        .enumerate()
        .filter_map(|(i, p)| c.probe(p, &format!("halt[{i}]")))
        .collect();
    if raw.method.value.is_empty() {
        c.at(
            &raw.method,
            "method",
            "the method injects at least one fault",
        );
    }
    let mut method = Vec::new();
    for (i, s) in raw.method.value.iter().enumerate() {
        let f = format!("method[{i}]");
        let after = c.dur(&s.value.after, &format!("{f}.after"), Duration::ZERO);
        let duration = c.dur(
            &Some(s.value.for_.clone()),
            &format!("{f}.for"),
            Duration::from_secs(30),
        );
        let valid = !duration.is_zero() && duration <= Duration::from_secs(3600);
        if !valid {
            c.at(
                &s.value.for_,
                &format!("{f}.for"),
                "a fault lasts from 1s to 1h",
            );
        }
        let mut fault = s.value.fault.value.clone();
        if fault.duration.is_some() {
            c.at(
                &s.value.fault,
                &format!("{f}.fault.for"),
                "give the duration as the step's `for`",
            );
        }
        fault.duration = Some(format!("{}ms", duration.as_millis()));
        if let Some(t) = &topo
            && valid
        {
            match fault.plan(t) {
                Err(e) => c.at(&s.value.fault, &format!("{f}.fault"), e.to_string()),
                Ok(plan) => {
                    if let (Some(list), Some(svc)) = (&fault.instances, t.service(&plan.carrier))
                        && let Some(ix) = list.iter().find(|ix| **ix >= svc.instances)
                    {
                        c.at(
                            &s.value.fault,
                            &format!("{f}.fault.instances"),
                            format!(
                                "{} has no instance {ix}: it starts with {} instance(s), 0..{}",
                                svc.name,
                                svc.instances,
                                svc.instances.saturating_sub(1)
                            ),
                        );
                    }
                }
            }
        }
        method.push(Step {
            name: s
                .value
                .name
                .clone()
                .unwrap_or_else(|| format!("{} on {}", fault.kind, fault.service)),
            fault,
            after,
            duration,
        });
    }
    let mut rollbacks = Vec::new();
    for (i, r) in raw.rollbacks.iter().enumerate() {
        let op = r.value.lab.value.trim_start_matches('/').to_string();
        let body = r
            .value
            .body
            .as_ref()
            .map(|b| b.value.clone())
            .unwrap_or_default();
        match rollback_body(&op, &body, topo.as_ref()) {
            Ok(()) => {}
            Err(RollbackProblem::Op(m)) => c.at(&r.value.lab, &format!("rollbacks[{i}].lab"), m),
            Err(RollbackProblem::Body(m)) => match &r.value.body {
                Some(b) => c.at(b, &format!("rollbacks[{i}].body"), m),
                None => c.at(r, &format!("rollbacks[{i}].body"), m),
            },
        }
        rollbacks.push(Rollback { op, body });
    }
    let interval = c.dur(
        &raw.settings.interval,
        "settings.interval",
        Duration::from_secs(1),
    );
    if let Some(v) = &raw.settings.interval
        && interval < MIN_INTERVAL
    {
        c.at(
            v,
            "settings.interval",
            "halt conditions are checked at most every 200ms: give at least 200ms",
        );
    }
    let recovery = c.dur(
        &raw.settings.recovery,
        "settings.recovery",
        Duration::from_secs(15),
    );
    let warmup = raw
        .settings
        .warmup
        .as_ref()
        .map(|w| c.dur(&Some(w.clone()), "settings.warmup", Duration::ZERO));
    c.report.finish(Experiment {
        title: raw.title.value,
        description: raw.description,
        topology: raw.topology.value,
        hypothesis: raw.hypothesis.value,
        steady_state,
        method,
        halt,
        rollbacks,
        interval: interval.max(MIN_INTERVAL),
        recovery,
        warmup,
    })
}

/// What is wrong with a rollback: its operation or its body.
enum RollbackProblem {
    Op(String),
    Body(String),
}

/// The most instances the supervisor scales a service to.
const MAX_SCALE: u32 = 32;

/// Checks a rollback as the lab API will: a known operation, a body of the
/// shape it takes, a service of the topology, a scale the supervisor allows.
fn rollback_body(
    op: &str,
    body: &serde_json::Value,
    topo: Option<&lab::topology::Topology>,
) -> Result<(), RollbackProblem> {
    fn shape<T: serde::de::DeserializeOwned>(
        op: &str,
        body: &serde_json::Value,
    ) -> Result<T, RollbackProblem> {
        serde_json::from_value(body.clone())
            .map_err(|e| RollbackProblem::Body(format!("not a body for POST /api/lab/{op}: {e}")))
    }
    let service = match op {
        "restart" => shape::<wire::lab::Target>(op, body)?.service,
        "drain" => shape::<wire::lab::Drain>(op, body)?.service,
        "rollback" => shape::<wire::lab::Rollback>(op, body)?.service,
        "deploy" => shape::<wire::lab::Deploy>(op, body)?.service,
        "config" => shape::<wire::lab::ConfigSet>(op, body)?.service,
        "scale" => {
            let s = shape::<wire::lab::Scale>(op, body)?;
            if s.instances > MAX_SCALE {
                return Err(RollbackProblem::Body(format!(
                    "scale to {} instances: the lab scales a service to 0..={MAX_SCALE}",
                    s.instances
                )));
            }
            s.service
        }
        _ => {
            return Err(RollbackProblem::Op(format!(
                "{op:?} is not a lab operation (restart, scale, drain, rollback, deploy, config)"
            )));
        }
    };
    if let Some(t) = topo
        && t.service(&service).is_none()
    {
        return Err(RollbackProblem::Body(format!(
            "topology {} has no service {service:?}",
            t.name
        )));
    }
    Ok(())
}

/// A bundled experiment by name, else a file.
pub fn resolve(name_or_path: &str) -> Result<Experiment, SpecError> {
    resolve_with(name_or_path, &|_| None)
}

/// As [`resolve`], checking `slo_burn` against `slos` (see [`parse_with`]).
pub fn resolve_with(name_or_path: &str, slos: SloNames) -> Result<Experiment, SpecError> {
    if let Some((n, text)) = BUNDLED.iter().find(|(n, _)| *n == name_or_path) {
        return parse_with(text, &format!("experiments/{n}.yaml"), slos);
    }
    let text = std::fs::read_to_string(Path::new(name_or_path)).map_err(|e| {
        Problem::in_file(
            name_or_path,
            format!(
                "cannot read ({e}); bundled experiments: {}",
                BUNDLED
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    parse_with(&text, name_or_path, slos)
}
