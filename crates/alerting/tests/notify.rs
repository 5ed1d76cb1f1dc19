//! Notifications are stored before sending, retried, and failures stay visible.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use alerting::notify::{DeliveryState, NotificationLog, RetryPolicy, Sender};
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

async fn wait_state(
    log: &NotificationLog,
    id: u64,
    want: DeliveryState,
) -> alerting::notify::Delivery {
    for _ in 0..200 {
        let d = log.list().into_iter().find(|d| d.id == id).unwrap();
        if d.state == want {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("delivery {id} never reached {want:?}: {:?}", log.list());
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

    let log = Arc::new(NotificationLog::open(dir.path()).unwrap());
    let sender = Sender::start(log.clone(), fast());
    let ok = sender.send(
        "team",
        "webhook",
        &format!("http://{addr}/hook"),
        serde_json::json!({"version": "4"}),
    );
    // Stored before it is sent.
    assert!(log.list().iter().any(|d| d.id == ok.id));
    let d = wait_state(&log, ok.id, DeliveryState::Sent).await;
    assert_eq!(d.attempts, 3);
    assert_eq!(hits.load(Ordering::SeqCst), 3);

    // Nobody listens here: it fails after all attempts, with its error kept.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let bad = sender.send(
        "team",
        "webhook",
        &format!("http://{dead}/hook"),
        serde_json::json!({}),
    );
    let d = wait_state(&log, bad.id, DeliveryState::Failed).await;
    assert_eq!(d.attempts, 4);
    assert!(d.last_error.is_some());

    // The log survives a reopen with every state.
    drop(sender);
    log.written().wait().await.unwrap();
    let again = NotificationLog::open(dir.path()).unwrap();
    let states: Vec<_> = again.list().iter().map(|d| d.state).collect();
    assert_eq!(states, vec![DeliveryState::Sent, DeliveryState::Failed]);
}

/// The delivery's line is in the log file (not only in memory) before the
/// receiver sees the request, for HTTP deliveries and in-process actions
/// alike: the file is written by the log's writer thread, and the sender's
/// task awaits that write before the first attempt.
#[tokio::test]
async fn the_delivery_is_on_file_before_the_receiver_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notifications.jsonl");
    // Each request answers with whether its marker was on file when it arrived.
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel::<(String, bool)>();
    let on_file = |file: &std::path::Path, marker: &str| {
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains(marker))
    };
    let (f, tx) = (file.clone(), seen_tx.clone());
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: axum::body::Bytes| {
            let (f, tx) = (f.clone(), tx.clone());
            async move {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let marker = v["marker"].as_str().unwrap().to_string();
                let _ = tx.send((marker.clone(), on_file(&f, &marker)));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let log = Arc::new(NotificationLog::open(dir.path()).unwrap());
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
        let (f, tx, m) = (file.clone(), seen_tx.clone(), marker.clone());
        let action: alerting::notify::send::Action = Arc::new(move || {
            let (f, tx, m) = (f.clone(), tx.clone(), m.clone());
            Box::pin(async move {
                let _ = tx.send((m.clone(), on_file(&f, &m)));
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
    for d in log.list() {
        wait_state(&log, d.id, DeliveryState::Sent).await;
    }
}
