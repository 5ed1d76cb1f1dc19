//! The notification log: every notification is written here before it is
//! sent, and every attempt's outcome after; a failure stays visible with
//! its error. An append-only JSON-lines file in the data dir, replayed at start.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Pending,
    Sent,
    Failed,
}

/// One notification to one receiver integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: u64,
    pub created: DateTime<Utc>,
    pub receiver: String,
    /// `webhook`, `slack`, `pagerduty`, `alertmanager`, ...
    pub integration: String,
    pub url: String,
    pub body: serde_json::Value,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub updated: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("notification log {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub struct NotificationLog {
    path: PathBuf,
    file: Mutex<File>,
    entries: Mutex<BTreeMap<u64, Delivery>>,
}

impl NotificationLog {
    /// Opens (and replays) `dir/notifications.jsonl`.
    pub fn open(dir: &Path) -> Result<Self, LogError> {
        let path = dir.join("notifications.jsonl");
        let io = |source| LogError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut entries = BTreeMap::new();
        if let Ok(f) = File::open(&path) {
            for line in BufReader::new(f).lines() {
                let Ok(line) = line else { break };
                // A torn last line (crash mid-write) is skipped.
                if let Ok(d) = serde_json::from_str::<Delivery>(&line) {
                    entries.insert(d.id, d);
                }
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        Ok(NotificationLog {
            path,
            file: Mutex::new(file),
            entries: Mutex::new(entries),
        })
    }

    fn write(&self, d: &Delivery) -> Result<(), LogError> {
        let mut line = serde_json::to_string(d).unwrap_or_default();
        line.push('\n');
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        f.write_all(line.as_bytes())
            .and_then(|_| f.flush())
            .map_err(|source| LogError::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// Stores a new pending delivery; returns it with its id.
    pub fn record(
        &self,
        receiver: &str,
        integration: &str,
        url: &str,
        body: serde_json::Value,
    ) -> Result<Delivery, LogError> {
        let now = Utc::now();
        let d = {
            let mut e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            let id = e.keys().next_back().map(|k| k + 1).unwrap_or(1);
            let d = Delivery {
                id,
                created: now,
                receiver: receiver.into(),
                integration: integration.into(),
                url: url.into(),
                body,
                state: DeliveryState::Pending,
                attempts: 0,
                last_error: None,
                updated: now,
            };
            e.insert(id, d.clone());
            d
        };
        self.write(&d)?;
        Ok(d)
    }

    /// Records an attempt's outcome.
    pub fn update(
        &self,
        id: u64,
        state: DeliveryState,
        error: Option<String>,
    ) -> Result<(), LogError> {
        let d = {
            let mut e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            let Some(d) = e.get_mut(&id) else {
                return Ok(());
            };
            d.attempts += 1;
            d.state = state;
            d.last_error = error;
            d.updated = Utc::now();
            d.clone()
        };
        self.write(&d)
    }

    /// Gives up a delivery without an attempt (`attempts` is unchanged).
    pub fn abandon(&self, id: u64, reason: String) -> Result<(), LogError> {
        let d = {
            let mut e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            let Some(d) = e.get_mut(&id) else {
                return Ok(());
            };
            d.state = DeliveryState::Failed;
            d.last_error = Some(reason);
            d.updated = Utc::now();
            d.clone()
        };
        self.write(&d)
    }

    /// Every delivery, newest last.
    pub fn list(&self) -> Vec<Delivery> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Deliveries still pending (to resume after a restart).
    pub fn pending(&self) -> Vec<Delivery> {
        self.list()
            .into_iter()
            .filter(|d| d.state == DeliveryState::Pending)
            .collect()
    }
}
