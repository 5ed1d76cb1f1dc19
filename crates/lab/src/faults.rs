//! Faults as an instance applies them: the spec the chaos controller sends
//! to `/admin/faults`. Request faults act on the server side (optionally one
//! route) or, with `to`, on this instance's calls to one downstream service
//! (the caller → callee edge). Process faults (CPU, memory, disk) act on the
//! whole instance. Kill, pause and bad versions are the supervisor's.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Added latency: `delay_ms` plus uniform jitter in ±`jitter_ms`.
    Latency { delay_ms: u64, jitter_ms: u64 },
    /// Answer with `status` without doing the work.
    Error { status: u16 },
    /// Hold the request until the caller gives up (its timeout).
    Blackhole,
    /// Refuse connections: the listener closes (server side), or calls
    /// fail as refused (client side).
    Refuse,
    /// Reset the connection halfway through the response body.
    Reset,
    /// Send the body slowly: spread `delay_ms` over its chunks.
    SlowBody { delay_ms: u64 },
    /// Burn `share` of one core (0.05 to 1.0).
    Cpu { share: f64 },
    /// Allocate and touch memory at `mb_per_s` up to `cap_mb`.
    Memory { mb_per_s: u64, cap_mb: u64 },
    /// Write a file in the lab's data dir at `mb_per_s` up to `size_mb`.
    Disk { mb_per_s: u64, size_mb: u64 },
}

impl FaultKind {
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Latency { .. } => "latency",
            FaultKind::Error { .. } => "error",
            FaultKind::Blackhole => "blackhole",
            FaultKind::Refuse => "refuse",
            FaultKind::Reset => "reset",
            FaultKind::SlowBody { .. } => "slow_body",
            FaultKind::Cpu { .. } => "cpu",
            FaultKind::Memory { .. } => "memory",
            FaultKind::Disk { .. } => "disk",
        }
    }

    /// Whether it acts per request (and so takes `percent`, `route`, `to`).
    pub fn per_request(&self) -> bool {
        !matches!(
            self,
            FaultKind::Cpu { .. } | FaultKind::Memory { .. } | FaultKind::Disk { .. }
        )
    }

    /// Checks the numbers: every fault is bounded.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            FaultKind::Latency {
                delay_ms,
                jitter_ms,
            } if delay_ms > 60_000 || jitter_ms > delay_ms.max(1) * 10 => {
                Err("latency: delay up to 60s, jitter up to 10× the delay".into())
            }
            FaultKind::Error { status } if !(400..=599).contains(&status) => {
                Err(format!("error: status {status} is not 400..599"))
            }
            FaultKind::SlowBody { delay_ms } if delay_ms == 0 || delay_ms > 60_000 => {
                Err("slow_body: delay from 1ms to 60s".into())
            }
            FaultKind::Cpu { share } if !(0.05..=1.0).contains(&share) => {
                Err("cpu: share of a core from 0.05 to 1.0".into())
            }
            FaultKind::Memory { mb_per_s, cap_mb }
                if mb_per_s == 0 || mb_per_s > 256 || cap_mb == 0 || cap_mb > 1024 =>
            {
                Err("memory: 1 to 256 MB/s, capped at 1 to 1024 MB".into())
            }
            FaultKind::Disk { mb_per_s, size_mb }
                if mb_per_s == 0 || mb_per_s > 256 || size_mb == 0 || size_mb > 1024 =>
            {
                Err("disk: 1 to 256 MB/s, up to 1 to 1024 MB".into())
            }
            _ => Ok(()),
        }
    }
}

/// One fault on one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    pub id: String,
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Share of requests affected, 0 to 100 (per-request faults).
    #[serde(default = "all")]
    pub percent: f64,
    /// Only this route (server-side request faults).
    #[serde(default)]
    pub route: Option<String>,
    /// Client side: only calls from this instance to this service.
    #[serde(default)]
    pub to: Option<String>,
    /// It ends by itself after this long, even if nobody clears it.
    pub ttl_ms: u64,
}

fn all() -> f64 {
    100.0
}

/// The longest a fault may last.
pub const MAX_TTL_MS: u64 = 3_600_000;
