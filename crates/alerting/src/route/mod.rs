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
pub use silence::{Silence, Silences};
