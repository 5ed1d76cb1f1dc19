//! Page-open-to-notification latency: from `OnCall::trigger` (a routed
//! alert opening a page: stored, journaled, recipients resolved from the
//! schedule) to a person's webhook receiving the notification over HTTP
//! through the alerting sender (stored in the notification log first).
//! 300 pages, one at a time, on SQLite; again on PostgreSQL when
//! `FIREDRILL_TEST_POSTGRES_URL` is set. Median, p90, p99.
//!
//! Run: `cargo bench -p oncall --bench page_latency`

use std::sync::Arc;
use std::time::{Duration, Instant};

use oncall::{AlertGroup, OnCall, SystemClock};
use store::{Db, Journal};
use tokio::sync::mpsc;

const CONFIG: &str = "
people:
  - handle: alice
    contact: {webhook: HOOK}
schedules:
  - name: s
    layers:
      - {role: primary, people: [alice], start: 2026-01-05 09:00, rotation: 1w}
escalation_policies:
  - name: p
    steps:
      - targets: [{schedule: s, role: primary}]
        escalate_after: 1h
";

fn pct(v: &[f64], p: f64) -> f64 {
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(
    name: &str,
    url: &str,
    hook: &str,
    arrivals: &mut mpsc::UnboundedReceiver<i64>,
    dir: &std::path::Path,
) {
    let db = Db::open(url).await.expect("db");
    let cfg =
        Arc::new(oncall::config::parse(&CONFIG.replace("HOOK", hook), "bench").expect("config"));
    let log = alerting::notify::NotificationLog::new(db.clone(), Default::default());
    let _ = dir;
    let sender = alerting::notify::Sender::start(log, alerting::notify::RetryPolicy::default());
    let notifier = Arc::new(oncall::notify::Contacts {
        sender,
        smtp: None,
        external_url: String::new(),
    });
    let engine = OnCall::new(
        cfg,
        db.clone(),
        Journal::new(db),
        Arc::new(SystemClock),
        notifier,
    );
    let mut lat = Vec::new();
    for i in 0..300 {
        let g = AlertGroup {
            group_key: format!("{name}-{i}"),
            title: format!("alert {i}"),
            summary: String::new(),
            labels: serde_json::json!({}),
            firing: 1,
        };
        let start = Instant::now();
        let (page, _) = engine.trigger(&g).await.expect("trigger");
        loop {
            let id = tokio::time::timeout(Duration::from_secs(10), arrivals.recv())
                .await
                .expect("notification arrives")
                .expect("channel");
            if id == page.id {
                break;
            }
        }
        lat.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{name}: page open -> webhook received: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms (n={})",
        pct(&lat, 0.5),
        pct(&lat, 0.9),
        pct(&lat, 0.99),
        lat.len()
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel::<i64>();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: axum::body::Bytes| {
                let tx = tx.clone();
                async move {
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                    let _ = tx.send(v["page"]["id"].as_i64().unwrap_or(-1));
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let hook = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let dir = tempfile::tempdir().expect("tempdir");
        run(
            "SQLite",
            &Db::sqlite_url(dir.path()),
            &hook,
            &mut rx,
            &dir.path().join("a"),
        )
        .await;
        if let Ok(base) = std::env::var("FIREDRILL_TEST_POSTGRES_URL") {
            let name = format!("firedrill_bench_pages_{}", std::process::id());
            let url = store::db::fresh_postgres(&base, &name)
                .await
                .expect("postgres");
            run("PostgreSQL", &url, &hook, &mut rx, &dir.path().join("b")).await;
            store::db::drop_postgres(&base, &name).await;
        } else {
            eprintln!("PostgreSQL skipped: set FIREDRILL_TEST_POSTGRES_URL");
        }
    });
}
