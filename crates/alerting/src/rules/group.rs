//! Evaluating one rule group: recording rules write their results back to
//! the store; alerting rules move their alerts through their states and
//! write `ALERTS` and `ALERTS_FOR_STATE`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use telemetry::model::{Appender, Labels, METRIC_NAME, Sample, Storage, stale_nan};
use telemetry::promql::{Engine, Value};

use super::file::{Rule, RuleGroup, RuleKind};
use super::state::{ActiveAlert, AlertState, RESOLVED_RETENTION_MS};
use super::template::{self, Data};

/// An alert found by this evaluation: labels, annotations, value.
type Found = (BTreeMap<String, String>, BTreeMap<String, String>, f64);

/// Health of a rule after its last evaluation.
#[derive(Debug, Clone, Default)]
pub struct RuleHealth {
    pub last_error: Option<String>,
    /// Unix ms of the last evaluation (0 = never).
    pub last_evaluation: i64,
    pub evaluation_time: Duration,
}

/// A group with its evaluation state.
pub struct GroupState {
    pub group: RuleGroup,
    pub interval: Duration,
    /// Per alerting rule (by index): its alerts, keyed by label set.
    pub alerts: Vec<BTreeMap<Vec<(String, String)>, ActiveAlert>>,
    pub health: Vec<RuleHealth>,
    pub last_evaluation: i64,
    pub evaluation_time: Duration,
    /// Series written at the last evaluation, to mark the vanished ones stale.
    written: HashSet<Labels>,
    /// Alerts that started or stopped firing since last taken, in order.
    pub transitions: Vec<Transition>,
}

/// An alert that started firing or resolved, at `at` (Unix ms).
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub firing: bool,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub value: f64,
    pub at: i64,
}

fn to_map(l: &Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|lb| (lb.name.clone(), lb.value.clone()))
        .collect()
}

fn key(m: &BTreeMap<String, String>) -> Vec<(String, String)> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn labels_of(m: &BTreeMap<String, String>) -> Labels {
    Labels::new(m.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

impl GroupState {
    pub fn new(group: RuleGroup, default_interval: Duration) -> Self {
        let n = group.rules.len();
        GroupState {
            interval: group.interval.unwrap_or(default_interval),
            group,
            alerts: vec![BTreeMap::new(); n],
            health: vec![RuleHealth::default(); n],
            last_evaluation: 0,
            evaluation_time: Duration::ZERO,
            written: HashSet::new(),
            transitions: Vec::new(),
        }
    }

    /// Evaluates every rule at `now` (ms), in order (a recording rule's output
    /// is visible to later rules of the group).
    pub fn evaluate<S: Storage + Appender>(
        &mut self,
        engine: &Engine,
        store: &S,
        now: i64,
        external: &BTreeMap<String, String>,
    ) {
        let started = std::time::Instant::now();
        let t = now - self.group.query_offset.as_millis() as i64;
        let mut written = HashSet::new();
        for i in 0..self.group.rules.len() {
            let rule = self.group.rules[i].clone();
            let rs = std::time::Instant::now();
            let result =
                self.evaluate_rule(i, &rule, engine, store, t, now, external, &mut written);
            self.health[i] = RuleHealth {
                last_error: result.err(),
                last_evaluation: now,
                evaluation_time: rs.elapsed(),
            };
        }
        // Series that vanished since the last evaluation get staleness markers.
        let stale: Vec<(Labels, Sample)> = self
            .written
            .difference(&written)
            .map(|l| {
                (
                    l.clone(),
                    Sample {
                        t: now,
                        v: stale_nan(),
                    },
                )
            })
            .collect();
        if !stale.is_empty()
            && let Err(e) = store.append(&stale)
        {
            tracing::warn!(group = %self.group.name, error = %e, "could not write staleness markers");
        }
        self.written = written;
        self.last_evaluation = now;
        self.evaluation_time = started.elapsed();
    }

    #[allow(clippy::too_many_arguments)]
    fn evaluate_rule<S: Storage + Appender>(
        &mut self,
        i: usize,
        rule: &Rule,
        engine: &Engine,
        store: &S,
        t: i64,
        now: i64,
        external: &BTreeMap<String, String>,
        written: &mut HashSet<Labels>,
    ) -> Result<(), String> {
        let result = engine
            .instant_query(store, &rule.expr, t)
            .map_err(|e| e.to_string())?;
        let samples: Vec<(Labels, f64)> = match result.value {
            Value::Vector(v) => v.into_iter().map(|s| (s.labels, s.v)).collect(),
            Value::Scalar { v, .. } => vec![(Labels::default(), v)],
            other => {
                return Err(format!(
                    "rule result is a {}, not a vector",
                    other.type_name()
                ));
            }
        };
        if self.group.limit > 0 && samples.len() as u64 > self.group.limit {
            return Err(format!(
                "exceeded limit of {} with {} series",
                self.group.limit,
                samples.len()
            ));
        }
        let mut extra = self.group.labels.clone();
        extra.extend(rule.labels.clone());
        match &rule.kind {
            RuleKind::Recording { record } => {
                let mut batch = Vec::with_capacity(samples.len());
                let mut seen = HashSet::new();
                for (l, v) in samples {
                    let mut l = l;
                    l.set(METRIC_NAME, record);
                    for (k, val) in &extra {
                        l.set(k, val);
                    }
                    if !seen.insert(l.clone()) {
                        return Err("vector contains metrics with the same labelset after applying rule labels".into());
                    }
                    written.insert(l.clone());
                    batch.push((l, Sample { t: now, v }));
                }
                store.append(&batch).map_err(|e| e.to_string())?;
                Ok(())
            }
            RuleKind::Alerting {
                alert,
                for_,
                keep_firing_for,
                annotations,
            } => {
                let for_ms = for_.as_millis() as i64;
                let keep_ms = keep_firing_for.as_millis() as i64;
                let mut present: HashMap<Vec<(String, String)>, Found> = HashMap::new();
                for (l, v) in samples {
                    let mut lm = to_map(&l.without_name());
                    let data_labels = lm.clone();
                    let d = Data {
                        labels: &data_labels,
                        value: v,
                        external_labels: external,
                    };
                    for (k, tv) in &extra {
                        lm.insert(
                            k.clone(),
                            template::expand(tv, &d)
                                .unwrap_or_else(|e| format!("<error expanding template: {e}>")),
                        );
                    }
                    lm.insert("alertname".into(), alert.clone());
                    let ann: BTreeMap<String, String> = annotations
                        .iter()
                        .map(|(k, tv)| {
                            (
                                k.clone(),
                                template::expand(tv, &d)
                                    .unwrap_or_else(|e| format!("<error expanding template: {e}>")),
                            )
                        })
                        .collect();
                    let k = key(&lm);
                    if present.contains_key(&k) {
                        return Err("vector contains metrics with the same labelset after applying alert labels".into());
                    }
                    present.insert(k, (lm, ann, v));
                }
                let alerts = &mut self.alerts[i];
                let transitions = &mut self.transitions;
                for (k, (lm, ann, v)) in present.iter() {
                    match alerts.get_mut(k) {
                        Some(a) if a.state != AlertState::Inactive => {
                            a.value = *v;
                            a.annotations = ann.clone();
                            a.keep_firing_since = None;
                        }
                        _ => {
                            alerts.insert(
                                k.clone(),
                                ActiveAlert {
                                    labels: lm.clone(),
                                    annotations: ann.clone(),
                                    state: AlertState::Pending,
                                    value: *v,
                                    active_at: now,
                                    fired_at: None,
                                    resolved_at: None,
                                    keep_firing_since: None,
                                },
                            );
                        }
                    }
                }
                let mut remove = Vec::new();
                for (k, a) in alerts.iter_mut() {
                    if present.contains_key(k) {
                        if a.state == AlertState::Pending && now - a.active_at >= for_ms {
                            a.state = AlertState::Firing;
                            a.fired_at = Some(now);
                            transitions.push(Transition {
                                firing: true,
                                labels: a.labels.clone(),
                                annotations: a.annotations.clone(),
                                value: a.value,
                                at: now,
                            });
                        }
                        continue;
                    }
                    match a.state {
                        AlertState::Pending => remove.push(k.clone()),
                        AlertState::Firing => {
                            let since = *a.keep_firing_since.get_or_insert(now);
                            if keep_ms > 0 && now - since < keep_ms {
                                continue;
                            }
                            a.state = AlertState::Inactive;
                            a.resolved_at = Some(now);
                            transitions.push(Transition {
                                firing: false,
                                labels: a.labels.clone(),
                                annotations: a.annotations.clone(),
                                value: a.value,
                                at: now,
                            });
                        }
                        AlertState::Inactive => {
                            if a.resolved_at
                                .is_some_and(|r| now - r > RESOLVED_RETENTION_MS)
                            {
                                remove.push(k.clone());
                            }
                        }
                    }
                }
                for k in remove {
                    alerts.remove(&k);
                }
                // ALERTS and ALERTS_FOR_STATE for every active alert.
                let mut batch = Vec::new();
                for a in alerts.values().filter(|a| a.state != AlertState::Inactive) {
                    let mut l = a.labels.clone();
                    l.insert(METRIC_NAME.into(), "ALERTS".into());
                    l.insert("alertstate".into(), a.state.as_str().into());
                    let l = labels_of(&l);
                    written.insert(l.clone());
                    batch.push((l, Sample { t: now, v: 1.0 }));
                    let mut f = a.labels.clone();
                    f.insert(METRIC_NAME.into(), "ALERTS_FOR_STATE".into());
                    let f = labels_of(&f);
                    written.insert(f.clone());
                    batch.push((
                        f,
                        Sample {
                            t: now,
                            v: (a.active_at / 1000) as f64,
                        },
                    ));
                }
                store.append(&batch).map_err(|e| e.to_string())?;
                Ok(())
            }
        }
    }

    /// Every alert of the group with its rule index.
    pub fn all_alerts(&self) -> impl Iterator<Item = (usize, &ActiveAlert)> {
        self.alerts
            .iter()
            .enumerate()
            .flat_map(|(i, m)| m.values().map(move |a| (i, a)))
    }
}
