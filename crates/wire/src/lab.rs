//! Typed requests and answers of the lab's operations (`/api/lab/*`) and
//! of the token endpoints, used by the server and by the CLI alike.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::role::Role;

/// `POST /api/lab/restart`: a service (rolling) or one instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Restarted {
    pub restarted: String,
    pub index: Option<u32>,
}

/// `POST /api/lab/scale`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    pub service: String,
    pub instances: u32,
}

/// `POST /api/lab/drain` (`on: false` puts the instance back).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drain {
    pub service: String,
    pub index: u32,
    #[serde(default = "yes")]
    pub on: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Drained {
    pub service: String,
    pub index: u32,
    pub draining: bool,
}

/// `POST /api/lab/config`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSet {
    pub service: String,
    pub set: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigChanged {
    pub service: String,
    pub config: serde_json::Value,
}

/// `POST /api/lab/deploy`; the answer of deploy and rollback.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deploy {
    pub service: String,
    pub version: String,
}

/// `POST /api/lab/rollback`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollback {
    pub service: String,
}

/// `POST /api/lab/load`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rps: Option<f64>,
    /// `"daily"` to turn the daily pattern on, `"flat"` to turn it off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Length of a day for the pattern, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_seconds: Option<f64>,
}

/// `POST /api/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    pub name: String,
    pub role: Role,
}

/// A named token as listed (never the secret).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenInfo {
    pub name: String,
    pub role: Role,
    pub created: chrono::DateTime<chrono::Utc>,
    pub revoked: Option<chrono::DateTime<chrono::Utc>>,
}

/// The answer to `POST /api/tokens`: the secret, shown once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenCreated {
    pub name: String,
    pub role: Role,
    pub token: String,
}
