//! Telemetry: scraper, time-series store, PromQL engine and the Prometheus HTTP API.
pub mod model;
pub mod promql;
