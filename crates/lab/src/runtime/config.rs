//! Runtime config an operator can read and change while the instance runs
//! (`firedrill config set SERVICE key=value`, the admin endpoint).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::topology::duration::{format_duration, parse_duration};
use crate::topology::{RuntimeDefaults, Service};

/// Keys accepted by [`LiveConfig::set`], for error messages and docs.
pub const KEYS: &[&str] = &[
    "concurrency_limit",
    "panic_threshold_percent",
    "eject_after_failures",
    "health_check_interval",
    "ejection_time",
    "timeout",
    "timeout.<service>",
    "retries",
    "retries.<service>",
    "draining",
];

/// The live config of one instance.
#[derive(Debug, Clone, Serialize)]
pub struct LiveConfig {
    pub concurrency_limit: u32,
    pub panic_threshold_percent: u32,
    pub eject_after_failures: u32,
    #[serde(serialize_with = "ser_duration")]
    pub health_check_interval: Duration,
    /// Least time an instance ejected for failing calls stays out.
    #[serde(serialize_with = "ser_duration")]
    pub ejection_time: Duration,
    /// Overrides of every call's timeout (key `""`) or per downstream service.
    #[serde(serialize_with = "ser_durations")]
    pub timeouts: BTreeMap<String, Duration>,
    /// Overrides of every call's retries (key `""`) or per downstream service.
    pub retries: BTreeMap<String, u32>,
    /// Draining: not ready, so callers stop picking it; requests still served.
    pub draining: bool,
}

fn ser_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

fn ser_durations<S: serde::Serializer>(
    m: &BTreeMap<String, Duration>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(m.len()))?;
    for (k, v) in m {
        let key = if k.is_empty() { "*" } else { k.as_str() };
        map.serialize_entry(key, &format_duration(*v))?;
    }
    map.end()
}

impl LiveConfig {
    pub fn new(d: &RuntimeDefaults) -> Self {
        LiveConfig {
            concurrency_limit: d.concurrency_limit,
            panic_threshold_percent: d.panic_threshold_percent,
            eject_after_failures: d.eject_after_failures,
            health_check_interval: d.health_check_interval,
            ejection_time: Duration::from_secs(5),
            timeouts: BTreeMap::new(),
            retries: BTreeMap::new(),
            draining: false,
        }
    }

    /// Call timeout for a call to `service` (override, else the topology's).
    pub fn timeout(&self, service: &str, declared: Duration) -> Duration {
        self.timeouts
            .get(service)
            .or_else(|| self.timeouts.get(""))
            .copied()
            .unwrap_or(declared)
    }

    pub fn retries(&self, service: &str, declared: u32) -> u32 {
        self.retries
            .get(service)
            .or_else(|| self.retries.get(""))
            .copied()
            .unwrap_or(declared)
    }

    /// Applies `key=value`; on error nothing changes and the message names the
    /// key and what is accepted.
    pub fn set(&mut self, svc: &Service, key: &str, value: &str) -> Result<(), String> {
        let downstream = |name: &str| -> Result<String, String> {
            let calls = svc
                .endpoints
                .iter()
                .flat_map(|e| e.calls.iter())
                .chain(svc.background.iter().flat_map(|b| b.calls.iter()));
            let known: Vec<&str> = {
                let mut v: Vec<&str> = calls.map(|c| c.service.as_str()).collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            if known.contains(&name) {
                Ok(name.to_string())
            } else {
                Err(format!(
                    "{} does not call {name:?}; it calls: {}",
                    svc.name,
                    if known.is_empty() {
                        "nothing".to_string()
                    } else {
                        known.join(", ")
                    }
                ))
            }
        };
        let num = |v: &str| -> Result<u32, String> {
            v.trim()
                .parse::<u32>()
                .map_err(|_| format!("{key}: {v:?} is not a whole number"))
        };
        let dur = |v: &str| -> Result<Duration, String> {
            parse_duration(v.trim()).map_err(|e| format!("{key}: {e}"))
        };
        match key {
            "concurrency_limit" => self.concurrency_limit = num(value)?,
            "panic_threshold_percent" => {
                let n = num(value)?;
                if n > 100 {
                    return Err(format!("{key}: {n} is above 100"));
                }
                self.panic_threshold_percent = n;
            }
            "eject_after_failures" => {
                let n = num(value)?;
                if n == 0 {
                    return Err(format!("{key}: must be at least 1"));
                }
                self.eject_after_failures = n;
            }
            "health_check_interval" => {
                let d = dur(value)?;
                if d < Duration::from_millis(100) {
                    return Err(format!("{key}: must be at least 100ms"));
                }
                self.health_check_interval = d;
            }
            "ejection_time" => self.ejection_time = dur(value)?,
            "timeout" => {
                let d = dur(value)?;
                self.timeouts.insert(String::new(), d);
            }
            "retries" => {
                let n = num(value)?;
                self.retries.insert(String::new(), n.min(10));
            }
            "draining" => {
                self.draining = match value.trim() {
                    "true" | "on" | "1" => true,
                    "false" | "off" | "0" => false,
                    other => return Err(format!("{key}: {other:?} is not true or false")),
                };
            }
            _ => {
                if let Some(s) = key.strip_prefix("timeout.") {
                    let s = downstream(s)?;
                    let d = dur(value)?;
                    self.timeouts.insert(s, d);
                } else if let Some(s) = key.strip_prefix("retries.") {
                    let s = downstream(s)?;
                    let n = num(value)?;
                    self.retries.insert(s, n.min(10));
                } else {
                    return Err(format!(
                        "unknown config key {key:?}; known keys: {}",
                        KEYS.join(", ")
                    ));
                }
            }
        }
        Ok(())
    }

    /// Applies all pairs or none.
    pub fn set_all(
        &mut self,
        svc: &Service,
        pairs: &BTreeMap<String, String>,
    ) -> Result<(), String> {
        let mut next = self.clone();
        for (k, v) in pairs {
            next.set(svc, k, v)?;
        }
        *self = next;
        Ok(())
    }
}
