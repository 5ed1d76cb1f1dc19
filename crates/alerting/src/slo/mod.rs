//! The SLO compiler: Sloth `prometheus/v1` specs (and OpenSLO v1 SLOs) to
//! Prometheus recording rules and multi-window, multi-burn-rate alerts,
//! plus `promtool test rules` unit tests for them.

pub mod bundled;
pub mod generate;
pub mod openslo;
pub mod spec;
pub mod tests_gen;
pub mod windows;

pub use generate::rule_file;
pub use spec::{Sli, Slo, parse_spec};
