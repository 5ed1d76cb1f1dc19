//! Alerting: Prometheus rule files and their evaluation, the SLO compiler,
//! and alert routing (an Alertmanager subset) with receivers.
pub mod expr;
pub mod forward;
pub mod notify;
pub mod receive;
pub mod route;
pub mod rules;
pub mod slo;
