//! Telemetry: scraper, time-series store, PromQL engine and the Prometheus HTTP API.
pub mod api;
pub mod exposition;
pub mod model;
pub mod promql;
pub mod promqltest;
pub mod scrape;
pub mod tsdb;
