//! The on-call file (`oncall.yaml`, see `docs/oncall.md`): people, schedules,
//! shadows, escalation policies, pager and ticket settings.

mod check;
mod load;
pub mod model;
mod raw;

pub use load::{ConfigError, load, parse};
pub use model::*;

/// The example bundled into the binary: what `firedrill up` uses without `--oncall`.
pub const BUNDLED: &str = include_str!("../../oncall.yaml");
