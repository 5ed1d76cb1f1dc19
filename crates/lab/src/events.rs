//! Operations log: every change of state the lab makes, in the event shape of
//! DESIGN.md (`{id, time, kind, source, subject, attributes}`), appended as
//! JSON lines to `events.jsonl` in the data dir and logged with `tracing`.
//! The on-call work moves these onto the journal in the database; the shape
//! stays the same.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One recorded change of state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: u64,
    pub time: DateTime<Utc>,
    /// Dotted kind, e.g. `instance.restarted`, `deploy.started`, `config.changed`.
    pub kind: String,
    /// Who made the change: `supervisor`, `cli`, `api`, `loadgen`.
    pub source: String,
    /// What it is about: `cart`, `cart/1`, `lab`.
    pub subject: String,
    pub attributes: BTreeMap<String, serde_json::Value>,
}

/// Append-only event log; cheap to clone behind an `Arc`.
#[derive(Debug)]
pub struct EventLog {
    path: Option<PathBuf>,
    file: Mutex<Option<File>>,
    next_id: AtomicU64,
    tx: tokio::sync::broadcast::Sender<Event>,
}

impl EventLog {
    /// Opens (or creates) `dir/events.jsonl`, continuing its id sequence.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        let path = dir.join("events.jsonl");
        let last_id = match File::open(&path) {
            Ok(f) => BufReader::new(f)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| serde_json::from_str::<Event>(&l).ok())
                .map(|e| e.id)
                .max()
                .unwrap_or(0),
            Err(_) => 0,
        };
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let (tx, _) = tokio::sync::broadcast::channel(1024);
        Ok(EventLog {
            path: Some(path),
            file: Mutex::new(Some(file)),
            next_id: AtomicU64::new(last_id + 1),
            tx,
        })
    }

    /// A log kept only in memory (tests, dense mode).
    pub fn in_memory() -> Self {
        let (tx, _) = tokio::sync::broadcast::channel(1024);
        EventLog {
            path: None,
            file: Mutex::new(None),
            next_id: AtomicU64::new(1),
            tx,
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Records an event; returns it with its id and time.
    pub fn record(
        &self,
        kind: &str,
        source: &str,
        subject: &str,
        attributes: impl IntoIterator<Item = (&'static str, serde_json::Value)>,
    ) -> Event {
        let event = Event {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            time: Utc::now(),
            kind: kind.to_string(),
            source: source.to_string(),
            subject: subject.to_string(),
            attributes: attributes
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        };
        tracing::info!(
            event.id = event.id,
            event.kind = %event.kind,
            event.source = %event.source,
            event.subject = %event.subject,
            attributes = %serde_json::Value::from(serde_json::Map::from_iter(
                event.attributes.iter().map(|(k, v)| (k.clone(), v.clone()))
            )),
            "lab event"
        );
        if let Ok(mut guard) = self.file.lock()
            && let Some(file) = guard.as_mut()
            && let Ok(line) = serde_json::to_string(&event)
            && let Err(e) = writeln!(file, "{line}")
        {
            tracing::warn!(error = %e, "could not append to the event log");
        }
        let _ = self.tx.send(event.clone());
        event
    }

    /// Live feed of events recorded from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Reads back recorded events (from the file), optionally only those whose
    /// kind starts with `kind_prefix`.
    pub fn list(&self, kind_prefix: Option<&str>) -> Vec<Event> {
        let Some(path) = &self.path else {
            return Vec::new();
        };
        let Ok(f) = File::open(path) else {
            return Vec::new();
        };
        BufReader::new(f)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str::<Event>(&l).ok())
            .filter(|e| kind_prefix.is_none_or(|p| e.kind.starts_with(p)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_persist_and_ids_continue() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path()).unwrap();
        log.record(
            "instance.restarted",
            "supervisor",
            "cart/0",
            [("reason", "crashed".into())],
        );
        log.record("deploy.started", "cli", "cart", []);
        drop(log);
        let log = EventLog::open(dir.path()).unwrap();
        let e = log.record("config.changed", "api", "cart", []);
        assert_eq!(e.id, 3);
        let all = log.list(None);
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].attributes["reason"], "crashed");
        assert_eq!(log.list(Some("deploy.")).len(), 1);
    }
}
