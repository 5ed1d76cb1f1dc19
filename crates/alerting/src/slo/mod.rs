//! The SLO compiler: Sloth specs (`prometheus/v1`, Kubernetes
//! `PrometheusServiceLevel`) and OpenSLO v1 SLOs to the Prometheus recording
//! rules and multi-window, multi-burn-rate alerts Sloth generates, plus
//! `promtool test rules` unit tests for them.

pub mod bundled;
mod documents;
pub mod generate;
mod names;
pub mod openslo;
pub mod placeholder;
mod sloth;
pub mod spec;
pub mod tests_gen;
pub mod windows;

pub use generate::rule_file;
pub use names::check_label_name;
pub use spec::{Options, Period, Sli, Slo, SpecFormat, parse_spec, parse_spec_with};
