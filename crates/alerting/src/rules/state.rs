//! Alert states as Prometheus keeps them: inactive → pending → firing →
//! inactive (resolved), with `for` and `keep_firing_for`.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Inactive,
    Pending,
    Firing,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert instance of an alerting rule (one label set).
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveAlert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub state: AlertState,
    pub value: f64,
    /// When the condition first held (ms).
    pub active_at: i64,
    pub fired_at: Option<i64>,
    pub resolved_at: Option<i64>,
    /// When the condition stopped holding while `keep_firing_for` keeps it firing.
    pub keep_firing_since: Option<i64>,
}

/// How long resolved alerts are kept (and re-sent) after resolving.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;
