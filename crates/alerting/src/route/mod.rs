//! Alert routing in Alertmanager's config format: route tree, grouping and
//! timing, time intervals, inhibition, silences, and receivers (webhook v4,
//! Slack, PagerDuty, e-mail).

pub mod config;
pub mod dispatch;
pub mod email;
pub mod integration;
pub mod load;
pub mod matcher;
pub mod matcher_utf8;
pub mod payload;
pub mod receivers;
pub mod service;
pub mod silence;
pub mod timeinterval;

pub use config::{Config, parse_config};
pub use dispatch::{Dispatcher, Notification};
pub use load::load_config;
pub use service::Router;
pub use silence::{Silence, Silences, SilencesError};

/// The alert router's routes (Alertmanager API v2 and the notification log)
/// and who may use them. Alerts come from rule evaluation inside the lab or
/// from a real Prometheus holding an instructor's token.
pub const ROUTES: &[wire::RouteAccess] = &[
    wire::access::route("GET", "/api/v2/alerts", wire::Access::Read),
    wire::access::route("POST", "/api/v2/alerts", wire::Access::Instruct),
    wire::access::route("GET", "/api/v2/silences", wire::Access::Read),
    wire::access::route("POST", "/api/v2/silences", wire::Access::Operate),
    wire::access::route("GET", "/api/v2/silence/{id}", wire::Access::Read),
    wire::access::route("DELETE", "/api/v2/silence/{id}", wire::Access::Operate),
    wire::access::route("GET", "/api/lab/notifications", wire::Access::Read),
];
