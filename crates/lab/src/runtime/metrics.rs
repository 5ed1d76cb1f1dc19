//! An instance's metrics, with the names and labels of DESIGN.md.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::procfs::ProcessCollector;
use crate::loadgen::metrics::LATENCY_BUCKETS;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServerLabels {
    pub http_route: String,
    pub http_request_method: String,
    pub http_response_status_code: String,
}

/// `server` plus either the status code or an `error_type` (timeouts,
/// refused connections), never both: the labels differ by outcome.
pub type ClientLabels = Vec<(&'static str, String)>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VersionLabel {
    pub version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamLabels {
    pub server: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

type HistFamily<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Debug)]
pub struct Metrics {
    pub server: HistFamily<ServerLabels>,
    pub client: HistFamily<ClientLabels>,
    pub in_flight: Gauge,
    pub rejected: Counter,
    pub ejections: Family<UpstreamLabels, Counter>,
    pub healthy_upstreams: Family<UpstreamLabels, Gauge>,
    pub retained_heap_bytes: Gauge,
    pub queue_depth: Gauge,
    pub queue_oldest_age: Gauge<f64, AtomicU64>,
    pub concurrency_limit: Gauge,
    pub data_bytes: Gauge,
    registry: Registry,
}

impl Metrics {
    pub fn new(version: &str) -> Arc<Self> {
        let server = HistFamily::<ServerLabels>::new_with_constructor(latency_histogram);
        let client = HistFamily::<ClientLabels>::new_with_constructor(latency_histogram);
        let version_info = Family::<VersionLabel, Gauge>::default();
        version_info
            .get_or_create(&VersionLabel {
                version: version.to_string(),
            })
            .set(1);
        let m = Metrics {
            server,
            client,
            in_flight: Gauge::default(),
            rejected: Counter::default(),
            ejections: Family::default(),
            healthy_upstreams: Family::default(),
            retained_heap_bytes: Gauge::default(),
            queue_depth: Gauge::default(),
            queue_oldest_age: Gauge::default(),
            concurrency_limit: Gauge::default(),
            data_bytes: Gauge::default(),
            registry: Registry::default(),
        };
        let mut r = Registry::default();
        r.register(
            "http_server_request_duration_seconds",
            "Duration of HTTP requests served, by route, method and status",
            m.server.clone(),
        );
        r.register(
            "http_client_request_duration_seconds",
            "Duration of calls to downstream services, by server and status or error type",
            m.client.clone(),
        );
        r.register(
            "service_version_info",
            "The version this instance runs",
            version_info,
        );
        r.register(
            "http_server_active_requests",
            "Requests being served now",
            m.in_flight.clone(),
        );
        r.register(
            "http_server_rejected_requests",
            "Requests refused with 503 because the concurrency limit was reached",
            m.rejected.clone(),
        );
        r.register(
            "lab_upstream_ejections",
            "Downstream instances ejected from load balancing, by server",
            m.ejections.clone(),
        );
        r.register(
            "lab_upstream_healthy_instances",
            "Downstream instances currently receiving traffic, by server",
            m.healthy_upstreams.clone(),
        );
        r.register(
            "app_retained_heap_bytes",
            "Heap memory this instance keeps between requests (caches, buffers)",
            m.retained_heap_bytes.clone(),
        );
        r.register(
            "lab_queue_depth",
            "Jobs waiting in this instance's queue",
            m.queue_depth.clone(),
        );
        r.register(
            "lab_queue_oldest_job_age_seconds",
            "Age of the oldest job waiting in this instance's queue (0 when empty)",
            m.queue_oldest_age.clone(),
        );
        r.register(
            "lab_concurrency_limit",
            "Requests this instance serves at once before it answers 503 (0 = unlimited)",
            m.concurrency_limit.clone(),
        );
        r.register(
            "lab_instance_data_bytes",
            "Bytes of this instance's files in the lab's data dir (request log, files it writes)",
            m.data_bytes.clone(),
        );
        r.register_collector(Box::new(ProcessCollector));
        Arc::new(Metrics { registry: r, ..m })
    }

    pub fn observe_server(&self, route: &str, method: &str, status: u16, secs: f64) {
        self.server
            .get_or_create(&ServerLabels {
                http_route: route.to_string(),
                http_request_method: method.to_string(),
                http_response_status_code: status.to_string(),
            })
            .observe(secs);
    }

    /// `outcome` is `Ok(status)` or `Err(error_type)`.
    pub fn observe_client(&self, server: &str, outcome: Result<u16, &str>, secs: f64) {
        let labels: ClientLabels = match outcome {
            Ok(status) => vec![
                ("http_response_status_code", status.to_string()),
                ("server", server.to_string()),
            ],
            Err(kind) => vec![
                ("error_type", kind.to_string()),
                ("server", server.to_string()),
            ],
        };
        self.client.get_or_create(&labels).observe(secs);
    }

    /// Prometheus text exposition (the OpenMetrics-flavoured text that
    /// prometheus-client writes, which Prometheus scrapes as text).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
