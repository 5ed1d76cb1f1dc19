//! Alert routing, an Alertmanager subset: route tree, grouping and timing,
//! inhibition, silences, and receivers (webhook v4, Slack, PagerDuty).

pub mod config;
pub mod dispatch;
pub mod email;
pub mod integration;
pub mod matcher;
pub mod payload;
pub mod service;
pub mod silence;

pub use config::{Config, parse_config};
pub use dispatch::{Dispatcher, Notification};
pub use service::Router;
pub use silence::{Silence, Silences};
