//! The engine's hands on the lab: setup steps, starting and clearing a
//! fault's effect, and putting the lab back when the drill ends. Every
//! operation goes through the same supervisor, load generator and fault
//! controller a person's command uses, so each is journaled like theirs
//! (with the drill's own sources, which never count as a trainee's action).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chaos::{FaultController, InjectRequest};
use lab::loadgen::LoadGen;
use lab::supervisor::Supervisor;
use wire::NewEvent;

use crate::DrillError;
use crate::record::Undo;
use crate::scenario::{FaultAction, SetupStep};

pub struct LabHands {
    pub sup: Arc<Supervisor>,
    pub loadgen: Arc<LoadGen>,
    pub faults: Arc<FaultController>,
}

fn lab_err(e: impl std::fmt::Display) -> DrillError {
    DrillError::Lab(e.to_string())
}

impl LabHands {
    pub async fn setup(&self, step: &SetupStep) -> Result<(), DrillError> {
        match step {
            SetupStep::Load { rps } => {
                self.loadgen.set_rps(*rps);
                self.sup
                    .events()
                    .append(NewEvent::new("load.changed", "drill", "loadgen").attr("rps", *rps))
                    .await
                    .map_err(lab_err)?;
            }
            SetupStep::Config { service, set } => {
                self.sup
                    .config_set(service, set.clone(), "drill")
                    .await
                    .map_err(lab_err)?;
            }
            SetupStep::Scale { service, instances } => {
                self.sup
                    .scale(service, *instances, "drill")
                    .await
                    .map_err(lab_err)?;
            }
            SetupStep::Deploy { service, version } => {
                if self.version_of(service).as_deref() != Some(version.as_str()) {
                    self.sup
                        .deploy(service, version, "drill")
                        .await
                        .map_err(lab_err)?;
                }
            }
        }
        Ok(())
    }

    /// The version `service` runs now.
    pub fn version_of(&self, service: &str) -> Option<String> {
        self.sup
            .instances()
            .into_iter()
            .find(|i| i.service == service)
            .map(|i| i.version)
    }

    /// Starts a fault's effect; `remaining` bounds an injected part (it is
    /// cleared earlier when remedied or when the drill ends).
    pub async fn start(
        &self,
        action: &FaultAction,
        remaining: Duration,
    ) -> Result<(Option<String>, Undo), DrillError> {
        let mut undo = Undo::default();
        let mut chaos_id = None;
        match action {
            FaultAction::Inject { fault } => {
                chaos_id = Some(self.inject(fault, remaining).await?);
            }
            FaultAction::Release { service, version } => {
                undo.previous_version = self.version_of(service);
                if undo.previous_version.as_deref() != Some(version.as_str()) {
                    self.sup
                        .deploy(service, version, "deploy-bot")
                        .await
                        .map_err(lab_err)?;
                }
            }
            FaultAction::Surge { rps } => {
                undo.previous_rps = Some(self.loadgen.status().rps);
                self.loadgen.set_rps(*rps);
            }
            FaultAction::Config { service, set } => {
                undo.previous_config = self.current_config(service, set.keys()).await;
                self.sup
                    .config_set(service, set.clone(), "config-bot")
                    .await
                    .map_err(lab_err)?;
            }
        }
        Ok((chaos_id, undo))
    }

    /// Injects through the fault controller, lasting at most `remaining`.
    pub async fn inject(
        &self,
        fault: &InjectRequest,
        remaining: Duration,
    ) -> Result<String, DrillError> {
        let mut req = fault.clone();
        let secs = remaining
            .as_secs()
            .clamp(1, chaos::faults::MAX_DURATION.as_secs());
        req.duration = Some(format!("{secs}s"));
        Ok(self.faults.inject(&req).await?.id)
    }

    /// Takes away an injected part (a relief or a remedy); other effects
    /// are the trainee's operations' to undo.
    pub async fn clear_injected(&self, chaos_id: &mut Option<String>) {
        if let Some(id) = chaos_id.take()
            && let Err(e) = self.faults.clear(&id).await
        {
            // Already expired or cleared: nothing left in the lab.
            tracing::debug!(fault = %id, error = %e, "drill fault already gone");
        }
    }

    /// The drill is over and this fault was never remedied: the lab goes
    /// back to how it was before it.
    pub async fn undo(&self, action: &FaultAction, chaos_id: &mut Option<String>, undo: &Undo) {
        self.clear_injected(chaos_id).await;
        let result = match action {
            FaultAction::Inject { .. } => Ok(()),
            FaultAction::Release { service, version } => match &undo.previous_version {
                Some(prev) if self.version_of(service).as_deref() == Some(version.as_str()) => self
                    .sup
                    .deploy(service, prev, "drill")
                    .await
                    .map_err(lab_err),
                _ => Ok(()),
            },
            FaultAction::Surge { .. } => {
                if let Some(rps) = undo.previous_rps {
                    self.loadgen.set_rps(rps);
                }
                Ok(())
            }
            FaultAction::Config { service, .. } => {
                if undo.previous_config.is_empty() {
                    Ok(())
                } else {
                    self.sup
                        .config_set(service, undo.previous_config.clone(), "drill")
                        .await
                        .map(|_| ())
                        .map_err(lab_err)
                }
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not undo a drill fault at the drill's end");
        }
    }

    /// Values of `keys` on `service` now, as `config set` takes them.
    async fn current_config<'a>(
        &self,
        service: &str,
        keys: impl Iterator<Item = &'a String>,
    ) -> BTreeMap<String, String> {
        let cfg = self.sup.config_of(service).await.unwrap_or_default();
        let topo = self.sup.topology();
        let mut out = BTreeMap::new();
        for key in keys {
            if let Some(v) = config_value(&cfg, topo, service, key) {
                out.insert(key.clone(), v);
            }
        }
        out
    }
}

/// One key of an instance's live config (`GET /admin/config`'s `config`),
/// as a `config set` value; per-downstream keys not overridden fall back
/// to the longest timeout (most retries) the topology declares.
fn config_value(
    cfg: &serde_json::Value,
    topo: &lab::topology::Topology,
    service: &str,
    key: &str,
) -> Option<String> {
    let plain = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Some(v) = cfg.get(key) {
        return Some(plain(v));
    }
    let (map, down) = key
        .strip_prefix("timeout.")
        .map(|d| ("timeouts", d))
        .or_else(|| key.strip_prefix("retries.").map(|d| ("retries", d)))?;
    if let Some(v) = cfg.get(map).and_then(|m| m.get(down)) {
        return Some(plain(v));
    }
    let svc = topo.service(service)?;
    let calls = svc
        .endpoints
        .iter()
        .flat_map(|e| e.calls.iter())
        .chain(svc.background.iter().flat_map(|b| b.calls.iter()))
        .filter(|c| c.service == down);
    if map == "timeouts" {
        calls
            .map(|c| c.timeout)
            .max()
            .map(|d| format!("{}ms", d.as_millis()))
    } else {
        calls.map(|c| c.retries).max().map(|n| n.to_string())
    }
}
