//! E-mail over real SMTP (a minimal SMTP server on loopback) and the
//! receiver interface the on-call pager will implement.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alerting::notify::{DeliveryState, NotificationLog, RetryPolicy, Sender};
use alerting::route::dispatch::Notification;
use alerting::route::integration::{Delivery, Integration};
use alerting::route::{Router, Silences, parse_config};
use alerting::rules::{AlertSink, OutgoingAlert};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Accepts SMTP sessions and keeps each message's DATA.
async fn smtp_server(messages: Arc<Mutex<Vec<String>>>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let messages = messages.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 localhost ESMTP test\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            messages
                                .lock()
                                .unwrap()
                                .push(data.take().unwrap_or_default());
                            let _ = w.write_all(b"250 queued\r\n").await;
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let cmd = line.to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") {
                        b"250-localhost\r\n250 8BITMIME\r\n"
                    } else if cmd.starts_with("DATA") {
                        data = Some(String::new());
                        b"354 go ahead\r\n"
                    } else if cmd.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    addr
}

struct Pager(Arc<AtomicUsize>);

impl Integration for Pager {
    fn kind(&self) -> &str {
        "pager"
    }
    fn target(&self) -> String {
        "alice".into()
    }
    fn notify(&self, n: &Notification) -> Delivery {
        let c = self.0.clone();
        let firing = n.firing().count();
        Box::pin(async move {
            c.fetch_add(firing, Ordering::SeqCst);
            Ok(())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_and_registered_integrations_are_notified() {
    let messages = Arc::new(Mutex::new(Vec::new()));
    let smtp = smtp_server(messages.clone()).await;
    let cfg = format!(
        "route:\n  receiver: team\n  group_wait: 10ms\nreceivers:\n  - name: team\n    email_configs:\n      - to: oncall@lab.example\n        from: firedrill@lab.example\n        smarthost: {smtp}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let log = NotificationLog::open_sqlite(dir.path()).await.unwrap();
    let policy = RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(50),
        timeout: Duration::from_secs(2),
    };
    let router = Router::new(
        parse_config(&cfg, "am.yml").unwrap(),
        Arc::new(Silences::open(None).unwrap()),
        Sender::start(log.clone(), policy),
        "http://127.0.0.1:9700",
    );
    let pages = Arc::new(AtomicUsize::new(0));
    router.register("team", Arc::new(Pager(pages.clone())));
    let now = chrono::Utc::now();
    router.send(vec![OutgoingAlert {
        labels: [
            ("alertname".to_string(), "DiskFull".to_string()),
            ("instance".to_string(), "db-1".to_string()),
        ]
        .into_iter()
        .collect(),
        annotations: [("summary".to_string(), "disk 95% full".to_string())]
            .into_iter()
            .collect(),
        starts_at: now,
        ends_at: now + chrono::Duration::minutes(10),
        generator_url: "http://127.0.0.1:9700/graph".into(),
    }]);
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(router.tick().len(), 1);
    for _ in 0..200 {
        if !messages.lock().unwrap().is_empty() && pages.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let msg = messages
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("an e-mail arrived");
    assert!(msg.contains("Subject: [FIRING:1] DiskFull"), "{msg}");
    assert!(msg.contains("disk 95% full"), "{msg}");
    assert_eq!(
        pages.load(Ordering::SeqCst),
        1,
        "the registered integration was notified"
    );
    // Both deliveries are in the log as sent.
    let list = || async { log.page(Default::default()).await.unwrap() };
    for _ in 0..100 {
        if list()
            .await
            .iter()
            .filter(|d| d.state == DeliveryState::Sent)
            .count()
            == 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let kinds: Vec<(String, DeliveryState)> = list()
        .await
        .into_iter()
        .map(|d| (d.integration, d.state))
        .collect();
    assert!(
        kinds.contains(&("email".to_string(), DeliveryState::Sent)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("pager".to_string(), DeliveryState::Sent)),
        "{kinds:?}"
    );
}

/// Issue 11: PagerDuty's dedup_key is FNV-1a of the group key, stable across
/// Rust releases and restarts (the first three are FNV's published 64-bit
/// FNV-1a test vectors), so a resolve closes the incident its trigger opened.
#[test]
fn pagerduty_dedup_key_is_a_stable_hash_of_the_group_key() {
    use alerting::route::dispatch::key_hash;
    assert_eq!(key_hash(""), "cbf29ce484222325");
    assert_eq!(key_hash("a"), "af63dc4c8601ec8c");
    assert_eq!(key_hash("foobar"), "85944171f73967e8");
    assert_eq!(
        key_hash("{}:{alertname=\"CheckoutErrorBudgetBurn\"}"),
        "b301d97591c1968f"
    );
}

/// Issue 11: after a restart, only pending HTTP deliveries are replayed;
/// those of in-process actions (pager, tickets, e-mail: their target is no
/// URL) are marked failed with the reason, without an attempt.
#[tokio::test]
async fn after_a_restart_only_http_deliveries_are_replayed() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = NotificationLog::open_sqlite(dir.path()).await.unwrap();
        for (integration, target) in [
            ("pager", "on-call"),
            ("tickets", "ticket queue"),
            ("email", "oncall@lab.example"),
            ("webhook", "http://127.0.0.1:9/hook"),
        ] {
            log.record(
                "team",
                integration,
                target,
                &serde_json::json!({}),
                DeliveryState::Pending,
            )
            .await
            .unwrap();
        }
    }
    let log = NotificationLog::open_sqlite(dir.path()).await.unwrap();
    let policy = RetryPolicy {
        attempts: 1,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(10),
        timeout: Duration::from_secs(1),
    };
    let _sender = Sender::start(log.clone(), policy);
    let by_kind = |k: &'static str| {
        let log = log.clone();
        async move {
            log.page(Default::default())
                .await
                .unwrap()
                .into_iter()
                .find(|d| d.integration == k)
                .unwrap()
        }
    };
    // The sender's task resumes the log as it starts.
    for _ in 0..200 {
        if by_kind("email").await.state == DeliveryState::Failed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for (kind, target) in [
        ("pager", "on-call"),
        ("tickets", "ticket queue"),
        ("email", "oncall@lab.example"),
    ] {
        let d = by_kind(kind).await;
        assert_eq!(d.state, DeliveryState::Failed, "{d:?}");
        assert_eq!(d.attempts, 0, "{d:?}");
        let why = d.last_error.unwrap_or_default();
        assert!(
            why.starts_with(&format!(
                "not resent after a restart: a {kind} delivery to {target:?} is not an HTTP POST"
            )),
            "{why}"
        );
    }
    // Stored: a second restart sees them failed, not pending.
    let again = NotificationLog::open_sqlite(dir.path()).await.unwrap();
    let pending: Vec<String> = again
        .pending()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.integration)
        .collect();
    assert!(pending.iter().all(|k| k == "webhook"), "{pending:?}");
    let hook = by_kind("webhook").await;
    assert!(
        !hook
            .last_error
            .unwrap_or_default()
            .starts_with("not resent"),
        "the webhook is replayed"
    );
}
