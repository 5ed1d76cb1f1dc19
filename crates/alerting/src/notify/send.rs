//! Delivering notifications with retries and exponential backoff; every
//! delivery is a row of the [`NotificationLog`] (in the database) before
//! its first attempt, and every attempt's outcome is recorded there.
//!
//! Bounded: callers (the router's tick, under the dispatcher lock; the
//! on-call engine) only queue a job and never wait. The queue holds
//! [`Capacity::queue`] jobs and at most [`Capacity::in_flight`] deliveries
//! are under way at once; when the queue is full a notification is dropped
//! (neither stored nor sent): the first drop of a burst is logged at error
//! level, and the number dropped is journaled as `notification.dropped`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

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

/// How much the sender holds: jobs waiting to be stored, deliveries under
/// way (each retrying on its own), and how often the log is pruned.
#[derive(Debug, Clone, Copy)]
pub struct Capacity {
    pub queue: usize,
    pub in_flight: usize,
    /// How often the log's retention is applied (and drops journaled, if
    /// no new notification came to do it sooner).
    pub housekeeping: Duration,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity {
            queue: 1024,
            in_flight: 256,
            housekeeping: Duration::from_secs(60),
        }
    }
}

/// A delivery that is not an HTTP POST (e-mail, the on-call pager, ...).
pub type Action = Arc<
    dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>
        + Send
        + Sync,
>;

/// How a queued notification goes out.
enum Via {
    /// POSTed as JSON to its target URL.
    Http,
    /// Run in process.
    Action(Action),
    /// Only kept in the log (a receiver without integrations).
    Logged,
}

struct Job {
    receiver: String,
    integration: String,
    target: String,
    body: serde_json::Value,
    via: Via,
}

/// Notifications dropped because the queue was full.
#[derive(Debug, Default)]
struct Dropped {
    total: AtomicU64,
    /// Dropped since the last `notification.dropped` event.
    unreported: AtomicU64,
}

/// Queues deliveries and sends them in the background.
#[derive(Clone)]
pub struct Sender {
    tx: mpsc::Sender<Job>,
    pub log: NotificationLog,
    events: Option<Arc<dyn EventSink>>,
    dropped: Arc<Dropped>,
    capacity: Capacity,
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
    pub fn start(log: NotificationLog, policy: RetryPolicy) -> Sender {
        Self::start_with(log, policy, Capacity::default(), None)
    }

    /// As [`Sender::start`], journaling every delivery's outcome to `events`.
    pub fn start_journaled(
        log: NotificationLog,
        policy: RetryPolicy,
        events: Arc<dyn EventSink>,
    ) -> Sender {
        Self::start_with(log, policy, Capacity::default(), Some(events))
    }

    /// Starts the sending task with the given capacity.
    pub fn start_with(
        log: NotificationLog,
        policy: RetryPolicy,
        capacity: Capacity,
        events: Option<Arc<dyn EventSink>>,
    ) -> Sender {
        let (tx, rx) = mpsc::channel(capacity.queue.max(1));
        let sender = Sender {
            tx,
            log,
            events,
            dropped: Arc::default(),
            capacity,
        };
        tokio::spawn(sender.clone_task().run(rx, policy));
        sender
    }

    /// Where this sender journals (the alert router journals silences there too).
    pub fn events(&self) -> Option<&Arc<dyn EventSink>> {
        self.events.as_ref()
    }

    /// Notifications dropped since start because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.total.load(Ordering::Relaxed)
    }

    /// Queues a notification to POST to `url`: stored, then sent. Never
    /// waits (callable from sync code under a lock); false when the queue
    /// was full and the notification was dropped (logged and counted).
    pub fn send(
        &self,
        receiver: &str,
        integration: &str,
        url: &str,
        body: serde_json::Value,
    ) -> bool {
        self.queue(receiver, integration, url, body, Via::Http)
    }

    /// Queues a notification delivered by running `action`, with the same
    /// storing, retries and bookkeeping as HTTP deliveries.
    pub fn send_with(
        &self,
        receiver: &str,
        integration: &str,
        target: &str,
        body: serde_json::Value,
        action: Action,
    ) -> bool {
        self.queue(receiver, integration, target, body, Via::Action(action))
    }

    /// Queues a notification that is only kept in the log (stored as sent,
    /// integration `log`): a receiver without integrations.
    pub fn record_only(&self, receiver: &str, body: serde_json::Value) -> bool {
        self.queue(receiver, "log", "", body, Via::Logged)
    }

    fn queue(
        &self,
        receiver: &str,
        integration: &str,
        target: &str,
        body: serde_json::Value,
        via: Via,
    ) -> bool {
        let job = Job {
            receiver: receiver.into(),
            integration: integration.into(),
            target: target.into(),
            body,
            via,
        };
        match self.tx.try_send(job) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(job)) => {
                let total = self.dropped.total.fetch_add(1, Ordering::Relaxed) + 1;
                if self.dropped.unreported.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::error!(
                        receiver = %job.receiver,
                        integration = %job.integration,
                        queue = self.capacity.queue,
                        in_flight = self.capacity.in_flight,
                        dropped_total = total,
                        "notification queue full: notifications are dropped (neither stored nor sent) until it drains; the number is journaled as notification.dropped"
                    );
                }
                false
            }
            Err(mpsc::error::TrySendError::Closed(job)) => {
                tracing::warn!(receiver = %job.receiver, "notification sender stopped: notification not sent");
                false
            }
        }
    }

    /// What the background task needs (not the queue's own sender: the task
    /// ends when every `Sender` is dropped).
    fn clone_task(&self) -> Task {
        Task {
            log: self.log.clone(),
            events: self.events.clone(),
            dropped: self.dropped.clone(),
            capacity: self.capacity,
        }
    }
}

struct Task {
    log: NotificationLog,
    events: Option<Arc<dyn EventSink>>,
    dropped: Arc<Dropped>,
    capacity: Capacity,
}

impl Task {
    /// Stores each job and starts its delivery, at most `in_flight` at
    /// once; prunes the log and journals drops on a timer.
    async fn run(self, mut rx: mpsc::Receiver<Job>, policy: RetryPolicy) {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .build()
            .unwrap_or_default();
        let slots = Arc::new(Semaphore::new(self.capacity.in_flight.max(1)));
        let ctx = Arc::new(Delivering {
            client,
            log: self.log.clone(),
            policy,
            events: self.events.clone(),
        });
        self.resume(&ctx, &slots).await;
        let mut housekeeping = tokio::time::interval(self.capacity.housekeeping);
        housekeeping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                job = rx.recv() => {
                    let Some(job) = job else { break };
                    self.report_dropped().await;
                    // Waits while `in_flight` deliveries are under way: the
                    // queue fills meanwhile, and then drops.
                    let Ok(slot) = slots.clone().acquire_owned().await else { break };
                    self.store_and_start(&ctx, job, slot).await;
                }
                _ = housekeeping.tick() => {
                    self.report_dropped().await;
                    self.prune().await;
                }
            }
        }
    }

    /// Deliveries left pending by a previous run: HTTP ones are resent,
    /// the others given up with the reason.
    async fn resume(&self, ctx: &Arc<Delivering>, slots: &Arc<Semaphore>) {
        let pending = match self.log.pending().await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "could not read pending notifications: none resent");
                return;
            }
        };
        for d in pending {
            match not_resent(&d) {
                None => {
                    let Ok(slot) = slots.clone().acquire_owned().await else {
                        return;
                    };
                    let ctx = ctx.clone();
                    tokio::spawn(async move { ctx.attempts(d, Via::Http, slot).await });
                }
                Some(reason) => {
                    tracing::warn!(receiver = %d.receiver, integration = %d.integration, %reason, "pending delivery not resent");
                    if let Err(e) = self.log.abandon(d.id, &reason).await {
                        tracing::warn!(error = %e, "could not store an abandoned delivery");
                    }
                    journal_outcome(self.events.as_ref(), &d, d.attempts, Some(&reason)).await;
                }
            }
        }
    }

    /// Stores the job's delivery (committed before any attempt), then
    /// starts its attempts on their own task.
    async fn store_and_start(&self, ctx: &Arc<Delivering>, job: Job, slot: OwnedSemaphorePermit) {
        let state = match job.via {
            Via::Logged => DeliveryState::Sent,
            _ => DeliveryState::Pending,
        };
        let stored = self
            .log
            .record(
                &job.receiver,
                &job.integration,
                &job.target,
                &job.body,
                state,
            )
            .await;
        match stored {
            Ok(d) => {
                if !matches!(job.via, Via::Logged) {
                    let ctx = ctx.clone();
                    // Each delivery retries on its own: one slow receiver does not hold up others.
                    tokio::spawn(async move { ctx.attempts(d, job.via, slot).await });
                }
            }
            Err(e) => {
                tracing::error!(error = %e, receiver = %job.receiver, "could not store a notification: not sent");
                let d = Delivery {
                    id: 0,
                    created: chrono::Utc::now(),
                    receiver: job.receiver,
                    integration: job.integration,
                    url: job.target,
                    body: serde_json::Value::Null,
                    state: DeliveryState::Failed,
                    attempts: 0,
                    last_error: None,
                    updated: chrono::Utc::now(),
                };
                let reason = format!("not sent: could not be stored: {e}");
                journal_outcome(self.events.as_ref(), &d, 0, Some(&reason)).await;
            }
        }
    }

    /// Journals the notifications dropped since the last report.
    async fn report_dropped(&self) {
        let n = self.dropped.unreported.swap(0, Ordering::Relaxed);
        if n == 0 {
            return;
        }
        let total = self.dropped.total.load(Ordering::Relaxed);
        tracing::warn!(
            dropped = n,
            total,
            "notification queue full: {n} notifications were dropped"
        );
        if let Some(events) = &self.events {
            let e = NewEvent::new("notification.dropped", "notify", "queue")
                .attr("count", n)
                .attr("total", total)
                .attr("queue", self.capacity.queue as u64)
                .attr("in_flight", self.capacity.in_flight as u64);
            wire::sink::append_or_log(events.as_ref(), e).await;
        }
    }

    async fn prune(&self) {
        let started = Instant::now();
        match self.log.prune(chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(
                pruned = n,
                ms = started.elapsed().as_millis() as u64,
                "notification log retention"
            ),
            Err(e) => tracing::warn!(error = %e, "could not prune the notification log"),
        }
    }
}

/// What every delivery's attempts share.
struct Delivering {
    client: reqwest::Client,
    log: NotificationLog,
    policy: RetryPolicy,
    events: Option<Arc<dyn EventSink>>,
}

impl Delivering {
    /// Attempts a stored delivery until it succeeds or the attempts run
    /// out, recording each outcome; holds its in-flight slot throughout.
    async fn attempts(&self, d: Delivery, via: Via, _slot: OwnedSemaphorePermit) {
        let policy = &self.policy;
        let mut backoff = policy.first_backoff;
        for attempt in 1..=policy.attempts {
            let outcome = match &via {
                Via::Http => self.post(&d).await,
                Via::Action(action) => action().await,
                Via::Logged => Ok(()),
            };
            let error = match outcome {
                Ok(()) => {
                    self.store_outcome(d.id, DeliveryState::Sent, None).await;
                    journal_outcome(self.events.as_ref(), &d, attempt, None).await;
                    return;
                }
                Err(e) => e,
            };
            let last = attempt == policy.attempts;
            let state = if last {
                DeliveryState::Failed
            } else {
                DeliveryState::Pending
            };
            self.store_outcome(d.id, state, Some(&error)).await;
            if last {
                tracing::error!(receiver = %d.receiver, target = %d.url, %error, "notification failed after retries");
                journal_outcome(self.events.as_ref(), &d, attempt, Some(&error)).await;
                return;
            }
            tracing::warn!(receiver = %d.receiver, attempt, %error, "notification failed; retrying");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(policy.max_backoff);
        }
    }

    async fn post(&self, d: &Delivery) -> Result<(), String> {
        match self.client.post(&d.url).json(&d.body).send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!(
                "HTTP {}: {}",
                r.status(),
                r.text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect::<String>()
            )),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Records an attempt's outcome; a database error is logged (the
    /// delivery goes on: its outcome is journaled).
    async fn store_outcome(&self, id: i64, state: DeliveryState, error: Option<&str>) {
        if let Err(e) = self.log.update(id, state, error).await {
            tracing::warn!(error = %e, delivery = id, "could not store a delivery's outcome");
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
