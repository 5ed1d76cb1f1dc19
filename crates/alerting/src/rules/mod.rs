//! Prometheus rule files: loading, checking and evaluation against the
//! store, with `/api/v1/rules` and `/api/v1/alerts` in Prometheus's shapes.

pub mod bundled;
pub mod file;
pub mod group;
pub mod state;
pub mod template;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use telemetry::model::{Appender, Storage};
use telemetry::promql::Engine;

pub use file::{Problem, Rule, RuleFileError, RuleGroup, RuleKind, load_rules, parse_rules};
use group::GroupState;
pub use group::Transition;
pub use state::{ActiveAlert, AlertState};

/// An alert as sent to an Alertmanager (API v2 `postableAlert`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutgoingAlert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
}

/// Where evaluated alerts go (our router, an external Alertmanager, …).
pub trait AlertSink: Send + Sync {
    fn send(&self, alerts: Vec<OutgoingAlert>);
}

/// A store the rules read from and write to.
pub trait RuleStore: Storage + Appender {}
impl<T: Storage + Appender> RuleStore for T {}

fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn ms_to_dt(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`, as Prometheus writes alert values.
pub fn go_e(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let s = format!("{v:e}");
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = if let Some(d) = e.strip_prefix('-') {
                ("-", d)
            } else {
                ("+", e)
            };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

/// The journal event of an alert transition (`alert.firing`, `alert.resolved`).
pub fn transition_event(t: &Transition) -> wire::NewEvent {
    let name = t.labels.get("alertname").cloned().unwrap_or_default();
    let e = wire::NewEvent::new(
        if t.firing {
            "alert.firing"
        } else {
            "alert.resolved"
        },
        "rules",
        &name,
    )
    .at(ms_to_dt(t.at))
    .attr(
        "labels",
        serde_json::to_value(&t.labels).unwrap_or_default(),
    );
    if t.firing {
        e.attr(
            "annotations",
            serde_json::to_value(&t.annotations).unwrap_or_default(),
        )
        .attr("value", go_e(t.value))
    } else {
        e
    }
}

/// The rule manager's Prometheus API routes: open reads.
pub const ROUTES: &[wire::RouteAccess] = &[
    wire::access::route("GET", "/api/v1/rules", wire::Access::Read),
    wire::access::route("GET", "/api/v1/alerts", wire::Access::Read),
];

/// All rule groups of the lab, evaluated on their intervals.
pub struct RuleManager {
    groups: Vec<Mutex<GroupState>>,
    engine: Engine,
    external_labels: BTreeMap<String, String>,
    generator_url: String,
}

impl RuleManager {
    pub fn new(groups: Vec<RuleGroup>, default_interval: Duration, generator_url: &str) -> Self {
        RuleManager {
            groups: groups
                .into_iter()
                .map(|g| Mutex::new(GroupState::new(g, default_interval)))
                .collect(),
            engine: Engine::default(),
            external_labels: BTreeMap::new(),
            generator_url: generator_url.to_string(),
        }
    }

    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Evaluates group `i` at `now` (ms) and returns the alerts to send.
    pub fn evaluate_group<S: RuleStore>(
        &self,
        i: usize,
        store: &S,
        now: i64,
    ) -> Vec<OutgoingAlert> {
        self.evaluate_group_changes(i, store, now).0
    }

    /// Evaluates group `i` at `now` (ms): the alerts to send, and the alerts
    /// that started firing or resolved in this evaluation.
    pub fn evaluate_group_changes<S: RuleStore>(
        &self,
        i: usize,
        store: &S,
        now: i64,
    ) -> (Vec<OutgoingAlert>, Vec<Transition>) {
        let Some(g) = self.groups.get(i) else {
            return (Vec::new(), Vec::new());
        };
        let mut g = g.lock().unwrap_or_else(|e| e.into_inner());
        g.evaluate(&self.engine, store, now, &self.external_labels);
        let transitions = std::mem::take(&mut g.transitions);
        let resend = g.interval.max(Duration::from_secs(60)).as_millis() as i64;
        let alerts = g
            .all_alerts()
            .filter(|(_, a)| {
                a.state == AlertState::Firing
                    || (a.state == AlertState::Inactive && a.resolved_at.is_some())
            })
            .map(|(_, a)| OutgoingAlert {
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at: ms_to_dt(a.fired_at.unwrap_or(a.active_at)),
                ends_at: ms_to_dt(match a.state {
                    AlertState::Inactive => a.resolved_at.unwrap_or(now),
                    _ => now + 4 * resend,
                }),
                generator_url: self.generator_url.clone(),
            })
            .collect();
        (alerts, transitions)
    }

    /// Evaluates every group once at `now` (tests, `rules` tooling).
    pub fn evaluate_all<S: RuleStore>(&self, store: &S, now: i64) -> Vec<OutgoingAlert> {
        (0..self.groups.len())
            .flat_map(|i| self.evaluate_group(i, store, now))
            .collect()
    }

    /// Runs every group on its interval until the task is dropped. Alerts
    /// that start firing or resolve are journaled to `events` (awaited)
    /// before the alerts go to `sink`.
    pub async fn run<S: RuleStore + 'static>(
        self: Arc<Self>,
        store: Arc<S>,
        sink: Arc<dyn AlertSink>,
        events: Arc<dyn wire::EventSink>,
    ) {
        let mut tasks = Vec::new();
        for i in 0..self.groups.len() {
            let interval = self.groups[i]
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .interval;
            let (m, s, sink, events) = (self.clone(), store.clone(), sink.clone(), events.clone());
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let (m2, s2) = (m.clone(), s.clone());
                    let now = Utc::now().timestamp_millis();
                    let evaluated = tokio::task::spawn_blocking(move || {
                        m2.evaluate_group_changes(i, s2.as_ref(), now)
                    })
                    .await;
                    let (alerts, transitions) = match evaluated {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::error!(group = i, error = %e, "rule group evaluation panicked; its alerts keep their last state");
                            continue;
                        }
                    };
                    for t in transitions {
                        wire::sink::append_or_log(events.as_ref(), transition_event(&t)).await;
                    }
                    if !alerts.is_empty() {
                        sink.send(alerts);
                    }
                }
            }));
        }
        struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);
        impl Drop for AbortOnDrop {
            fn drop(&mut self) {
                self.0.iter().for_each(|t| t.abort());
            }
        }
        let _guard = AbortOnDrop(tasks);
        std::future::pending::<()>().await;
    }

    fn alert_json(a: &ActiveAlert) -> Value {
        json!({
            "labels": a.labels,
            "annotations": a.annotations,
            "state": a.state.as_str(),
            "activeAt": rfc3339(a.active_at),
            "value": go_e(a.value),
        })
    }

    /// `data` of `/api/v1/rules`.
    pub fn rules_json(&self, kind: Option<&str>) -> Value {
        let groups: Vec<Value> = self
            .groups
            .iter()
            .map(|g| {
                let g = g.lock().unwrap_or_else(|e| e.into_inner());
                let rules: Vec<Value> = g
                    .group
                    .rules
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| !matches!((kind, &r.kind), (Some("alert"), RuleKind::Recording { .. }) | (Some("record"), RuleKind::Alerting { .. })))
                    .map(|(i, r)| {
                        let h = &g.health[i];
                        let health = match (&h.last_error, h.last_evaluation) {
                            (Some(_), _) => "err",
                            (None, 0) => "unknown",
                            _ => "ok",
                        };
                        let common = json!({
                            "name": r.name(),
                            "query": r.expr,
                            "labels": r.labels,
                            "health": health,
                            "lastError": h.last_error.clone().unwrap_or_default(),
                            "evaluationTime": h.evaluation_time.as_secs_f64(),
                            "lastEvaluation": if h.last_evaluation > 0 { rfc3339(h.last_evaluation) } else { "0001-01-01T00:00:00Z".into() },
                        });
                        let mut v = common;
                        match &r.kind {
                            RuleKind::Recording { .. } => {
                                v["type"] = json!("recording");
                            }
                            RuleKind::Alerting { for_, keep_firing_for, annotations, .. } => {
                                let alerts: Vec<&ActiveAlert> = g.alerts[i].values().filter(|a| a.state != AlertState::Inactive).collect();
                                let state = if alerts.iter().any(|a| a.state == AlertState::Firing) {
                                    "firing"
                                } else if alerts.is_empty() {
                                    "inactive"
                                } else {
                                    "pending"
                                };
                                v["type"] = json!("alerting");
                                v["state"] = json!(state);
                                v["duration"] = json!(for_.as_secs_f64());
                                v["keepFiringFor"] = json!(keep_firing_for.as_secs_f64());
                                v["annotations"] = json!(annotations);
                                v["alerts"] = Value::Array(alerts.into_iter().map(Self::alert_json).collect());
                            }
                        }
                        v
                    })
                    .collect();
                json!({
                    "name": g.group.name,
                    "file": g.group.file,
                    "rules": rules,
                    "interval": g.interval.as_secs_f64(),
                    "limit": g.group.limit,
                    "evaluationTime": g.evaluation_time.as_secs_f64(),
                    "lastEvaluation": if g.last_evaluation > 0 { rfc3339(g.last_evaluation) } else { "0001-01-01T00:00:00Z".into() },
                })
            })
            .collect();
        json!({ "groups": groups })
    }

    /// `data` of `/api/v1/alerts`: pending and firing alerts.
    pub fn alerts_json(&self) -> Value {
        let mut out = Vec::new();
        for g in &self.groups {
            let g = g.lock().unwrap_or_else(|e| e.into_inner());
            for (_, a) in g
                .all_alerts()
                .filter(|(_, a)| a.state != AlertState::Inactive)
            {
                out.push(Self::alert_json(a));
            }
        }
        json!({ "alerts": out })
    }

    /// The Prometheus API endpoints of the rule manager.
    pub fn router(self: Arc<Self>) -> axum::Router {
        use axum::extract::{Query, State};
        use axum::routing::get;
        #[derive(serde::Deserialize)]
        struct RulesQuery {
            #[serde(rename = "type")]
            kind: Option<String>,
        }
        axum::Router::new()
            .route(
                "/api/v1/rules",
                get(
                    |State(m): State<Arc<RuleManager>>, Query(q): Query<RulesQuery>| async move {
                        wire::success(m.rules_json(q.kind.as_deref()))
                    },
                ),
            )
            .route(
                "/api/v1/alerts",
                get(|State(m): State<Arc<RuleManager>>| async move {
                    wire::success(m.alerts_json())
                }),
            )
            .with_state(self)
    }
}
