//! Delivering notifications over HTTP with retries and exponential backoff;
//! every attempt is recorded in the [`NotificationLog`].

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use wire::{EventSink, NewEvent};

use super::log::{Delivery, DeliveryState, NotificationLog, Stored};

/// Retry policy of deliveries.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            first_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Queues deliveries and sends them in the background.
#[derive(Clone)]
pub struct Sender {
    /// Deliveries with what says their line is on file: the delivery task
    /// awaits that before the first attempt (stored before sent).
    tx: mpsc::UnboundedSender<(Delivery, Stored)>,
    pub log: Arc<NotificationLog>,
    policy: RetryPolicy,
    events: Option<Arc<dyn EventSink>>,
}

/// Journals the final outcome of a delivery (`notification.sent` or
/// `notification.failed`) when it happens.
async fn journal_outcome(
    events: Option<&Arc<dyn EventSink>>,
    d: &Delivery,
    attempts: u32,
    error: Option<&str>,
) {
    let Some(events) = events else { return };
    let kind = if error.is_some() {
        "notification.failed"
    } else {
        "notification.sent"
    };
    let mut e = NewEvent::new(kind, "notify", &d.receiver)
        .attr("integration", d.integration.clone())
        .attr("target", d.url.clone())
        .attr("attempts", attempts)
        .attr("delivery", d.id);
    if let Some(err) = error {
        e = e.attr("error", err);
    }
    wire::sink::append_or_log(events.as_ref(), e).await;
}

impl Sender {
    /// Starts the sending task; deliveries left pending by a previous run are resent.
    pub fn start(log: Arc<NotificationLog>, policy: RetryPolicy) -> Sender {
        Self::start_inner(log, policy, None)
    }

    /// As [`Sender::start`], journaling every delivery's outcome to `events`.
    pub fn start_journaled(
        log: Arc<NotificationLog>,
        policy: RetryPolicy,
        events: Arc<dyn EventSink>,
    ) -> Sender {
        Self::start_inner(log, policy, Some(events))
    }

    /// Where this sender journals (the alert router journals silences there too).
    pub fn events(&self) -> Option<&Arc<dyn EventSink>> {
        self.events.as_ref()
    }

    fn start_inner(
        log: Arc<NotificationLog>,
        policy: RetryPolicy,
        events: Option<Arc<dyn EventSink>>,
    ) -> Sender {
        let (tx, mut rx) = mpsc::unbounded_channel::<(Delivery, Stored)>();
        let mut abandoned = Vec::new();
        for d in log.pending() {
            match not_resent(&d) {
                None => {
                    let _ = tx.send((d, Stored::done()));
                }
                Some(reason) => {
                    tracing::warn!(receiver = %d.receiver, integration = %d.integration, %reason, "pending delivery not resent");
                    let stored = log.abandon(d.id, reason.clone());
                    abandoned.push((d, reason, stored));
                }
            }
        }
        let l = log.clone();
        let p = policy.clone();
        let ev = events.clone();
        tokio::spawn(async move {
            for (d, reason, stored) in abandoned {
                if let Err(e) = stored.wait().await {
                    tracing::warn!(error = %e, "could not store an abandoned delivery");
                }
                journal_outcome(ev.as_ref(), &d, d.attempts, Some(&reason)).await;
            }
            let client = reqwest::Client::builder()
                .timeout(policy.timeout)
                .build()
                .unwrap_or_default();
            while let Some((d, stored)) = rx.recv().await {
                let (client, l, policy, ev) =
                    (client.clone(), l.clone(), policy.clone(), ev.clone());
                // Each delivery retries on its own: one slow receiver does not hold up others.
                tokio::spawn(async move {
                    if stored_or_abandoned(&l, ev.as_ref(), &d, stored).await {
                        deliver(&client, &l, &policy, ev.as_ref(), d).await;
                    }
                });
            }
        });
        Sender {
            tx,
            log,
            policy: p,
            events,
        }
    }

    /// Stores, then sends. Does no I/O itself (callable from sync code under
    /// a lock): the returned delivery is in the log's memory and its line is
    /// queued; the sender's task sends it once the line is on file.
    pub fn send(
        &self,
        receiver: &str,
        integration: &str,
        url: &str,
        body: serde_json::Value,
    ) -> Delivery {
        let (d, stored) = self.log.record(receiver, integration, url, body);
        let _ = self.tx.send((d.clone(), stored));
        d
    }
}

/// Awaits a new delivery's line; true when it is on file. A delivery that
/// could not be stored is not sent: it is marked failed with the reason.
async fn stored_or_abandoned(
    log: &NotificationLog,
    events: Option<&Arc<dyn EventSink>>,
    d: &Delivery,
    stored: Stored,
) -> bool {
    let Err(e) = stored.wait().await else {
        return true;
    };
    tracing::error!(error = %e, receiver = %d.receiver, "could not store a notification: not sent");
    let reason = format!("not sent: could not be stored: {e}");
    // The file is failing: this line will likely fail too, but memory shows it.
    let _ = log.abandon(d.id, reason.clone()).wait().await;
    journal_outcome(events, d, 0, Some(&reason)).await;
    false
}

/// Records an attempt's outcome and waits for it to be on file.
async fn store_outcome(
    log: &NotificationLog,
    id: u64,
    state: DeliveryState,
    error: Option<String>,
) {
    if let Err(e) = log.update(id, state, error).wait().await {
        tracing::warn!(error = %e, delivery = id, "could not store a delivery's outcome");
    }
}

/// Why a delivery left pending by a previous run is not resent, if it is
/// not. Only HTTP POSTs can be replayed from the log; the others (e-mail,
/// the on-call pager, tickets) ran an action of the process that recorded
/// them. The on-call engine's pages and tickets are its own durable state,
/// and an alert still firing is notified again by the router.
fn not_resent(d: &Delivery) -> Option<String> {
    let url = d.url.trim_start();
    let http = ["http://", "https://"].iter().any(|p| {
        url.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    });
    if http {
        return None;
    }
    Some(format!(
        "not resent after a restart: a {} delivery to {:?} is not an HTTP POST and cannot be replayed from the log; an alert still firing is notified again",
        d.integration, d.url
    ))
}

/// A delivery that is not an HTTP POST (e-mail, the on-call pager, ...).
pub type Action = std::sync::Arc<
    dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>
        + Send
        + Sync,
>;

impl Sender {
    /// Stores, then runs `action` with the same retries and bookkeeping as HTTP deliveries.
    pub fn send_with(
        &self,
        receiver: &str,
        integration: &str,
        target: &str,
        body: serde_json::Value,
        action: Action,
    ) -> Delivery {
        let (d, stored) = self.log.record(receiver, integration, target, body);
        let (log, policy, id, who, events, delivery) = (
            self.log.clone(),
            self.policy.clone(),
            d.id,
            receiver.to_string(),
            self.events.clone(),
            d.clone(),
        );
        tokio::spawn(async move {
            if !stored_or_abandoned(&log, events.as_ref(), &delivery, stored).await {
                return;
            }
            let mut backoff = policy.first_backoff;
            for attempt in 1..=policy.attempts {
                match action().await {
                    Ok(()) => {
                        store_outcome(&log, id, DeliveryState::Sent, None).await;
                        journal_outcome(events.as_ref(), &delivery, attempt, None).await;
                        return;
                    }
                    Err(e) => {
                        let last = attempt == policy.attempts;
                        let state = if last {
                            DeliveryState::Failed
                        } else {
                            DeliveryState::Pending
                        };
                        store_outcome(&log, id, state, Some(e.clone())).await;
                        if last {
                            tracing::error!(receiver = %who, error = %e, "notification failed after retries");
                            journal_outcome(events.as_ref(), &delivery, attempt, Some(&e)).await;
                            return;
                        }
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(policy.max_backoff);
            }
        });
        d
    }
}

async fn deliver(
    client: &reqwest::Client,
    log: &NotificationLog,
    policy: &RetryPolicy,
    events: Option<&Arc<dyn EventSink>>,
    d: Delivery,
) {
    let mut backoff = policy.first_backoff;
    for attempt in 1..=policy.attempts {
        let outcome = client.post(&d.url).json(&d.body).send().await;
        let error = match outcome {
            Ok(r) if r.status().is_success() => {
                store_outcome(log, d.id, DeliveryState::Sent, None).await;
                journal_outcome(events, &d, attempt, None).await;
                return;
            }
            Ok(r) => format!(
                "HTTP {}: {}",
                r.status(),
                r.text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect::<String>()
            ),
            Err(e) => e.to_string(),
        };
        let last = attempt == policy.attempts;
        let state = if last {
            DeliveryState::Failed
        } else {
            DeliveryState::Pending
        };
        store_outcome(log, d.id, state, Some(error.clone())).await;
        if last {
            tracing::error!(receiver = %d.receiver, url = %d.url, %error, "notification failed after retries");
            journal_outcome(events, &d, attempt, Some(&error)).await;
            return;
        }
        tracing::warn!(receiver = %d.receiver, attempt, %error, "notification failed; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(policy.max_backoff);
    }
}
