//! (1) Time from an alert condition becoming true to the webhook receiving
//! the notification, through the real pieces (store, rule evaluation every
//! 1 s, router ticking every 500 ms, group_wait 1 s, HTTP delivery), median
//! of 20. (2) An alert storm: 1,000 alerts firing at once, grouped by
//! alertname into 10 groups: notifications sent, alerts delivered (none
//! lost), time to drain.
//!
//! Run: `cargo bench -p alerting --bench notify_latency`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alerting::notify::{NotificationLog, RetryPolicy, Sender};
use alerting::route::{Router, Silences, parse_config};
use alerting::rules::{AlertSink, OutgoingAlert, RuleManager, parse_rules};
use telemetry::model::{Appender, Labels, Sample};
use telemetry::tsdb::{Tsdb, TsdbOptions};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // A webhook counting what arrives.
        let alerts_seen = Arc::new(AtomicUsize::new(0));
        let notifications = Arc::new(AtomicUsize::new(0));
        let last = Arc::new(Mutex::new(None::<Instant>));
        let (a2, n2, l2) = (alerts_seen.clone(), notifications.clone(), last.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: axum::body::Bytes| {
                let (a, n, l) = (a2.clone(), n2.clone(), l2.clone());
                async move {
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                    a.fetch_add(v["alerts"].as_array().map(|x| x.len()).unwrap_or(0), Ordering::SeqCst);
                    n.fetch_add(1, Ordering::SeqCst);
                    *l.lock().unwrap() = Some(Instant::now());
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let hook = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = format!(
            "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1m\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: {hook}\n"
        );

        // (1) Condition to notification, 20 times, each with a fresh alert name.
        let mut lat = Vec::new();
        for i in 0..20 {
            let db = Arc::new(Tsdb::in_memory(TsdbOptions { background: false, ..TsdbOptions::default() }));
            let rules = format!("groups:\n  - name: g\n    interval: 1s\n    rules:\n      - alert: Cond{i}\n        expr: cond > 0\n");
            let m = Arc::new(RuleManager::new(parse_rules(&rules, "r").expect("rules"), Duration::from_secs(1), ""));
            let log = NotificationLog::open_sqlite(&dir.path().join(format!("l{i}"))).await.expect("log");
            let router = Router::new(parse_config(&cfg, "am").expect("config"), Arc::new(Silences::open(None).expect("silences")), Sender::start(log, RetryPolicy::default()), "");
            let t1 = tokio::spawn(m.clone().run(
                db.clone(),
                router.clone(),
                Arc::new(wire::sink::MemorySink::default()),
            ));
            let t2 = tokio::spawn(router.clone().run(Duration::from_millis(500)));
            // Let the loops settle at a random phase, then make the condition true.
            tokio::time::sleep(Duration::from_millis(300 + 37 * i as u64)).await;
            let before = notifications.load(Ordering::SeqCst);
            let start = Instant::now();
            db.append(&[(Labels::new([("__name__", "cond")]), Sample { t: chrono::Utc::now().timestamp_millis(), v: 1.0 })]).expect("append");
            while notifications.load(Ordering::SeqCst) == before && start.elapsed() < Duration::from_secs(10) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            lat.push(start.elapsed().as_secs_f64());
            t1.abort();
            t2.abort();
        }
        lat.sort_by(f64::total_cmp);
        println!(
            "condition true -> webhook notified (eval 1 s, tick 500 ms, group_wait 1 s): median {:.2} s, min {:.2} s, max {:.2} s over {} runs",
            lat[lat.len() / 2],
            lat[0],
            lat[lat.len() - 1],
            lat.len()
        );

        // (2) Storm: 1,000 alerts at once.
        alerts_seen.store(0, Ordering::SeqCst);
        notifications.store(0, Ordering::SeqCst);
        let log = NotificationLog::open_sqlite(&dir.path().join("storm")).await.expect("log");
        let router = Router::new(parse_config(&cfg, "am").expect("config"), Arc::new(Silences::open(None).expect("silences")), Sender::start(log, RetryPolicy::default()), "");
        let t2 = tokio::spawn(router.clone().run(Duration::from_millis(500)));
        let now = chrono::Utc::now();
        let storm: Vec<OutgoingAlert> = (0..1000)
            .map(|i| OutgoingAlert {
                labels: [("alertname".to_string(), format!("Storm{}", i % 10)), ("instance".to_string(), format!("i{i}"))].into_iter().collect(),
                annotations: Default::default(),
                starts_at: now,
                ends_at: now + chrono::Duration::minutes(10),
                generator_url: String::new(),
            })
            .collect();
        let start = Instant::now();
        router.send(storm);
        let accepted = start.elapsed();
        while alerts_seen.load(Ordering::SeqCst) < 1000 && start.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let drained = last.lock().unwrap().map(|l| l.duration_since(start)).unwrap_or_default();
        println!(
            "storm of 1000 alerts: accepted in {:.1} ms; {} notifications carrying {} alerts (lost: {}); drained {:.2} s after arrival (group_wait 1 s)",
            accepted.as_secs_f64() * 1e3,
            notifications.load(Ordering::SeqCst),
            alerts_seen.load(Ordering::SeqCst),
            1000usize.saturating_sub(alerts_seen.load(Ordering::SeqCst)),
            drained.as_secs_f64()
        );
        t2.abort();
    });
}
