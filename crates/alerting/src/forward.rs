//! Forwarding alerts to an external Alertmanager's API v2, as Prometheus
//! does: batches POSTed to `/api/v2/alerts`, retried with backoff, failures
//! logged and counted (never silently dropped).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::rules::{AlertSink, OutgoingAlert};

/// Counters of a forwarder.
#[derive(Debug, Default)]
pub struct ForwardStats {
    pub sent_batches: AtomicU64,
    pub failed_attempts: AtomicU64,
    pub dropped_batches: AtomicU64,
}

/// An [`AlertSink`] that forwards to an Alertmanager at `base_url`.
pub struct Forwarder {
    tx: mpsc::Sender<Vec<OutgoingAlert>>,
    pub stats: Arc<ForwardStats>,
}

impl Forwarder {
    /// Starts the sending task (inside a Tokio runtime).
    pub fn start(base_url: &str) -> Forwarder {
        let (tx, mut rx) = mpsc::channel::<Vec<OutgoingAlert>>(1024);
        let stats = Arc::new(ForwardStats::default());
        let url = format!("{}/api/v2/alerts", base_url.trim_end_matches('/'));
        let st = stats.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default();
            while let Some(batch) = rx.recv().await {
                let mut delay = Duration::from_millis(100);
                let mut delivered = false;
                for attempt in 1..=5 {
                    match client.post(&url).json(&batch).send().await {
                        Ok(r) if r.status().is_success() => {
                            delivered = true;
                            break;
                        }
                        Ok(r) => {
                            st.failed_attempts.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(%url, status = %r.status(), attempt, "alertmanager refused alerts");
                            if r.status().is_client_error() {
                                break;
                            }
                        }
                        Err(e) => {
                            st.failed_attempts.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(%url, error = %e, attempt, "could not reach alertmanager");
                        }
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                if delivered {
                    st.sent_batches.fetch_add(1, Ordering::Relaxed);
                } else {
                    st.dropped_batches.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(%url, alerts = batch.len(), "alerts not delivered to alertmanager after retries");
                }
            }
        });
        Forwarder { tx, stats }
    }
}

impl AlertSink for Forwarder {
    fn send(&self, alerts: Vec<OutgoingAlert>) {
        if let Err(e) = self.tx.try_send(alerts) {
            self.stats.dropped_batches.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "alert forwarding queue is full: batch dropped");
        }
    }
}

/// Sends to several sinks.
pub struct Fanout(pub Vec<Arc<dyn AlertSink>>);

impl AlertSink for Fanout {
    fn send(&self, alerts: Vec<OutgoingAlert>) {
        for s in &self.0 {
            s.send(alerts.clone());
        }
    }
}
