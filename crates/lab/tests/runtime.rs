//! The service runtime, in process: real HTTP servers on loopback, a real
//! registry, real downstream calls.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::get;
use lab::runtime::{RuntimeConfig, run};
use lab::topology::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn endpoint(method: &str, route: &str, calls: Vec<Call>) -> Endpoint {
    Endpoint {
        method: method.into(),
        route: route.into(),
        handler: Handler::Generic,
        latency: Latency {
            median: ms(1),
            p99: ms(3),
        },
        cpu: Duration::ZERO,
        response_bytes: 600,
        content_type: "text/html".into(),
        calls,
        parallel_calls: false,
    }
}

fn call(service: &str, path: &str, critical: bool, fallback: Option<Fallback>) -> Call {
    Call {
        service: service.into(),
        method: "GET".into(),
        path: path.into(),
        critical,
        timeout: ms(300),
        retries: 1,
        backoff: ms(5),
        fallback,
        probability: 1.0,
    }
}

fn service(name: &str, endpoints: Vec<Endpoint>) -> Service {
    let mut versions = BTreeMap::new();
    versions.insert(
        "v1".to_string(),
        VersionProfile {
            cpu_factor: 1.0,
            ..VersionProfile::default()
        },
    );
    versions.insert(
        "bad".to_string(),
        VersionProfile {
            error_rate: 1.0,
            error_status: 503,
            cpu_factor: 1.0,
            ..VersionProfile::default()
        },
    );
    Service {
        name: name.into(),
        description: String::new(),
        instances: 1,
        version: "v1".into(),
        versions,
        endpoints,
        background: None,
        runtime: RuntimeDefaults {
            health_check_interval: ms(100),
            eject_after_failures: 2,
            ..RuntimeDefaults::default()
        },
    }
}

fn topology() -> Topology {
    let mut params = BTreeMap::new();
    params.insert("item".to_string(), vec!["A1".to_string()]);
    Topology {
        name: "mini".into(),
        description: String::new(),
        entry: "web".into(),
        services: vec![
            service(
                "web",
                vec![endpoint(
                    "GET",
                    "/page/{id}",
                    vec![
                        call("catalog", "/items/{id}", true, None),
                        call("ads", "/ads", false, Some(Fallback::Omit)),
                        call(
                            "prices",
                            "/price/{item}",
                            false,
                            Some(Fallback::Static("EUR 1.00".into())),
                        ),
                    ],
                )],
            ),
            service("catalog", vec![endpoint("GET", "/items/{id}", vec![])]),
            service("ads", vec![endpoint("GET", "/ads", vec![])]),
            service("prices", vec![endpoint("GET", "/price/{item}", vec![])]),
        ],
        journeys: vec![],
        params,
    }
}

type Registry = Arc<Mutex<BTreeMap<String, Vec<SocketAddr>>>>;

async fn start_registry() -> (String, Registry) {
    let reg: Registry = Arc::default();
    let r2 = reg.clone();
    let app = axum::Router::new().route(
        "/api/lab/registry",
        get(move || {
            let r = r2.clone();
            async move { Json(serde_json::json!({ "services": *r.lock().unwrap() })) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/api/lab/registry"), reg)
}

fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = self.task.await;
    }
}

async fn start(
    t: &Topology,
    svc: &str,
    version: &str,
    dir: &std::path::Path,
    reg_url: &str,
) -> Running {
    let addr = free_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let cfg = RuntimeConfig {
        topology: t.clone(),
        service: svc.into(),
        index: 0,
        version: version.into(),
        listen: addr,
        data_dir: dir.to_path_buf(),
        registry_url: reg_url.into(),
        token: "secret".into(),
    };
    let task = tokio::spawn(async move {
        run(cfg, async move {
            let _ = rx.await;
        })
        .await
        .expect("instance runs");
    });
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(ms(20)).await;
    }
    Running {
        addr,
        stop: Some(tx),
        task,
    }
}

async fn wait_ready(client: &reqwest::Client, addr: SocketAddr) {
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("http://{addr}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(ms(20)).await;
    }
    panic!("{addr} never became ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fallbacks_metrics_traces_and_admin() {
    let dir = tempfile::tempdir().unwrap();
    let t = topology();
    let (reg_url, reg) = start_registry().await;
    let catalog = start(&t, "catalog", "v1", dir.path(), &reg_url).await;
    let ads = start(&t, "ads", "v1", dir.path(), &reg_url).await;
    let prices = start(&t, "prices", "bad", dir.path(), &reg_url).await;
    {
        let mut r = reg.lock().unwrap();
        r.insert("catalog".into(), vec![catalog.addr]);
        r.insert("ads".into(), vec![ads.addr]);
        r.insert("prices".into(), vec![prices.addr]);
    }
    let web = start(&t, "web", "v1", dir.path(), &reg_url).await;
    let client = reqwest::Client::new();
    wait_ready(&client, web.addr).await;

    // All parts present; prices (version "bad") fails, so its static fallback shows.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let resp = client
        .get(format!("http://{}/page/42", web.addr))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<section class=\"catalog\">"), "{html}");
    assert!(html.contains("<section class=\"ads\">"), "{html}");
    assert!(html.contains("EUR 1.00"), "{html}");
    assert!(
        html.len() >= 600,
        "padded to response_bytes: {}",
        html.len()
    );

    // The trace spans both the server span and its three client spans, with
    // the callee's server span as a child of the caller's client span.
    let spans: serde_json::Value = client
        .get(format!("http://{}/traces/{trace_id}", web.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let spans = spans["spans"].as_array().unwrap().clone();
    let server = spans
        .iter()
        .find(|s| s["kind"] == "server")
        .expect("server span");
    assert_eq!(server["parent_span_id"], "00f067aa0ba902b7");
    let client_to_catalog = spans
        .iter()
        .find(|s| {
            s["kind"] == "client"
                && s["name"]
                    .as_str()
                    .unwrap()
                    .contains("catalog GET /items/42")
        })
        .expect("client span for catalog with the filled path");
    let callee: serde_json::Value = client
        .get(format!("http://{}/traces/{trace_id}", catalog.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        callee["spans"][0]["parent_span_id"],
        client_to_catalog["span_id"]
    );

    // Optional dependency down: the page renders without it.
    ads.stop().await;
    let html = client
        .get(format!("http://{}/page/1", web.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 200);
    assert!(!html.text().await.unwrap().contains("class=\"ads\""));

    // Critical dependency down: the request fails with 503 (refused / no instances).
    catalog.stop().await;
    let r = client
        .get(format!("http://{}/page/1", web.addr))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_server_error(), "{}", r.status());

    // Metrics with DESIGN.md names and labels.
    let m = client
        .get(format!("http://{}/metrics", web.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "http_server_request_duration_seconds_bucket{",
        "http_route=\"/page/{id}\"",
        "http_request_method=\"GET\"",
        "http_response_status_code=\"200\"",
        "http_client_request_duration_seconds_count{",
        "server=\"catalog\"",
        "error_type=\"connection_refused\"",
        "service_version_info{version=\"v1\"} 1",
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_open_fds ",
        "process_start_time_seconds ",
    ] {
        assert!(m.contains(needle), "missing {needle} in\n{m}");
    }

    // Admin: token required; bad keys rejected with a reason; good keys applied.
    let url = format!("http://{}/admin/config", web.addr);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    let r = client
        .patch(&url)
        .bearer_auth("secret")
        .json(&serde_json::json!({"nonsense": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let err: serde_json::Value = r.json().await.unwrap();
    assert!(err["error"].as_str().unwrap().contains("nonsense"), "{err}");
    let r = client
        .patch(&url)
        .bearer_auth("secret")
        .json(&serde_json::json!({"timeout.catalog": "50ms", "concurrency_limit": 7, "draining": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cfg: serde_json::Value = r.json().await.unwrap();
    assert_eq!(cfg["config"]["timeouts"]["catalog"], "50ms");
    assert_eq!(cfg["config"]["concurrency_limit"], 7);
    let ready = client
        .get(format!("http://{}/readyz", web.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503, "a draining instance is not ready");

    // The request log has JSON lines with trace ids.
    let log = std::fs::read_to_string(dir.path().join("logs/web-0.jsonl")).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains(trace_id))
        .expect("a line with the trace id");
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["service"], "web");

    prices.stop().await;
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejects_a_failing_instance_and_restores_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = topology();
    // web -> catalog only, with two catalog instances.
    t.services[0].endpoints[0].calls.truncate(1);
    let (reg_url, reg) = start_registry().await;
    let good = start(&t, "catalog", "v1", dir.path(), &reg_url).await;
    let bad = start(&t, "catalog", "bad", dir.path(), &reg_url).await;
    reg.lock()
        .unwrap()
        .insert("catalog".into(), vec![good.addr, bad.addr]);
    let web = start(&t, "web", "v1", dir.path(), &reg_url).await;
    let client = reqwest::Client::new();
    wait_ready(&client, web.addr).await;
    let r = client
        .patch(format!("http://{}/admin/config", web.addr))
        .bearer_auth("secret")
        .json(&serde_json::json!({"ejection_time": "300ms"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The bad instance answers 503 to every request; after 2 failed calls
    // it is ejected and retries go to the good one, so users see success.
    let mut ok = 0;
    for _ in 0..20 {
        if client
            .get(format!("http://{}/page/1", web.addr))
            .send()
            .await
            .unwrap()
            .status()
            == 200
        {
            ok += 1;
        }
    }
    assert_eq!(ok, 20, "retries and ejection hide the bad instance");
    let m = client
        .get(format!("http://{}/metrics", web.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("lab_upstream_ejections_total{server=\"catalog\"} 1"),
        "{m}"
    );
    // Its /readyz passes, so the active health check restores it once the
    // ejection time has passed.
    tokio::time::sleep(ms(700)).await;
    let log = std::fs::read_to_string(dir.path().join("logs/web-0.jsonl")).unwrap();
    assert!(log.contains("upstream instance ejected"));
    assert!(log.contains("upstream instance restored"));
    good.stop().await;
    bad.stop().await;
    web.stop().await;
}

/// Found by the soak benchmark (issue 11): a request whose caller gave up
/// (its future dropped mid-work) was never counted out, so an instance
/// behind timing-out callers reached its concurrency limit and refused
/// every request for good. It is counted out however it ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_abandoned_by_their_callers_are_counted_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut slow = endpoint("GET", "/slow", vec![]);
    slow.latency = Latency {
        median: ms(400),
        p99: ms(500),
    };
    let mut t = topology();
    t.services.push(service("sleepy", vec![slow]));
    let (reg_url, _reg) = start_registry().await;
    let inst = start(&t, "sleepy", "v1", dir.path(), &reg_url).await;
    let impatient = reqwest::Client::builder().timeout(ms(30)).build().unwrap();
    for _ in 0..20 {
        let r = impatient
            .get(format!("http://{}/slow", inst.addr))
            .send()
            .await;
        assert!(r.is_err(), "the caller gives up first");
    }
    let client = reqwest::Client::new();
    let active = || async {
        let text = client
            .get(format!("http://{}/metrics", inst.addr))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find(|l| l.starts_with("http_server_active_requests"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(-1.0)
    };
    let mut now = -1.0;
    for _ in 0..100 {
        now = active().await;
        if now == 0.0 {
            break;
        }
        tokio::time::sleep(ms(20)).await;
    }
    assert_eq!(now, 0.0, "abandoned requests are no longer counted");
    inst.stop().await;
}
