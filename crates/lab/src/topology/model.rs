//! The validated topology model: what the loader produces and the runtime,
//! supervisor and load generator consume. Plain data, no source positions
//! (those live in the loader, which reports mistakes with file:line:column).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A whole lab: services and the user journeys that drive traffic through them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topology {
    pub name: String,
    pub description: String,
    /// The service that user traffic enters through (the frontend / gateway).
    pub entry: String,
    /// In declaration order; the entry service gets the first port.
    pub services: Vec<Service>,
    pub journeys: Vec<Journey>,
    /// Values that `{name}` placeholders in journey and call paths draw from
    /// at random (e.g. `product` -> the catalogue's product ids).
    #[serde(default)]
    pub params: BTreeMap<String, Vec<String>>,
}

impl Topology {
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}

/// One service: N identical instances of one version at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    pub description: String,
    pub instances: u32,
    /// The version deployed at start (a key of `versions`).
    pub version: String,
    /// Behaviour profiles by version name; always contains `version`.
    pub versions: BTreeMap<String, VersionProfile>,
    pub endpoints: Vec<Endpoint>,
    /// Work the instance does on its own, without a request (a queue worker).
    pub background: Option<Background>,
    /// Runtime config at start (timeouts and retries per call come from the calls).
    pub runtime: RuntimeDefaults,
}

impl Service {
    pub fn endpoint(&self, method: &str, route: &str) -> Option<&Endpoint> {
        self.endpoints
            .iter()
            .find(|e| e.method.eq_ignore_ascii_case(method) && e.route == route)
    }
}

/// Runtime knobs an operator can change later with `firedrill config set`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeDefaults {
    /// Requests served at once before new ones get 503 (0 = unlimited).
    pub concurrency_limit: u32,
    /// Percentage of a downstream's instances that may be ejected before the
    /// balancer ignores health and routes to all of them (Envoy's panic threshold).
    pub panic_threshold_percent: u32,
    /// Active health check interval for downstream instances.
    pub health_check_interval: Duration,
    /// Consecutive failures (health checks or calls) before an instance is ejected.
    pub eject_after_failures: u32,
}

impl Default for RuntimeDefaults {
    fn default() -> Self {
        RuntimeDefaults {
            concurrency_limit: 256,
            panic_threshold_percent: 50,
            health_check_interval: Duration::from_secs(1),
            eject_after_failures: 3,
        }
    }
}

/// Latency of a piece of work: a lognormal distribution given by median and p99.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub median: Duration,
    pub p99: Duration,
}

impl Latency {
    pub const ZERO: Latency = Latency {
        median: Duration::ZERO,
        p99: Duration::ZERO,
    };
}

/// Built-in behaviours an endpoint can have beyond "wait, burn CPU, call, answer".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handler {
    /// Answer with generated content of `response_bytes`.
    Generic,
    /// Slack Events API: answer `url_verification` with its challenge, accept events.
    SlackEvents,
    /// Slack slash command (form-encoded): answer with a Slack message JSON.
    SlashCommand,
    /// Push the request body onto this instance's in-memory job queue.
    QueuePush,
    /// Pop up to one job from this instance's queue (204 when empty).
    QueuePop,
}

/// One HTTP endpoint of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub method: String,
    /// axum-style route pattern, e.g. `/product/{id}`; the `http_route` label.
    pub route: String,
    pub handler: Handler,
    pub latency: Latency,
    /// CPU time burnt per request.
    pub cpu: Duration,
    pub response_bytes: usize,
    /// `text/html` or `application/json`.
    pub content_type: String,
    /// Downstream calls, made in order (or concurrently when `parallel`).
    pub calls: Vec<Call>,
    pub parallel_calls: bool,
}

/// What a caller does when a non-critical call fails after its retries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Leave that part out of the response (the page renders without ads).
    Omit,
    /// Use a static default value (e.g. a fixed currency table).
    Static(String),
}

/// A call from one endpoint to another service's endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub service: String,
    pub method: String,
    /// A concrete path on the callee (may fill a pattern, e.g. `/products/123`).
    pub path: String,
    /// Critical: its failure fails the caller's request. Non-critical: the
    /// fallback is used and the request goes on.
    pub critical: bool,
    pub timeout: Duration,
    pub retries: u32,
    /// First retry backoff; doubles each retry, with jitter.
    pub backoff: Duration,
    /// For non-critical calls; `None` on a non-critical call means the
    /// failure propagates anyway (a hidden critical dependency).
    pub fallback: Option<Fallback>,
    /// Probability the call is made at all (1.0 = always), e.g. cache misses.
    pub probability: f64,
}

/// A behaviour profile: what a version of a service does differently. Read
/// back with defaults for what is left out (the control plane leaves every
/// field out for those who may not see hidden state).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VersionProfile {
    pub description: String,
    /// Share of requests answered with `error_status` (0.0..=1.0).
    pub error_rate: f64,
    pub error_status: u16,
    /// Only these routes are affected (empty = all).
    pub affected_routes: Vec<String>,
    /// Added latency (on top of the endpoint's) for a share of requests.
    pub extra_latency: Option<Latency>,
    pub slow_fraction: f64,
    /// Memory leaked per request, in bytes.
    pub leak_bytes_per_request: u64,
    /// Multiplier on CPU work per request (1.0 = unchanged).
    pub cpu_factor: f64,
}

/// Periodic work an instance does on its own (a worker draining a queue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Background {
    pub every: Duration,
    /// Calls made each tick, like an endpoint's.
    pub calls: Vec<Call>,
    /// CPU burnt per job processed.
    pub cpu: Duration,
    pub latency: Latency,
}

/// A user journey: requests to the entry service, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    pub name: String,
    /// Relative weight among journeys.
    pub weight: f64,
    pub steps: Vec<Step>,
}

/// One request of a journey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub method: String,
    pub path: String,
    pub body: Option<String>,
    pub content_type: Option<String>,
    /// Pause before the next step (mean of an exponential distribution).
    pub think_time: Duration,
    /// Status codes accepted as success (default: 2xx and 3xx).
    pub expect_status: Vec<u16>,
}
