//! The load generator's metrics: the user's view of the lab, the best SLI.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Latency buckets of DESIGN.md, in seconds.
pub const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JourneyOutcome {
    pub journey: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JourneyLabel {
    pub journey: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StepLabels {
    pub journey: String,
    pub http_request_method: String,
    pub http_response_status_code: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// All load generator metrics, registered in their own registry (`job="loadgen"`).
#[derive(Debug)]
pub struct LoadGenMetrics {
    pub journeys: Family<JourneyOutcome, Counter>,
    /// Successful journeys that met a fallback on the way.
    pub degraded: Family<JourneyLabel, Counter>,
    pub journey_duration: Family<JourneyLabel, Histogram, fn() -> Histogram>,
    pub requests: Family<StepLabels, Counter>,
    pub dropped: Counter,
    pub in_flight: Gauge,
    pub target_rps: Gauge<f64, std::sync::atomic::AtomicU64>,
    pub registry: Registry,
}

impl Default for LoadGenMetrics {
    fn default() -> Self {
        let journeys = Family::<JourneyOutcome, Counter>::default();
        let degraded = Family::<JourneyLabel, Counter>::default();
        let journey_duration =
            Family::<JourneyLabel, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        let requests = Family::<StepLabels, Counter>::default();
        let dropped = Counter::default();
        let in_flight = Gauge::default();
        let target_rps = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        let mut registry = Registry::default();
        registry.register(
            "loadgen_journeys",
            "User journeys finished, by journey and outcome (success or failure)",
            journeys.clone(),
        );
        registry.register(
            "loadgen_journeys_degraded",
            "Successful journeys in which a page came back degraded (a fallback stood in for a failed call)",
            degraded.clone(),
        );
        registry.register(
            "loadgen_journey_duration_seconds",
            "Time users spent waiting on a journey's requests (think time excluded)",
            journey_duration.clone(),
        );
        registry.register(
            "loadgen_requests",
            "Requests sent by simulated users, by journey and response status",
            requests.clone(),
        );
        registry.register(
            "loadgen_dropped_journeys",
            "Journeys not started because too many were in flight",
            dropped.clone(),
        );
        registry.register(
            "loadgen_in_flight_journeys",
            "Journeys in progress",
            in_flight.clone(),
        );
        registry.register(
            "loadgen_target_rps",
            "Journeys per second the generator aims for right now",
            target_rps.clone(),
        );
        LoadGenMetrics {
            journeys,
            degraded,
            journey_duration,
            requests,
            dropped,
            in_flight,
            target_rps,
            registry,
        }
    }
}

impl LoadGenMetrics {
    /// Prometheus text exposition of the metrics.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
