//! Notifications are stored (a database row) before sending, retried, and
//! failures stay visible; the queue is bounded and the log pruned.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use alerting::notify::{
    Capacity, Delivery, DeliveryState, NotificationLog, PageQuery, Retention, RetryPolicy, Sender,
};
use axum::http::StatusCode;
use axum::routing::post;

fn fast() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(50),
        timeout: Duration::from_secs(2),
    }
}

async fn all(log: &NotificationLog) -> Vec<Delivery> {
    log.page(PageQuery {
        limit: 1000,
        before: None,
    })
    .await
    .unwrap()
}

/// Waits for the delivery whose body has `marker` to reach `want`.
async fn wait_state(log: &NotificationLog, marker: &str, want: DeliveryState) -> Delivery {
    for _ in 0..300 {
        if let Some(d) = all(log)
            .await
            .into_iter()
            .find(|d| d.body["marker"] == marker)
            && d.state == want
        {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{marker} never reached {want:?}: {:?}", all(log).await);
}

#[tokio::test]
async fn retries_until_delivered_and_keeps_failures_visible() {
    let dir = tempfile::tempdir().unwrap();
    // A webhook that fails twice, then accepts.
    let hits = Arc::new(AtomicU32::new(0));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: axum::body::Bytes| {
            let h = h.clone();
            async move {
                let n = h.fetch_add(1, Ordering::SeqCst);
                assert!(!body.is_empty());
                if n < 2 {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let log = NotificationLog::open_sqlite(dir.path()).await.unwrap();
    let sender = Sender::start(log.clone(), fast());
    assert!(sender.send(
        "team",
        "webhook",
        &format!("http://{addr}/hook"),
        serde_json::json!({"version": "4", "marker": "ok"}),
    ));
    let d = wait_state(&log, "ok", DeliveryState::Sent).await;
    assert_eq!(d.attempts, 3);
    assert_eq!(hits.load(Ordering::SeqCst), 3);

    // Nobody listens here: it fails after all attempts, with its error kept.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    sender.send(
        "team",
        "webhook",
        &format!("http://{dead}/hook"),
        serde_json::json!({"marker": "bad"}),
    );
    let d = wait_state(&log, "bad", DeliveryState::Failed).await;
    assert_eq!(d.attempts, 4);
    assert!(d.last_error.is_some());

    // The log survives a reopen with every state, each body stored once.
    drop(sender);
    let again = NotificationLog::open_sqlite(dir.path()).await.unwrap();
    let states: Vec<_> = all(&again).await.iter().map(|d| d.state).collect();
    assert_eq!(states, vec![DeliveryState::Sent, DeliveryState::Failed]);
}

/// The delivery's row is in the database before the receiver sees the
/// request, for HTTP deliveries and in-process actions alike: the sender's
/// task commits the row before it starts the first attempt.
#[tokio::test]
async fn the_delivery_is_stored_before_the_receiver_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = NotificationLog::open_sqlite(dir.path()).await.unwrap();
    // Each request answers with whether its marker was stored when it arrived.
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel::<(String, bool)>();
    async fn stored(log: &NotificationLog, marker: &str) -> bool {
        all(log).await.iter().any(|d| d.body["marker"] == marker)
    }
    let (l, tx) = (log.clone(), seen_tx.clone());
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: axum::body::Bytes| {
            let (l, tx) = (l.clone(), tx.clone());
            async move {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let marker = v["marker"].as_str().unwrap().to_string();
                let _ = tx.send((marker.clone(), stored(&l, &marker).await));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let sender = Sender::start(log.clone(), fast());
    for i in 0..20 {
        let marker = format!("hook-{i}");
        sender.send(
            "team",
            "webhook",
            &format!("http://{addr}/hook"),
            serde_json::json!({ "marker": marker }),
        );
    }
    for i in 0..5 {
        let marker = format!("action-{i}");
        let (l, tx, m) = (log.clone(), seen_tx.clone(), marker.clone());
        let action: alerting::notify::send::Action = Arc::new(move || {
            let (l, tx, m) = (l.clone(), tx.clone(), m.clone());
            Box::pin(async move {
                let _ = tx.send((m.clone(), stored(&l, &m).await));
                Ok(())
            })
        });
        sender.send_with(
            "team",
            "pager",
            "on-call",
            serde_json::json!({ "marker": marker }),
            action,
        );
    }
    let mut seen = Vec::new();
    while seen.len() < 25 {
        seen.push(seen_rx.recv().await.unwrap());
    }
    let missing: Vec<_> = seen.iter().filter(|(_, ok)| !ok).collect();
    assert!(missing.is_empty(), "sent before stored: {missing:?}");
    for (marker, _) in seen {
        wait_state(&log, &marker, DeliveryState::Sent).await;
    }
}

/// Issue 11: the sender's queue is bounded. Callers never wait: a full
/// queue drops the notification (send answers false), counts it, and the
/// count is journaled as `notification.dropped`; what was queued is stored
/// and sent.
#[tokio::test(flavor = "current_thread")]
async fn a_full_queue_drops_counts_and_journals_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let log = NotificationLog::open_sqlite(dir.path()).await.unwrap();
    let events = Arc::new(wire::sink::MemorySink::default());
    let sender = Sender::start_with(
        log.clone(),
        fast(),
        Capacity {
            queue: 3,
            in_flight: 2,
            housekeeping: Duration::from_millis(50),
        },
        Some(events.clone()),
    );
    // The sender's task cannot run between these calls (one thread, no
    // await): the first 3 fill the queue, the other 7 are dropped.
    let queued: Vec<bool> = (0..10)
        .map(|i| sender.record_only("team", serde_json::json!({ "marker": format!("n{i}") })))
        .collect();
    assert_eq!(queued.iter().filter(|q| **q).count(), 3, "{queued:?}");
    assert_eq!(sender.dropped(), 7);
    let mut dropped = None;
    for _ in 0..200 {
        dropped = events
            .events()
            .into_iter()
            .find(|e| e.kind == "notification.dropped");
        if dropped.is_some() && log.count().await.unwrap() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dropped = dropped.expect("notification.dropped journaled");
    assert_eq!(dropped.attributes["count"], 7, "{dropped:?}");
    assert_eq!(dropped.attributes["queue"], 3, "{dropped:?}");
    let kept: Vec<String> = all(&log)
        .await
        .iter()
        .map(|d| d.body["marker"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(kept, ["n0", "n1", "n2"]);
    // Once drained, the queue takes notifications again.
    assert!(sender.record_only("team", serde_json::json!({"marker": "later"})));
    wait_state(&log, "later", DeliveryState::Sent).await;
}

/// Issue 11: the log does not grow without bound: the sender applies its
/// retention (here 4 rows) on its housekeeping timer.
#[tokio::test]
async fn the_log_is_pruned_to_its_retention() {
    let dir = tempfile::tempdir().unwrap();
    let db = store::Db::open(&store::Db::sqlite_url(dir.path()))
        .await
        .unwrap();
    let log = NotificationLog::new(
        db,
        Retention {
            max_age: Duration::from_secs(3600),
            max_rows: 4,
        },
    );
    let sender = Sender::start_with(
        log.clone(),
        fast(),
        Capacity {
            housekeeping: Duration::from_millis(50),
            ..Capacity::default()
        },
        None,
    );
    for i in 0..30 {
        sender.record_only("team", serde_json::json!({ "marker": format!("n{i}") }));
    }
    wait_state(&log, "n29", DeliveryState::Sent).await;
    let mut left = Vec::new();
    for _ in 0..200 {
        left = all(&log).await;
        if left.len() == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let markers: Vec<&str> = left
        .iter()
        .map(|d| d.body["marker"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(markers, ["n26", "n27", "n28", "n29"], "the newest are kept");
}
