//! The notification log: every notification is written here before it is
//! sent, and every attempt's outcome after; a failure stays visible with
//! its error. An append-only JSON-lines file in the data dir, replayed at start.
//!
//! No file I/O on the async runtime's threads: the file belongs to a
//! dedicated writer thread (`notification-log`) that appends and flushes the
//! lines in the order they were queued. `record`, `update` and `abandon`
//! change the in-memory state and queue the line at once (holding only a
//! short std lock, never across an await) and return a [`Stored`] that
//! resolves when the line is written and flushed to the OS. Async callers
//! await it; a sync caller (the router's `deliver`, under the dispatcher
//! lock) hands it to the sender's task, which awaits it before the first
//! attempt: a delivery is on file before it is sent. What the log lists
//! may be ahead of the file by the lines still queued; [`NotificationLog::written`]
//! waits for them, and dropping the log waits for the writer to drain.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

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
    #[error("notification log {path}: the writer thread is gone")]
    WriterGone { path: PathBuf },
}

/// A line queued for the writer thread; the reply says it is on file.
struct Job {
    line: Vec<u8>,
    done: oneshot::Sender<Result<(), LogError>>,
}

/// Resolves when a queued line is written and flushed to the OS (or failed).
#[must_use = "await `wait` to know the line is on file"]
pub struct Stored {
    rx: oneshot::Receiver<Result<(), LogError>>,
    path: PathBuf,
}

impl Stored {
    /// Already stored (e.g. a delivery replayed from the file).
    pub fn done() -> Stored {
        let (tx, rx) = oneshot::channel();
        let _ = tx.send(Ok(()));
        Stored {
            rx,
            path: PathBuf::new(),
        }
    }

    /// Waits for the writer thread's answer.
    pub async fn wait(self) -> Result<(), LogError> {
        self.rx
            .await
            .unwrap_or(Err(LogError::WriterGone { path: self.path }))
    }
}

pub struct NotificationLog {
    path: PathBuf,
    /// To the writer thread; `None` once dropped.
    tx: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    entries: Mutex<BTreeMap<u64, Delivery>>,
}

/// The writer thread: appends and flushes each line, in queue order, until
/// the log is dropped.
fn write_loop(mut file: File, path: PathBuf, rx: mpsc::Receiver<Job>) {
    for job in rx {
        let r = if job.line.is_empty() {
            Ok(())
        } else {
            file.write_all(&job.line).and_then(|_| file.flush())
        };
        let r = r.map_err(|source| LogError::Io {
            path: path.clone(),
            source,
        });
        if let Err(e) = &r {
            tracing::error!(error = %e, "notification log write failed");
        }
        let _ = job.done.send(r);
    }
}

impl Drop for NotificationLog {
    /// Closes the queue and waits for the writer to write what is queued
    /// (at shutdown; the lines are few and each is awaited by its sender).
    fn drop(&mut self) {
        self.tx.take();
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
    }
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
        let (tx, rx) = mpsc::channel();
        let p = path.clone();
        let writer = std::thread::Builder::new()
            .name("notification-log".into())
            .spawn(move || write_loop(file, p, rx))
            .map_err(io)?;
        Ok(NotificationLog {
            path,
            tx: Some(tx),
            writer: Some(writer),
            entries: Mutex::new(entries),
        })
    }

    /// Queues `line` (empty: a barrier) for the writer thread. Callers that
    /// change an entry queue its line while holding the entries lock, so the
    /// file gets the changes in the order memory got them.
    fn queue(&self, line: Vec<u8>) -> Stored {
        let (done, rx) = oneshot::channel();
        let stored = Stored {
            rx,
            path: self.path.clone(),
        };
        if let Some(tx) = &self.tx {
            // A send error drops `done`: `wait` then reports the writer gone.
            let _ = tx.send(Job { line, done });
        }
        stored
    }

    fn queue_delivery(&self, d: &Delivery) -> Stored {
        let mut line = serde_json::to_vec(d).unwrap_or_default();
        line.push(b'\n');
        self.queue(line)
    }

    /// Resolves when every line queued before it is on file.
    pub fn written(&self) -> Stored {
        self.queue(Vec::new())
    }

    /// Adds a new pending delivery and queues its line; returns it with its
    /// id, and what says that it is on file (await it before sending).
    pub fn record(
        &self,
        receiver: &str,
        integration: &str,
        url: &str,
        body: serde_json::Value,
    ) -> (Delivery, Stored) {
        let now = Utc::now();
        let mut e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let d = {
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
        let stored = self.queue_delivery(&d);
        (d, stored)
    }

    /// Records an attempt's outcome (an unknown id is ignored).
    pub fn update(&self, id: u64, state: DeliveryState, error: Option<String>) -> Stored {
        let mut e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let Some(d) = e.get_mut(&id) else {
            return Stored::done();
        };
        d.attempts += 1;
        d.state = state;
        d.last_error = error;
        d.updated = Utc::now();
        let d = d.clone();
        self.queue_delivery(&d)
    }

    /// Gives up a delivery without an attempt (`attempts` is unchanged).
    pub fn abandon(&self, id: u64, reason: String) -> Stored {
        let mut e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let Some(d) = e.get_mut(&id) else {
            return Stored::done();
        };
        d.state = DeliveryState::Failed;
        d.last_error = Some(reason);
        d.updated = Utc::now();
        let d = d.clone();
        self.queue_delivery(&d)
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
