//! The engine's own cost, on the control plane's `/metrics`
//! (`firedrill_drill_tick_duration_seconds`): one tick reads the new
//! journal events, matches them, evaluates the query objectives and
//! stores the state.

use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone)]
pub struct EngineMetrics {
    pub tick: Histogram,
}

impl Default for EngineMetrics {
    fn default() -> Self {
        EngineMetrics {
            // 50 µs to ~1.6 s.
            tick: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
        }
    }
}

impl EngineMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "firedrill_drill_tick_duration_seconds",
            "Time of one drill engine tick while a drill runs",
            self.tick.clone(),
        );
    }
}
