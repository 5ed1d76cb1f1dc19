//! A fault as a user asks for it (`POST /api/faults`, `firedrill fault
//! inject`), checked against the lab's topology: only the lab's services,
//! instances, routes and call edges can be named; there is no field for a
//! process, a path or a port.

use std::time::Duration;

use lab::faults::FaultKind;
use lab::topology::Topology;
use lab::topology::duration::parse_duration;
use serde::{Deserialize, Serialize};

use crate::ChaosError;

/// The longest a fault may last, and the default.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
pub const DEFAULT_DURATION: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InjectRequest {
    /// latency, error, blackhole, refuse, reset, slow_body, cpu, memory,
    /// disk, kill, pause, bad_version.
    pub kind: String,
    pub service: String,
    /// Instance indices (default: all, or `instance_percent` of them).
    #[serde(default)]
    pub instances: Option<Vec<u32>>,
    #[serde(default)]
    pub instance_percent: Option<f64>,
    /// Only requests to this route (server-side request faults).
    #[serde(default)]
    pub route: Option<String>,
    /// Client side: only calls from this service to `service`.
    #[serde(default)]
    pub caller: Option<String>,
    /// Share of requests affected (request faults), default 100.
    #[serde(default)]
    pub percent: Option<f64>,
    #[serde(default)]
    pub delay: Option<String>,
    #[serde(default)]
    pub jitter: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    /// CPU: share of a core.
    #[serde(default)]
    pub share: Option<f64>,
    #[serde(default)]
    pub mb_per_s: Option<u64>,
    #[serde(default)]
    pub cap_mb: Option<u64>,
    #[serde(default)]
    pub size_mb: Option<u64>,
    /// bad_version: the version to switch to (default: the first one with bugs).
    #[serde(default)]
    pub version: Option<String>,
    /// How long it lasts (default 10m, at most 1h).
    #[serde(default, rename = "for")]
    pub duration: Option<String>,
}

/// Which instances a fault lands on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Target {
    /// All instances of the service, including ones started later.
    All,
    Indices(Vec<u32>),
    Percent(f64),
}

/// What the controller carries out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Applied by the instances (through their admin endpoint).
    Runtime {
        #[serde(flatten)]
        kind: FaultKind,
    },
    Kill,
    Pause,
    BadVersion {
        version: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub action: Action,
    pub service: String,
    /// The instances carrying it: the caller's for client-side faults.
    pub carrier: String,
    pub caller: Option<String>,
    pub route: Option<String>,
    pub target: Target,
    pub percent: f64,
    pub duration: Duration,
}

fn dur(s: &Option<String>, what: &str, default: Duration) -> Result<Duration, ChaosError> {
    match s {
        None => Ok(default),
        Some(t) => parse_duration(t).map_err(|e| ChaosError::Invalid(format!("{what}: {e}"))),
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

impl InjectRequest {
    /// Checks the request against the lab and turns it into a plan.
    pub fn plan(&self, topo: &Topology) -> Result<Plan, ChaosError> {
        let outside = |m: String| Err(ChaosError::OutsideLab(m));
        let Some(svc) = topo.service(&self.service) else {
            return outside(format!(
                "no service {:?} in the {} lab (services: {}); faults only reach the lab's own services",
                self.service,
                topo.name,
                topo.services
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        let duration = dur(&self.duration, "for", DEFAULT_DURATION)?;
        if duration.is_zero() || duration > MAX_DURATION {
            return Err(ChaosError::Invalid(
                "a fault lasts from 1s to 1h (--for)".into(),
            ));
        }
        let percent = self.percent.unwrap_or(100.0);
        if !(0.0..=100.0).contains(&percent) || percent == 0.0 {
            return Err(ChaosError::Invalid(
                "percent is above 0 and at most 100".into(),
            ));
        }
        let action = match self.kind.as_str() {
            "latency" => {
                let delay = dur(&self.delay, "delay", Duration::ZERO)?;
                if delay.is_zero() {
                    return Err(ChaosError::Invalid(
                        "latency needs a delay (e.g. 800ms)".into(),
                    ));
                }
                Action::Runtime {
                    kind: FaultKind::Latency {
                        delay_ms: ms(delay),
                        jitter_ms: ms(dur(&self.jitter, "jitter", Duration::ZERO)?),
                    },
                }
            }
            "error" => Action::Runtime {
                kind: FaultKind::Error {
                    status: self.status.unwrap_or(500),
                },
            },
            "blackhole" => Action::Runtime {
                kind: FaultKind::Blackhole,
            },
            "refuse" => Action::Runtime {
                kind: FaultKind::Refuse,
            },
            "reset" => Action::Runtime {
                kind: FaultKind::Reset,
            },
            "slow_body" => Action::Runtime {
                kind: FaultKind::SlowBody {
                    delay_ms: ms(dur(&self.delay, "delay", Duration::from_secs(2))?),
                },
            },
            "cpu" => Action::Runtime {
                kind: FaultKind::Cpu {
                    share: self.share.unwrap_or(0.5),
                },
            },
            "memory" => Action::Runtime {
                kind: FaultKind::Memory {
                    mb_per_s: self.mb_per_s.unwrap_or(10),
                    cap_mb: self.cap_mb.unwrap_or(200),
                },
            },
            "disk" => Action::Runtime {
                kind: FaultKind::Disk {
                    mb_per_s: self.mb_per_s.unwrap_or(10),
                    size_mb: self.size_mb.unwrap_or(100),
                },
            },
            "kill" => Action::Kill,
            "pause" => Action::Pause,
            "bad_version" => {
                let version = match &self.version {
                    Some(v) if svc.versions.contains_key(v) => v.clone(),
                    Some(v) => {
                        return outside(format!(
                            "{} has no version {v:?} (it has: {})",
                            svc.name,
                            svc.versions.keys().cloned().collect::<Vec<_>>().join(", ")
                        ));
                    }
                    None => svc
                        .versions
                        .iter()
                        .find(|(n, p)| {
                            **n != svc.version
                                && (p.error_rate > 0.0
                                    || p.extra_latency.is_some()
                                    || p.leak_bytes_per_request > 0)
                        })
                        .map(|(n, _)| n.clone())
                        .ok_or_else(|| {
                            ChaosError::Invalid(format!(
                                "{} has no buggy version to switch to",
                                svc.name
                            ))
                        })?,
                };
                Action::BadVersion { version }
            }
            other => {
                return Err(ChaosError::Invalid(format!(
                    "unknown fault kind {other:?}: latency, error, blackhole, refuse, reset, slow_body, cpu, memory, disk, kill, pause, bad_version"
                )));
            }
        };
        if let Action::Runtime { kind } = &action {
            kind.validate().map_err(ChaosError::Invalid)?;
        }
        let per_request = matches!(&action, Action::Runtime { kind } if kind.per_request());
        if (self.route.is_some() || self.caller.is_some() || self.percent.is_some()) && !per_request
        {
            return Err(ChaosError::Invalid(format!(
                "{} acts on whole instances: --route, --caller and --percent do not apply",
                self.kind
            )));
        }
        if let Some(route) = &self.route {
            if !svc.endpoints.iter().any(|e| &e.route == route) {
                return outside(format!(
                    "{} has no route {route:?} (routes: {})",
                    svc.name,
                    svc.endpoints
                        .iter()
                        .map(|e| e.route.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if self.caller.is_some() {
                return Err(ChaosError::Invalid(
                    "--route is for server-side faults; with --caller the fault is on the edge"
                        .into(),
                ));
            }
        }
        let carrier = match &self.caller {
            None => svc.name.clone(),
            Some(c) => {
                let Some(caller) = topo.service(c) else {
                    return outside(format!("no service {c:?} in the {} lab", topo.name));
                };
                let calls = caller
                    .endpoints
                    .iter()
                    .flat_map(|e| e.calls.iter())
                    .chain(caller.background.iter().flat_map(|b| b.calls.iter()))
                    .any(|call| call.service == svc.name);
                if !calls {
                    return outside(format!(
                        "{c} does not call {}: no such edge in the topology",
                        svc.name
                    ));
                }
                caller.name.clone()
            }
        };
        let target = match (&self.instances, self.instance_percent) {
            (Some(_), Some(_)) => {
                return Err(ChaosError::Invalid(
                    "give instances or instance_percent, not both".into(),
                ));
            }
            (Some(list), None) => {
                if list.is_empty() {
                    return Err(ChaosError::Invalid("instances names none".into()));
                }
                Target::Indices(list.clone())
            }
            (None, Some(p)) if p > 0.0 && p <= 100.0 => Target::Percent(p),
            (None, Some(_)) => {
                return Err(ChaosError::Invalid(
                    "instance_percent is above 0 and at most 100".into(),
                ));
            }
            (None, None) => Target::All,
        };
        if matches!(action, Action::BadVersion { .. }) && target != Target::All {
            return Err(ChaosError::Invalid(
                "bad_version deploys to the whole service".into(),
            ));
        }
        Ok(Plan {
            action,
            service: svc.name.clone(),
            carrier,
            caller: self.caller.clone(),
            route: self.route.clone(),
            target,
            percent,
            duration,
        })
    }
}
