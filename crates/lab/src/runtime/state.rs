//! Everything one instance shares between its handlers and background tasks.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use bytes::Bytes;

use super::balancer::Balancer;
use super::config::LiveConfig;
use super::log::RequestLog;
use super::metrics::Metrics;
use super::trace::SpanStore;
use crate::topology::{Service, Topology, VersionProfile};

#[derive(Debug)]
pub struct Instance {
    pub topology: Arc<Topology>,
    pub service: Service,
    /// `service/index`, as the CLI names instances.
    pub name: String,
    pub version: String,
    pub profile: VersionProfile,
    pub config: RwLock<LiveConfig>,
    pub metrics: Arc<Metrics>,
    pub balancer: Balancer,
    pub http: reqwest::Client,
    pub spans: SpanStore,
    pub log: RequestLog,
    /// Jobs with the time each was queued (the oldest one's age is a metric).
    pub queue: Mutex<VecDeque<(Instant, Bytes)>>,
    /// Memory leaked on purpose by a leaky version profile.
    pub leak: Mutex<Vec<Vec<u8>>>,
    pub in_flight: AtomicU32,
    pub token: String,
    /// Services this instance calls (endpoints and background work).
    pub downstreams: Vec<String>,
    /// Set once the first registry answer arrived (or nothing is called).
    pub ready: AtomicBool,
    /// Faults injected into this instance.
    pub faults: Arc<super::faults::Faults>,
}

impl Instance {
    pub fn config(&self) -> LiveConfig {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn draining(&self) -> bool {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .draining
    }

    /// Whether the version profile applies to `route`.
    pub fn profile_applies(&self, route: &str) -> bool {
        self.profile.affected_routes.is_empty()
            || self.profile.affected_routes.iter().any(|r| r == route)
    }

    /// A random value for a `{name}` placeholder from the topology's params.
    pub fn param(&self, name: &str) -> Option<String> {
        use rand::RngExt;
        let values = self.topology.params.get(name)?;
        if values.is_empty() {
            return None;
        }
        Some(values[rand::rng().random_range(0..values.len())].clone())
    }
}

/// Locks a mutex, recovering from a poisoned lock (a panicked holder cannot
/// leave these simple collections in a broken state).
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
