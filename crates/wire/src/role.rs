//! Who is asking: a named token's role.

use serde::{Deserialize, Serialize};

/// Roles, weakest first: each one may do everything the one before may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads what the lab shows (status, metrics, alerts, pages, events) but
    /// never hidden state.
    Viewer,
    /// Operates the lab (restart, scale, deploy, config, load, silences),
    /// acknowledges pages, queries; never hidden state.
    Trainee,
    /// Everything, hidden state included (faults, drill scenarios, tokens).
    Instructor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Trainee => "trainee",
            Role::Instructor => "instructor",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "trainee" => Ok(Role::Trainee),
            "instructor" => Ok(Role::Instructor),
            other => Err(format!(
                "unknown role {other:?}: use instructor, trainee or viewer"
            )),
        }
    }
}

/// The person (or tool) behind a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub name: String,
    pub role: Role,
}

impl Principal {
    /// A request without a token, where reads are open (loopback).
    pub fn anonymous() -> Principal {
        Principal {
            name: "anonymous".into(),
            role: Role::Viewer,
        }
    }

    /// The holder of the data dir's token.
    pub fn lab_owner() -> Principal {
        Principal {
            name: "instructor".into(),
            role: Role::Instructor,
        }
    }

    /// May this principal see hidden state (faults, drill scenarios)?
    pub fn sees_hidden(&self) -> bool {
        self.role >= Role::Instructor
    }
}
