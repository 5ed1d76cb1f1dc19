//! Against real peers from Debian's packages: alerts forwarded to a real
//! Alertmanager appear in its API; a real Prometheus sending alerts to our
//! `/api/v2/alerts` is accepted.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alerting::forward::Forwarder;
use alerting::receive::{Received, router};
use alerting::rules::{AlertSink, OutgoingAlert};

fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("{name} is missing: .ci/run installs it from Debian's packages");
        }
        eprintln!("skipping: {name} is not installed");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_ready(url: &str) {
    let c = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if c.get(format!("{url}/-/ready"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{url} never became ready");
}

fn until<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Some(v) = f() {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

#[test]
fn alerts_forwarded_to_a_real_alertmanager_appear_in_its_api() {
    let Some(am) = tool("prometheus-alertmanager") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("am.yml");
    std::fs::write(
        &cfg,
        "route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n",
    )
    .unwrap();
    let port = free_port();
    let _am = Peer(
        Command::new(am)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    wait_ready(&url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fwd = rt.block_on(async { Forwarder::start(&url) });
    let now = chrono::Utc::now();
    let mut labels = std::collections::BTreeMap::new();
    labels.insert(
        "alertname".to_string(),
        "CheckoutAvailabilityBurn".to_string(),
    );
    labels.insert("sloth_severity".to_string(), "page".to_string());
    let mut annotations = std::collections::BTreeMap::new();
    annotations.insert(
        "summary".to_string(),
        "checkout burns its budget".to_string(),
    );
    fwd.send(vec![OutgoingAlert {
        labels,
        annotations,
        starts_at: now,
        ends_at: now + chrono::Duration::minutes(5),
        generator_url: "http://127.0.0.1:9700/graph".into(),
    }]);
    let c = reqwest::blocking::Client::new();
    let got = until(20, || {
        let v: serde_json::Value = c
            .get(format!("{url}/api/v2/alerts"))
            .send()
            .ok()?
            .json()
            .ok()?;
        v.as_array()?
            .iter()
            .find(|a| a["labels"]["alertname"] == "CheckoutAvailabilityBurn")
            .cloned()
    })
    .expect("the alert shows up in Alertmanager");
    assert_eq!(got["labels"]["sloth_severity"], "page");
    assert_eq!(got["annotations"]["summary"], "checkout burns its budget");
    assert_eq!(got["status"]["state"], "active");
}

#[test]
fn a_real_prometheus_sends_its_alerts_to_us() {
    let Some(prom) = tool("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Our receiver on loopback.
    let received = Arc::new(Received::default());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let ours = listener.local_addr().unwrap();
    // Behind the control plane's guard: posting alerts needs an
    // instructor's token, which Prometheus sends with `authorization`.
    struct OneToken;
    impl wire::access::TokenResolver for OneToken {
        fn resolve<'a>(
            &'a self,
            token: &'a str,
        ) -> wire::sink::BoxFuture<'a, Result<Option<wire::Principal>, String>> {
            Box::pin(async move { Ok((token == "s3cret").then(wire::Principal::lab_owner)) })
        }
    }
    let guard = wire::access::Guard::new(alerting::route::ROUTES, Arc::new(OneToken), true);
    let app = guard.apply(router(received.clone()));
    rt.spawn(async move { axum::serve(listener, app).await });
    // Without the token, alerts are refused.
    let refused = reqwest::blocking::Client::new()
        .post(format!("http://{ours}/api/v2/alerts"))
        .json(&serde_json::json!([{"labels": {"alertname": "Sneaky"}}]))
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    // A Prometheus whose only rule always fires, sending to us.
    std::fs::write(
        dir.path().join("always.yml"),
        "groups:\n  - name: g\n    interval: 1s\n    rules:\n      - alert: AlwaysFiring\n        expr: vector(1)\n        labels:\n          severity: page\n        annotations:\n          summary: it fires\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  evaluation_interval: 1s\nrule_files:\n  - always.yml\nalerting:\n  alertmanagers:\n    - api_version: v2\n      authorization:\n        credentials: s3cret\n      static_configs:\n        - targets: ['{ours}']\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let _p = Peer(
        Command::new(prom)
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Resend every second: the first send happens before service
            // discovery has handed the notifier its Alertmanager.
            .arg("--rules.alert.resend-delay=1s")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let got = until(60, || {
        let m = received.alerts.lock().unwrap();
        m.values()
            .find(|a| a.labels.get("alertname").map(String::as_str) == Some("AlwaysFiring"))
            .cloned()
    })
    .expect("Prometheus delivered its alert to our /api/v2/alerts");
    assert_eq!(got.labels.get("severity").map(String::as_str), Some("page"));
    assert_eq!(
        got.annotations.get("summary").map(String::as_str),
        Some("it fires")
    );
    assert!(
        got.generator_url.contains("/graph"),
        "{}",
        got.generator_url
    );
}
