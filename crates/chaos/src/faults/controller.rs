//! The fault controller: applies a plan to the lab's instances (their admin
//! endpoint, or signals to their processes, or a deploy), re-applies it to
//! instances that restart, ends it when its time is up or when cleared, and
//! journals each inject, clear and expiry. Everything ends when the lab stops.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lab::faults::FaultSpec;
use lab::supervisor::{InstanceInfo, Supervisor};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::Serialize;
use serde_json::{Value, json};
use wire::{EventSink, NewEvent};

use super::request::{Action, InjectRequest, Plan, Target};
use crate::ChaosError;

/// Who a bad-version fault's deploys (and the rollback at its end) are
/// journaled as: the deploy pipeline, as a real bad release would be, so
/// the visible `deploy.*` events do not name chaos.
pub const DEPLOYER: &str = "deploy-bot";

#[derive(Debug, Clone, Serialize)]
pub struct FaultRecord {
    pub id: String,
    pub kind: String,
    pub service: String,
    pub caller: Option<String>,
    pub route: Option<String>,
    pub percent: f64,
    /// Instances carrying it (`service/index`).
    pub instances: Vec<String>,
    pub params: Value,
    pub started: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

struct Active {
    record: FaultRecord,
    plan: Plan,
    /// Instance name -> pid it was applied to.
    applied: BTreeMap<String, u32>,
    /// For bad_version: the version to go back to.
    previous_version: Option<String>,
}

pub struct FaultController {
    sup: Arc<Supervisor>,
    events: Arc<dyn EventSink>,
    http: reqwest::Client,
    token: String,
    data_dir: PathBuf,
    state: tokio::sync::Mutex<(u64, BTreeMap<String, Active>)>,
}

fn kind_name(a: &Action) -> String {
    match a {
        Action::Runtime { kind } => kind.name().to_string(),
        Action::Kill => "kill".into(),
        Action::Pause => "pause".into(),
        Action::BadVersion { .. } => "bad_version".into(),
    }
}

impl FaultController {
    pub fn new(
        sup: Arc<Supervisor>,
        events: Arc<dyn EventSink>,
        token: String,
        data_dir: PathBuf,
    ) -> Arc<Self> {
        // Fill files a killed lab left behind go now.
        let _ = std::fs::remove_dir_all(data_dir.join(lab::runtime::faults::SPOOL_DIR));
        Arc::new(FaultController {
            sup,
            events,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()
                .unwrap_or_default(),
            token,
            data_dir,
            state: tokio::sync::Mutex::new((0, BTreeMap::new())),
        })
    }

    /// The carrier's instances the plan targets now.
    fn targets(&self, plan: &Plan) -> Result<Vec<InstanceInfo>, ChaosError> {
        let mut all: Vec<InstanceInfo> = self
            .sup
            .instances()
            .into_iter()
            .filter(|i| i.service == plan.carrier)
            .collect();
        all.sort_by_key(|i| i.index);
        match &plan.target {
            Target::All => Ok(all),
            Target::Indices(list) => list
                .iter()
                .map(|ix| {
                    all.iter().find(|i| i.index == *ix).cloned().ok_or_else(|| {
                        ChaosError::OutsideLab(format!(
                            "{} has no instance {ix} (it has {} instance(s): 0..{})",
                            plan.carrier,
                            all.len(),
                            all.len().saturating_sub(1)
                        ))
                    })
                })
                .collect(),
            Target::Percent(p) => {
                let k = ((all.len() as f64 * p / 100.0).ceil() as usize).clamp(1, all.len().max(1));
                Ok(all.into_iter().take(k).collect())
            }
        }
    }

    fn spec(&self, id: &str, plan: &Plan, until: DateTime<Utc>) -> Option<FaultSpec> {
        let Action::Runtime { kind } = &plan.action else {
            return None;
        };
        let ttl = (until - Utc::now()).num_milliseconds().max(1) as u64;
        Some(FaultSpec {
            id: id.to_string(),
            kind: kind.clone(),
            percent: plan.percent,
            route: plan.route.clone(),
            to: plan.caller.as_ref().map(|_| plan.service.clone()),
            ttl_ms: ttl,
        })
    }

    async fn post(&self, inst: &InstanceInfo, spec: &FaultSpec) -> Result<(), String> {
        let r = self
            .http
            .post(format!("http://{}/admin/faults", inst.addr))
            .bearer_auth(&self.token)
            .json(spec)
            .send()
            .await
            .map_err(|e| format!("{}: {e}", inst.name()))?;
        if r.status().is_success() {
            Ok(())
        } else {
            let body = r.text().await.unwrap_or_default();
            Err(format!("{}: {body}", inst.name()))
        }
    }

    async fn delete(&self, addr: std::net::SocketAddr, id: &str) {
        let _ = self
            .http
            .delete(format!("http://{addr}/admin/faults/{id}"))
            .bearer_auth(&self.token)
            .send()
            .await;
    }

    fn signal(&self, pid: u32, sig: Signal) {
        // Only pids the supervisor gave us: the lab's own instances.
        if self.sup.instances().iter().any(|i| i.pid == Some(pid)) {
            let _ = kill(Pid::from_raw(pid as i32), sig);
        }
    }

    /// Injects a fault; when this returns it is in place and journaled.
    pub async fn inject(&self, req: &InjectRequest) -> Result<FaultRecord, ChaosError> {
        let plan = req.plan(self.sup.topology())?;
        let targets = self.targets(&plan)?;
        let running: Vec<&InstanceInfo> = targets.iter().filter(|i| i.pid.is_some()).collect();
        if running.is_empty() && !matches!(plan.action, Action::BadVersion { .. }) {
            return Err(ChaosError::Invalid(format!(
                "{} has no running instance to carry the fault",
                plan.carrier
            )));
        }
        let mut st = self.state.lock().await;
        st.0 += 1;
        let id = format!("f{}", st.0);
        let started = Utc::now();
        let until = started + chrono::Duration::from_std(plan.duration).unwrap_or_default();
        let mut applied = BTreeMap::new();
        let mut previous_version = None;
        match &plan.action {
            Action::Runtime { .. } => {
                let spec = self
                    .spec(&id, &plan, until)
                    .ok_or_else(|| ChaosError::Apply("no spec".into()))?;
                for i in &running {
                    if let Err(e) = self.post(i, &spec).await {
                        for name in applied.keys() {
                            if let Some(a) = running.iter().find(|x| x.name() == *name) {
                                self.delete(a.addr, &id).await;
                            }
                        }
                        return Err(ChaosError::Apply(e));
                    }
                    applied.insert(i.name(), i.pid.unwrap_or(0));
                }
            }
            Action::Kill | Action::Pause => {
                let sig = if plan.action == Action::Kill {
                    Signal::SIGKILL
                } else {
                    Signal::SIGSTOP
                };
                for i in &running {
                    if let Some(pid) = i.pid {
                        self.signal(pid, sig);
                        applied.insert(i.name(), pid);
                    }
                }
            }
            Action::BadVersion { version } => {
                previous_version = targets.first().map(|i| i.version.clone());
                self.sup
                    .deploy(&plan.service, version, DEPLOYER)
                    .await
                    .map_err(|e| ChaosError::Apply(e.to_string()))?;
                applied = targets.iter().map(|i| (i.name(), 0)).collect();
            }
        }
        let params = match &plan.action {
            Action::Runtime { kind } => serde_json::to_value(kind).unwrap_or_default(),
            Action::BadVersion { version } => {
                json!({"version": version, "previous": previous_version})
            }
            _ => json!({}),
        };
        let record = FaultRecord {
            id: id.clone(),
            kind: kind_name(&plan.action),
            service: plan.service.clone(),
            caller: plan.caller.clone(),
            route: plan.route.clone(),
            percent: plan.percent,
            instances: applied.keys().cloned().collect(),
            params,
            started,
            until,
        };
        self.events
            .append(
                NewEvent::new("fault.injected", "chaos", &plan.service)
                    .attrs(serde_json::to_value(&record).unwrap_or_default()),
            )
            .await?;
        tracing::warn!(id = %id, kind = %record.kind, service = %record.service, "fault injected");
        if plan.action != Action::Kill {
            st.1.insert(
                id,
                Active {
                    record: record.clone(),
                    plan,
                    applied,
                    previous_version,
                },
            );
        }
        Ok(record)
    }

    async fn end(&self, a: Active, kind: &str) -> Result<(), ChaosError> {
        match &a.plan.action {
            Action::Runtime { .. } => {
                let instances = self.sup.instances();
                for name in a.applied.keys() {
                    if let Some(i) = instances.iter().find(|i| i.name() == *name) {
                        self.delete(i.addr, &a.record.id).await;
                    }
                }
            }
            Action::Pause => {
                for pid in a.applied.values() {
                    self.signal(*pid, Signal::SIGCONT);
                }
            }
            Action::BadVersion { .. } => {
                if let Some(v) = &a.previous_version
                    && let Err(e) = self.sup.deploy(&a.plan.service, v, DEPLOYER).await
                {
                    tracing::error!(error = %e, "could not roll back a bad-version fault");
                }
            }
            Action::Kill => {}
        }
        self.events
            .append(
                NewEvent::new(kind, "chaos", &a.plan.service)
                    .attr("id", a.record.id.clone())
                    .attr("kind", a.record.kind.clone()),
            )
            .await?;
        Ok(())
    }

    /// Active faults.
    pub async fn list(&self) -> Vec<FaultRecord> {
        self.state
            .lock()
            .await
            .1
            .values()
            .map(|a| a.record.clone())
            .collect()
    }

    pub async fn clear(&self, id: &str) -> Result<FaultRecord, ChaosError> {
        let a = self
            .state
            .lock()
            .await
            .1
            .remove(id)
            .ok_or_else(|| ChaosError::NoFault(id.into()))?;
        let record = a.record.clone();
        self.end(a, "fault.cleared").await?;
        Ok(record)
    }

    pub async fn clear_all(&self) -> Result<Vec<FaultRecord>, ChaosError> {
        let all: Vec<Active> = std::mem::take(&mut self.state.lock().await.1)
            .into_values()
            .collect();
        let mut out = Vec::new();
        for a in all {
            out.push(a.record.clone());
            self.end(a, "fault.cleared").await?;
        }
        Ok(out)
    }

    /// Ends faults whose time is up and carries active ones over to
    /// instances that restarted or joined. Run every second.
    pub async fn tick(&self) -> Result<(), ChaosError> {
        let now = Utc::now();
        let expired: Vec<Active> = {
            let mut st = self.state.lock().await;
            let ids: Vec<String> =
                st.1.iter()
                    .filter(|(_, a)| a.record.until <= now)
                    .map(|(k, _)| k.clone())
                    .collect();
            ids.iter().filter_map(|k| st.1.remove(k)).collect()
        };
        for a in expired {
            self.end(a, "fault.expired").await?;
        }
        let mut st = self.state.lock().await;
        for a in st.1.values_mut() {
            if !matches!(a.plan.action, Action::Runtime { .. }) {
                continue;
            }
            let Some(spec) = self.spec(&a.record.id, &a.plan, a.record.until) else {
                continue;
            };
            let targets = match &a.plan.target {
                Target::All => self.targets(&a.plan).unwrap_or_default(),
                _ => self
                    .sup
                    .instances()
                    .into_iter()
                    .filter(|i| a.applied.contains_key(&i.name()))
                    .collect(),
            };
            for i in targets {
                let Some(pid) = i.pid else { continue };
                if a.applied.get(&i.name()) != Some(&pid) && self.post(&i, &spec).await.is_ok() {
                    a.applied.insert(i.name(), pid);
                    a.record.instances = a.applied.keys().cloned().collect();
                }
            }
        }
        Ok(())
    }

    /// The lab is stopping: every fault ends (paused processes continue,
    /// fill files go) before the instances are stopped.
    pub async fn shutdown(&self) {
        if let Err(e) = self.clear_all().await {
            tracing::error!(error = %e, "clearing faults at shutdown");
        }
        let _ = std::fs::remove_dir_all(self.data_dir.join(lab::runtime::faults::SPOOL_DIR));
    }

    /// Runs `tick` every second until aborted.
    pub async fn run(self: Arc<Self>) {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
            if let Err(e) = self.tick().await {
                tracing::error!(error = %e, "fault controller tick");
            }
        }
    }
}
