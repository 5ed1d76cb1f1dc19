//! The load generator: simulated users arriving as an open-loop Poisson
//! process at a target rate, each walking one weighted journey.

mod journey;
pub mod metrics;
mod pattern;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::RngExt;
use rand_distr::{Distribution, Exp};
use serde::Serialize;
use tokio::time::Instant;

pub use metrics::LoadGenMetrics;
pub use pattern::DailyPattern;

use crate::topology::Journey;

/// Where simulated users send their requests: the entry service's instances.
pub type EntryAddrs = Arc<dyn Fn() -> Vec<SocketAddr> + Send + Sync>;

/// Settings of the load generator.
#[derive(Debug, Clone)]
pub struct LoadGenConfig {
    /// Journeys started per second (before the daily pattern).
    pub rps: f64,
    pub pattern: Option<DailyPattern>,
    /// Most journeys in flight; arrivals beyond it are dropped and counted.
    pub max_in_flight: usize,
    /// Per-request timeout of a simulated user.
    pub request_timeout: Duration,
    /// Values for `{name}` placeholders in journey paths and bodies
    /// (the topology's `params`); each journey draws one value per name.
    pub params: BTreeMap<String, Vec<String>>,
}

impl Default for LoadGenConfig {
    fn default() -> Self {
        LoadGenConfig {
            rps: 20.0,
            pattern: None,
            max_in_flight: 5_000,
            request_timeout: Duration::from_secs(10),
            params: BTreeMap::new(),
        }
    }
}

/// What `firedrill load` shows.
#[derive(Debug, Clone, Serialize)]
pub struct LoadStatus {
    pub rps: f64,
    pub effective_rps: f64,
    pub pattern: Option<DailyPattern>,
    pub in_flight: usize,
    pub journeys: Vec<(String, f64)>,
}

struct State {
    rps_bits: AtomicU64,
    pattern: Mutex<Option<DailyPattern>>,
    in_flight: AtomicUsize,
    max_in_flight: usize,
    journeys: Vec<Journey>,
    params: BTreeMap<String, Vec<String>>,
    cumulative: Vec<f64>,
    entry: EntryAddrs,
    next_entry: AtomicUsize,
    client: reqwest::Client,
    metrics: LoadGenMetrics,
}

impl State {
    fn rps(&self) -> f64 {
        f64::from_bits(self.rps_bits.load(Ordering::Relaxed))
    }

    fn effective_rps(&self) -> f64 {
        let factor = self
            .pattern
            .lock()
            .ok()
            .and_then(|p| *p)
            .map(|p| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs_f64();
                p.factor(now)
            })
            .unwrap_or(1.0);
        self.rps() * factor
    }

    fn pick_journey(&self) -> Option<&Journey> {
        let total = *self.cumulative.last()?;
        if total <= 0.0 {
            return None;
        }
        let x = rand::rng().random::<f64>() * total;
        let i = self.cumulative.partition_point(|&c| c <= x);
        self.journeys.get(i.min(self.journeys.len() - 1))
    }

    /// Round robin over the entry instances, like an L7 load balancer.
    fn pick_entry(&self) -> Option<SocketAddr> {
        let addrs = (self.entry)();
        if addrs.is_empty() {
            return None;
        }
        let i = self.next_entry.fetch_add(1, Ordering::Relaxed);
        addrs.get(i % addrs.len()).copied()
    }
}

/// A running load generator; dropping it stops new arrivals.
pub struct LoadGen {
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LoadGen {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LoadGen {
    /// Starts generating traffic for `journeys` against `entry`.
    pub fn start(journeys: Vec<Journey>, entry: EntryAddrs, cfg: LoadGenConfig) -> LoadGen {
        let mut acc = 0.0;
        let cumulative = journeys
            .iter()
            .map(|j| {
                acc += j.weight.max(0.0);
                acc
            })
            .collect();
        let client = reqwest::Client::builder()
            .timeout(cfg.request_timeout)
            .pool_max_idle_per_host(256)
            .build()
            .unwrap_or_default();
        let state = Arc::new(State {
            rps_bits: AtomicU64::new(cfg.rps.max(0.0).to_bits()),
            pattern: Mutex::new(cfg.pattern),
            in_flight: AtomicUsize::new(0),
            max_in_flight: cfg.max_in_flight,
            journeys,
            params: cfg.params,
            cumulative,
            entry,
            next_entry: AtomicUsize::new(0),
            client,
            metrics: LoadGenMetrics::default(),
        });
        let task = tokio::spawn(arrivals(state.clone()));
        LoadGen { state, task }
    }

    pub fn set_rps(&self, rps: f64) {
        self.state
            .rps_bits
            .store(rps.max(0.0).to_bits(), Ordering::Relaxed);
    }

    pub fn set_pattern(&self, pattern: Option<DailyPattern>) {
        if let Ok(mut p) = self.state.pattern.lock() {
            *p = pattern;
        }
    }

    pub fn status(&self) -> LoadStatus {
        LoadStatus {
            rps: self.state.rps(),
            effective_rps: self.state.effective_rps(),
            pattern: self.state.pattern.lock().ok().and_then(|p| *p),
            in_flight: self.state.in_flight.load(Ordering::Relaxed),
            journeys: self
                .state
                .journeys
                .iter()
                .map(|j| (j.name.clone(), j.weight))
                .collect(),
        }
    }

    /// The metrics in Prometheus text format.
    pub fn metrics_text(&self) -> String {
        self.state.metrics.encode()
    }
}

/// Open loop: arrivals follow the clock, not the responses, so a slow lab
/// piles up work as it would with real users.
async fn arrivals(state: Arc<State>) {
    let mut next = Instant::now();
    loop {
        let rate = state.effective_rps();
        state.metrics.target_rps.set(rate);
        if rate <= 0.0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            next = Instant::now();
            continue;
        }
        let gap = Exp::new(rate)
            .map(|d| d.sample(&mut rand::rng()))
            .unwrap_or(1.0 / rate);
        next += Duration::from_secs_f64(gap.min(60.0));
        let now = Instant::now();
        if next + Duration::from_secs(1) < now {
            // Fell far behind (a stalled runtime): do not burst to catch up.
            next = now;
        }
        tokio::time::sleep_until(next).await;
        if state.in_flight.load(Ordering::Relaxed) >= state.max_in_flight {
            state.metrics.dropped.inc();
            continue;
        }
        let Some(journey) = state.pick_journey().cloned() else {
            continue;
        };
        state.in_flight.fetch_add(1, Ordering::Relaxed);
        state.metrics.in_flight.inc();
        let st = state.clone();
        tokio::spawn(async move {
            journey::run(
                &st.client,
                &journey,
                &st.params,
                || st.pick_entry(),
                &st.metrics,
            )
            .await;
            st.in_flight.fetch_sub(1, Ordering::Relaxed);
            st.metrics.in_flight.dec();
        });
    }
}
