//! Who may use each route of the control plane: every crate's table, plus
//! the Prometheus HTTP API's and the control plane's own. The guard refuses
//! any route missing here (fail closed); `tests/access.rs` walks them all.

use wire::access::{Access, RouteAccess, route};

/// The Prometheus HTTP API (telemetry): open reads, as Prometheus's are, so
/// promtool and Grafana work on a loopback lab.
pub const PROMETHEUS_API: &[RouteAccess] = &[
    route("GET", "/api/v1/query", Access::Read),
    route("POST", "/api/v1/query", Access::Read),
    route("GET", "/api/v1/query_range", Access::Read),
    route("POST", "/api/v1/query_range", Access::Read),
    route("GET", "/api/v1/series", Access::Read),
    route("POST", "/api/v1/series", Access::Read),
    route("GET", "/api/v1/labels", Access::Read),
    route("POST", "/api/v1/labels", Access::Read),
    route("GET", "/api/v1/label/{name}/values", Access::Read),
    route("GET", "/api/v1/metadata", Access::Read),
    route("GET", "/api/v1/targets", Access::Read),
    route("GET", "/api/v1/status/buildinfo", Access::Read),
    route("GET", "/api/v1/status/tsdb", Access::Read),
    route("GET", "/api/v1/query_exemplars", Access::Read),
    route("POST", "/api/v1/query_exemplars", Access::Read),
];

/// The control plane's own expositions: scraped by the lab's scraper, like
/// every instance's `/metrics`.
pub const EXPOSITIONS: &[RouteAccess] = &[
    route("GET", "/metrics", Access::Public),
    route("GET", "/loadgen/metrics", Access::Public),
];

/// Every table.
pub fn all() -> impl Iterator<Item = &'static RouteAccess> {
    [
        lab::api::ROUTES,
        PROMETHEUS_API,
        EXPOSITIONS,
        alerting::rules::ROUTES,
        alerting::route::ROUTES,
        oncall::api::ROUTES,
        chaos::faults::api::ROUTES,
        store::api::ROUTES,
        drills::api::ROUTES,
        wheel::api::ROUTES,
    ]
    .into_iter()
    .flatten()
}
