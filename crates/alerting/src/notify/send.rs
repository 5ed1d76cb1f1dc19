//! Delivering notifications over HTTP with retries and exponential backoff;
//! every attempt is recorded in the [`NotificationLog`].

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use wire::{EventSink, NewEvent};

use super::log::{Delivery, DeliveryState, NotificationLog};

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
    tx: mpsc::UnboundedSender<Delivery>,
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
        let (tx, mut rx) = mpsc::unbounded_channel::<Delivery>();
        let mut abandoned = Vec::new();
        for d in log.pending() {
            match not_resent(&d) {
                None => {
                    let _ = tx.send(d);
                }
                Some(reason) => {
                    tracing::warn!(receiver = %d.receiver, integration = %d.integration, %reason, "pending delivery not resent");
                    let _ = log.abandon(d.id, reason.clone());
                    abandoned.push((d, reason));
                }
            }
        }
        let l = log.clone();
        let p = policy.clone();
        let ev = events.clone();
        tokio::spawn(async move {
            for (d, reason) in &abandoned {
                journal_outcome(ev.as_ref(), d, d.attempts, Some(reason)).await;
            }
            let client = reqwest::Client::builder()
                .timeout(policy.timeout)
                .build()
                .unwrap_or_default();
            while let Some(d) = rx.recv().await {
                let (client, l, policy, ev) =
                    (client.clone(), l.clone(), policy.clone(), ev.clone());
                // Each delivery retries on its own: one slow receiver does not hold up others.
                tokio::spawn(async move { deliver(&client, &l, &policy, ev.as_ref(), d).await });
            }
        });
        Sender {
            tx,
            log,
            policy: p,
            events,
        }
    }

    /// Stores, then sends. The returned delivery is already in the log.
    pub fn send(
        &self,
        receiver: &str,
        integration: &str,
        url: &str,
        body: serde_json::Value,
    ) -> Option<Delivery> {
        match self.log.record(receiver, integration, url, body) {
            Ok(d) => {
                let _ = self.tx.send(d.clone());
                Some(d)
            }
            Err(e) => {
                tracing::error!(error = %e, %receiver, "could not store a notification: not sent");
                None
            }
        }
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
    ) -> Option<Delivery> {
        let d = match self.log.record(receiver, integration, target, body) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, %receiver, "could not store a notification: not sent");
                return None;
            }
        };
        let (log, policy, id, who, events, delivery) = (
            self.log.clone(),
            self.policy.clone(),
            d.id,
            receiver.to_string(),
            self.events.clone(),
            d.clone(),
        );
        tokio::spawn(async move {
            let mut backoff = policy.first_backoff;
            for attempt in 1..=policy.attempts {
                match action().await {
                    Ok(()) => {
                        let _ = log.update(id, DeliveryState::Sent, None);
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
                        let _ = log.update(id, state, Some(e.clone()));
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
        Some(d)
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
                let _ = log.update(d.id, DeliveryState::Sent, None);
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
        let _ = log.update(d.id, state, Some(error.clone()));
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
