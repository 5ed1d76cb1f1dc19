//! The supervisor: runs every instance of the lab as its own process, keeps
//! the service registry, and carries out operations (restart, scale, drain,
//! config set, deploy, rollback), recording each in the event log.

mod error;
mod instance;
mod metrics;
pub mod ports;
pub mod process;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{oneshot, watch};
use wire::{EventSink, NewEvent};

pub use error::SupervisorError;
pub use instance::{InstanceInfo, InstanceState};
pub use metrics::SupervisorMetrics;
pub use process::LaunchSpec;

use crate::topology::Topology;
use instance::{Command, Keeper};
use ports::PortAllocator;

/// How to run a lab.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    pub topology: Topology,
    pub launch: LaunchSpec,
    /// First instance port; the entry service's first instance gets it.
    pub base_port: u16,
    /// The lab's token, for instances' admin endpoints.
    pub token: String,
    /// How long a drained instance stays up before a rolling restart stops it
    /// (callers refresh the registry every second).
    pub drain_delay: Duration,
}

/// State shared with the instance keepers.
pub(crate) struct Shared {
    pub launch: LaunchSpec,
    pub events: Arc<dyn EventSink>,
    pub http: reqwest::Client,
    token: String,
    changes: watch::Sender<u64>,
    overrides: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
    metrics: SupervisorMetrics,
}

impl Shared {
    /// Appends an event for a change just made; the caller answers after it.
    pub async fn emit(&self, event: NewEvent) -> Result<(), SupervisorError> {
        self.events.append(event).await?;
        Ok(())
    }

    /// Appends an event nobody waits on (a crash, a restart by the keeper).
    pub async fn emit_or_log(&self, event: NewEvent) {
        wire::sink::append_or_log(self.events.as_ref(), event).await;
    }

    /// Signals that the registry or an instance state changed.
    pub fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    pub fn restart_counter(&self, instance: &str) {
        self.metrics.restarted(instance);
    }

    /// Re-applies `config set` overrides to a (re)started instance.
    pub async fn apply_overrides(&self, service: &str, addr: SocketAddr) {
        let pairs = self
            .overrides
            .lock()
            .ok()
            .and_then(|o| o.get(service).cloned())
            .unwrap_or_default();
        if pairs.is_empty() {
            return;
        }
        if let Err(e) = self.patch_config(addr, &pairs).await {
            tracing::warn!(%addr, error = %e, "could not re-apply config to a restarted instance");
        }
    }

    async fn patch_config(
        &self,
        addr: SocketAddr,
        pairs: &BTreeMap<String, String>,
    ) -> Result<serde_json::Value, String> {
        let resp = self
            .http
            .patch(format!("http://{addr}/admin/config"))
            .bearer_auth(&self.token)
            .json(pairs)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            let reason = body
                .get("error")
                .and_then(|e| e.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| format!("HTTP {status}"));
            Err(reason)
        }
    }
}

struct ServiceEntry {
    version: String,
    /// Versions deployed before, most recent last (for rollback).
    history: Vec<String>,
    keepers: Vec<Keeper>,
}

/// A service as `firedrill status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceStatus {
    pub name: String,
    pub version: String,
    pub versions: Vec<String>,
    pub instances: Vec<InstanceInfo>,
}

/// The running lab's processes.
pub struct Supervisor {
    shared: Arc<Shared>,
    topology: Topology,
    drain_delay: Duration,
    services: Mutex<BTreeMap<String, ServiceEntry>>,
    order: Vec<String>,
    ports: Mutex<PortAllocator>,
    ops: tokio::sync::Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Supervisor {
    /// Checks every port, then starts every instance and waits until all are
    /// healthy. `progress(ready, total)` is called as instances come up. On
    /// failure nothing is left running.
    pub async fn start(
        cfg: SupervisorConfig,
        events: Arc<dyn EventSink>,
        created: impl FnOnce(Arc<Supervisor>),
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Arc<Supervisor>, SupervisorError> {
        let mut ports = PortAllocator::new(cfg.base_port);
        let mut plan = Vec::new();
        for s in &cfg.topology.services {
            for index in 0..s.instances {
                let port = ports.allocate(&format!("{}/{index}", s.name))?;
                plan.push((s.name.clone(), index, s.version.clone(), port));
            }
        }
        if let Some(parent) = cfg.launch.topology_json.parent() {
            std::fs::create_dir_all(parent).map_err(|source| SupervisorError::Spawn {
                who: "lab".into(),
                source,
            })?;
        }
        let json = serde_json::to_vec_pretty(&cfg.topology).unwrap_or_default();
        std::fs::write(&cfg.launch.topology_json, json).map_err(|source| {
            SupervisorError::Spawn {
                who: "lab".into(),
                source,
            }
        })?;
        let (changes, _) = watch::channel(0);
        let metrics = SupervisorMetrics::new(cfg.launch.data_dir.clone());
        let shared = Arc::new(Shared {
            launch: cfg.launch,
            events,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            token: cfg.token,
            changes,
            overrides: Mutex::new(BTreeMap::new()),
            metrics,
        });
        let mut services = BTreeMap::new();
        let mut waits = Vec::new();
        for s in &cfg.topology.services {
            services.insert(
                s.name.clone(),
                ServiceEntry {
                    version: s.version.clone(),
                    history: Vec::new(),
                    keepers: Vec::new(),
                },
            );
        }
        for (service, index, version, port) in plan {
            let (tx, rx) = oneshot::channel();
            let keeper = Keeper::spawn(
                shared.clone(),
                new_info(&service, index, &version, port),
                tx,
            );
            if let Some(e) = services.get_mut(&service) {
                e.keepers.push(keeper);
            }
            waits.push(rx);
        }
        let sup = Arc::new(Supervisor {
            shared,
            order: cfg
                .topology
                .services
                .iter()
                .map(|s| s.name.clone())
                .collect(),
            topology: cfg.topology,
            drain_delay: cfg.drain_delay,
            services: Mutex::new(services),
            ports: Mutex::new(ports),
            ops: tokio::sync::Mutex::new(()),
        });
        // Instances ask for the registry while they start.
        created(sup.clone());
        let total = waits.len();
        progress(0, total);
        let mut first_err = None;
        for (done, rx) in waits.into_iter().enumerate() {
            let r = rx.await.unwrap_or(Err(SupervisorError::ShuttingDown));
            if let Err(e) = r
                && first_err.is_none()
            {
                first_err = Some(e);
            }
            progress(done + 1, total);
        }
        if let Some(e) = first_err {
            sup.shutdown().await;
            return Err(e);
        }
        sup.shared
            .emit(
                NewEvent::new("lab.started", "supervisor", &sup.topology.name)
                    .attr("instances", total),
            )
            .await?;
        Ok(sup)
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Where the lab's events go (the journal).
    pub fn events(&self) -> &Arc<dyn EventSink> {
        &self.shared.events
    }

    pub fn metrics(&self) -> &SupervisorMetrics {
        &self.shared.metrics
    }

    /// A receiver that changes whenever an instance changes state.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.changes.subscribe()
    }

    /// Every instance, services in topology order.
    pub fn instances(&self) -> Vec<InstanceInfo> {
        let services = lock(&self.services);
        self.order
            .iter()
            .filter_map(|n| services.get(n))
            .flat_map(|e| e.keepers.iter().map(Keeper::snapshot))
            .collect()
    }

    /// Services with their versions and instances, in topology order.
    pub fn status(&self) -> Vec<ServiceStatus> {
        let services = lock(&self.services);
        self.order
            .iter()
            .filter_map(|n| {
                let e = services.get(n)?;
                let versions = self
                    .topology
                    .service(n)
                    .map(|s| s.versions.keys().cloned().collect())
                    .unwrap_or_default();
                Some(ServiceStatus {
                    name: n.clone(),
                    version: e.version.clone(),
                    versions,
                    instances: e.keepers.iter().map(Keeper::snapshot).collect(),
                })
            })
            .collect()
    }

    /// Addresses callers should use, per service: every instance that is not
    /// drained or stopped. Crashed instances stay listed, as they would in a
    /// static service list: callers' health checks eject them.
    pub fn registry(&self) -> BTreeMap<String, Vec<SocketAddr>> {
        let services = lock(&self.services);
        services
            .iter()
            .map(|(name, e)| {
                let addrs = e
                    .keepers
                    .iter()
                    .map(Keeper::snapshot)
                    .filter(|i| {
                        !i.draining
                            && !matches!(i.state, InstanceState::Stopped | InstanceState::Stopping)
                    })
                    .map(|i| i.addr)
                    .collect();
                (name.clone(), addrs)
            })
            .collect()
    }

    fn keeper_infos(
        &self,
        service: &str,
    ) -> Result<Vec<Arc<Mutex<InstanceInfo>>>, SupervisorError> {
        let services = lock(&self.services);
        let e = services
            .get(service)
            .ok_or_else(|| SupervisorError::UnknownService(service.to_string()))?;
        Ok(e.keepers.iter().map(|k| k.info.clone()).collect())
    }

    fn keeper_tx(
        &self,
        service: &str,
        index: u32,
    ) -> Result<(tokio::sync::mpsc::Sender<Command>, Arc<Mutex<InstanceInfo>>), SupervisorError>
    {
        let services = lock(&self.services);
        let e = services
            .get(service)
            .ok_or_else(|| SupervisorError::UnknownService(service.to_string()))?;
        e.keepers
            .iter()
            .find(|k| instance::lock(&k.info).index == index)
            .map(|k| (k.tx.clone(), k.info.clone()))
            .ok_or(SupervisorError::UnknownInstance {
                service: service.to_string(),
                index,
                count: e.keepers.len(),
            })
    }

    async fn send(
        tx: &tokio::sync::mpsc::Sender<Command>,
        make: impl FnOnce(instance::Reply) -> Command,
    ) -> Result<(), SupervisorError> {
        let (reply, rx) = oneshot::channel();
        tx.send(make(reply))
            .await
            .map_err(|_| SupervisorError::ShuttingDown)?;
        rx.await.map_err(|_| SupervisorError::ShuttingDown)?
    }

    /// Takes one instance out of rotation, restarts it (optionally on
    /// another version), and puts it back once healthy.
    async fn roll_one(
        &self,
        service: &str,
        index: u32,
        version: Option<&str>,
        reason: &'static str,
        source: &str,
    ) -> Result<(), SupervisorError> {
        let (tx, info) = self.keeper_tx(service, index)?;
        let was_draining = instance::lock(&info).draining;
        instance::lock(&info).draining = true;
        self.shared.changed();
        tokio::time::sleep(self.drain_delay).await;
        let result = Self::send(&tx, |reply| Command::Restart {
            version: version.map(str::to_string),
            reason,
            source: source.to_string(),
            reply,
        })
        .await;
        instance::lock(&info).draining = was_draining;
        self.shared.changed();
        result
    }

    fn indexes(&self, service: &str) -> Result<Vec<u32>, SupervisorError> {
        Ok(self
            .keeper_infos(service)?
            .iter()
            .map(|i| instance::lock(i).index)
            .collect())
    }

    /// `firedrill restart SERVICE[/N]`: a rolling restart, one instance at a time.
    pub async fn restart(
        &self,
        service: &str,
        index: Option<u32>,
        source: &str,
    ) -> Result<(), SupervisorError> {
        let _op = self.ops.lock().await;
        let targets = match index {
            Some(i) => vec![i],
            None => self.indexes(service)?,
        };
        if let Some(i) = index {
            self.keeper_tx(service, i)?;
        }
        for i in targets {
            self.roll_one(service, i, None, "operator restart", source)
                .await?;
        }
        Ok(())
    }

    /// `firedrill deploy SERVICE VERSION`: a rolling deploy.
    pub async fn deploy(
        &self,
        service: &str,
        version: &str,
        source: &str,
    ) -> Result<(), SupervisorError> {
        let _op = self.ops.lock().await;
        self.deploy_locked(service, version, source, false).await
    }

    /// `firedrill rollback SERVICE`: deploys the version before the current one.
    pub async fn rollback(&self, service: &str, source: &str) -> Result<String, SupervisorError> {
        let _op = self.ops.lock().await;
        let previous = {
            let services = lock(&self.services);
            let e = services
                .get(service)
                .ok_or_else(|| SupervisorError::UnknownService(service.to_string()))?;
            e.history
                .last()
                .cloned()
                .ok_or_else(|| SupervisorError::NothingToRollBack(service.to_string()))?
        };
        self.deploy_locked(service, &previous, source, true).await?;
        Ok(previous)
    }

    async fn deploy_locked(
        &self,
        service: &str,
        version: &str,
        source: &str,
        rollback: bool,
    ) -> Result<(), SupervisorError> {
        let svc = self
            .topology
            .service(service)
            .ok_or_else(|| SupervisorError::UnknownService(service.to_string()))?;
        if !svc.versions.contains_key(version) {
            return Err(SupervisorError::UnknownVersion {
                service: service.to_string(),
                version: version.to_string(),
                known: svc.versions.keys().cloned().collect::<Vec<_>>().join(", "),
            });
        }
        let from = {
            let mut services = lock(&self.services);
            let e = services
                .get_mut(service)
                .ok_or_else(|| SupervisorError::UnknownService(service.to_string()))?;
            let from = std::mem::replace(&mut e.version, version.to_string());
            if rollback {
                e.history.pop();
            } else if from != version {
                e.history.push(from.clone());
            }
            from
        };
        let (started, finished) = if rollback {
            ("rollback.started", "rollback.finished")
        } else {
            ("deploy.started", "deploy.finished")
        };
        self.shared
            .emit(
                NewEvent::new(started, source, service)
                    .attr("from", from.clone())
                    .attr("to", version),
            )
            .await?;
        for i in self.indexes(service)? {
            if let Err(e) = self
                .roll_one(service, i, Some(version), "deploy", source)
                .await
            {
                self.shared
                    .emit(
                        NewEvent::new("deploy.failed", source, service)
                            .attr("to", version)
                            .attr("error", e.to_string()),
                    )
                    .await?;
                return Err(e);
            }
        }
        self.shared
            .emit(
                NewEvent::new(finished, source, service)
                    .attr("from", from)
                    .attr("to", version),
            )
            .await?;
        Ok(())
    }

    /// `firedrill scale SERVICE N`.
    pub async fn scale(
        &self,
        service: &str,
        count: u32,
        source: &str,
    ) -> Result<(), SupervisorError> {
        if count > 32 {
            return Err(SupervisorError::BadScale(count));
        }
        let _op = self.ops.lock().await;
        let (current, version, next_index) = {
            let services = lock(&self.services);
            let e = services
                .get(service)
                .ok_or_else(|| SupervisorError::UnknownService(service.to_string()))?;
            let next = e
                .keepers
                .iter()
                .map(|k| instance::lock(&k.info).index + 1)
                .max()
                .unwrap_or(0);
            (e.keepers.len() as u32, e.version.clone(), next)
        };
        self.shared
            .emit(
                NewEvent::new("service.scaled", source, service)
                    .attr("from", current)
                    .attr("to", count),
            )
            .await?;
        if count > current {
            let mut waits = Vec::new();
            for k in 0..(count - current) {
                let index = next_index + k;
                let port = lock(&self.ports).allocate_next_free(&format!("{service}/{index}"))?;
                let (tx, rx) = oneshot::channel();
                let keeper = Keeper::spawn(
                    self.shared.clone(),
                    new_info(service, index, &version, port),
                    tx,
                );
                if let Some(e) = lock(&self.services).get_mut(service) {
                    e.keepers.push(keeper);
                }
                waits.push(rx);
            }
            for rx in waits {
                rx.await.unwrap_or(Err(SupervisorError::ShuttingDown))?;
            }
        } else {
            let removed: Vec<Keeper> = {
                let mut services = lock(&self.services);
                let e = services
                    .get_mut(service)
                    .ok_or_else(|| SupervisorError::UnknownService(service.to_string()))?;
                e.keepers.split_off(count as usize)
            };
            for k in &removed {
                instance::lock(&k.info).draining = true;
            }
            self.shared.changed();
            tokio::time::sleep(self.drain_delay).await;
            for k in removed {
                let port = k.snapshot().addr.port();
                k.command(|reply| Command::Stop { reply }).await?;
                lock(&self.ports).release(port);
            }
            self.shared.changed();
        }
        Ok(())
    }

    /// `firedrill drain SERVICE/N` (or undrain with `on = false`).
    pub async fn drain(
        &self,
        service: &str,
        index: u32,
        on: bool,
        source: &str,
    ) -> Result<(), SupervisorError> {
        let (_, info) = self.keeper_tx(service, index)?;
        let addr = {
            let mut i = instance::lock(&info);
            i.draining = on;
            i.addr
        };
        self.shared.changed();
        let mut pairs = BTreeMap::new();
        pairs.insert("draining".to_string(), on.to_string());
        if let Err(reason) = self.shared.patch_config(addr, &pairs).await {
            tracing::warn!(instance = %format!("{service}/{index}"), %reason, "could not tell the instance it is draining");
        }
        let kind = if on {
            "instance.drained"
        } else {
            "instance.undrained"
        };
        self.shared
            .emit(NewEvent::new(kind, source, &format!("{service}/{index}")))
            .await?;
        Ok(())
    }

    /// `firedrill config set SERVICE key=value...`: applied to every running
    /// instance and kept for instances started later.
    pub async fn config_set(
        &self,
        service: &str,
        pairs: BTreeMap<String, String>,
        source: &str,
    ) -> Result<serde_json::Value, SupervisorError> {
        let infos = self.keeper_infos(service)?;
        let mut last = serde_json::Value::Null;
        for info in infos {
            let (addr, name, running) = {
                let i = instance::lock(&info);
                (i.addr, i.name(), i.state == InstanceState::Running)
            };
            if !running {
                continue;
            }
            last = self
                .shared
                .patch_config(addr, &pairs)
                .await
                .map_err(|reason| SupervisorError::Admin { who: name, reason })?;
        }
        if let Ok(mut o) = self.shared.overrides.lock() {
            o.entry(service.to_string())
                .or_default()
                .extend(pairs.clone());
        }
        self.shared
            .emit(
                NewEvent::new("config.changed", source, service)
                    .attr("set", serde_json::to_value(&pairs).unwrap_or_default()),
            )
            .await?;
        Ok(last)
    }

    /// The live config of one running instance of `service` (its admin
    /// endpoint's `config`), `None` when none answers.
    pub async fn config_of(&self, service: &str) -> Option<serde_json::Value> {
        let addr = self
            .instances()
            .into_iter()
            .find(|i| i.service == service && i.state == InstanceState::Running)?
            .addr;
        let resp = self
            .shared
            .http
            .get(format!("http://{addr}/admin/config"))
            .bearer_auth(&self.shared.token)
            .send()
            .await
            .ok()?;
        let body: serde_json::Value = resp.json().await.ok()?;
        body.get("config").cloned()
    }

    /// Stops every instance and waits for the processes to exit.
    pub async fn shutdown(&self) {
        let keepers: Vec<Keeper> = {
            let mut services = lock(&self.services);
            services
                .values_mut()
                .flat_map(|e| std::mem::take(&mut e.keepers))
                .collect()
        };
        let stops = keepers
            .iter()
            .map(|k| k.command(|reply| Command::Stop { reply }));
        futures_util::future::join_all(stops).await;
        self.shared.changed();
    }
}

fn new_info(service: &str, index: u32, version: &str, port: u16) -> InstanceInfo {
    InstanceInfo {
        service: service.to_string(),
        index,
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        version: version.to_string(),
        state: InstanceState::Starting,
        draining: false,
        pid: None,
        restarts: 0,
        started_at: None,
        last_exit: None,
    }
}
