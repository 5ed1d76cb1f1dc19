//! Latency the runtime adds per hop: a 3-hop chain of runtime instances
//! (a -> b -> c, no declared work) against a 3-hop chain of bare hyper
//! servers that forward the same way, measured interleaved in one run.
//!
//! Run: `cargo bench -p lab --bench hop` (prints p50/p99 and per-hop cost).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lab::runtime::{RuntimeConfig, run};
use lab::topology::*;

const ROUNDS: usize = 20;
const PER_ROUND: usize = 100;

fn endpoint(route: &str, next: Option<&str>) -> Endpoint {
    Endpoint {
        method: "GET".into(),
        route: route.into(),
        handler: Handler::Generic,
        latency: Latency::ZERO,
        cpu: Duration::ZERO,
        response_bytes: 64,
        content_type: "application/json".into(),
        calls: next
            .map(|n| {
                vec![Call {
                    service: n.into(),
                    method: "GET".into(),
                    path: "/".into(),
                    critical: true,
                    timeout: Duration::from_secs(1),
                    retries: 0,
                    backoff: Duration::from_millis(10),
                    fallback: None,
                    probability: 1.0,
                }]
            })
            .unwrap_or_default(),
        parallel_calls: false,
    }
}

fn topology() -> Topology {
    let svc = |name: &str, next: Option<&str>| {
        let mut versions = BTreeMap::new();
        versions.insert(
            "v1".to_string(),
            VersionProfile {
                cpu_factor: 1.0,
                ..Default::default()
            },
        );
        Service {
            name: name.into(),
            description: String::new(),
            instances: 1,
            version: "v1".into(),
            versions,
            endpoints: vec![endpoint("/", next)],
            background: None,
            runtime: RuntimeDefaults::default(),
        }
    };
    Topology {
        name: "chain".into(),
        description: String::new(),
        entry: "a".into(),
        services: vec![svc("a", Some("b")), svc("b", Some("c")), svc("c", None)],
        journeys: vec![],
        params: BTreeMap::new(),
    }
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// A bare hyper server answering 64 bytes, or forwarding to `next` first.
async fn bare(next: Option<SocketAddr>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let client = reqwest::Client::new();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let client = client.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |_req: hyper::Request<hyper::body::Incoming>| {
                    let client = client.clone();
                    async move {
                        if let Some(n) = next
                            && let Ok(r) = client.get(format!("http://{n}/")).send().await
                        {
                            let _ = r.bytes().await;
                        }
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(vec![
                            b'.';
                            64
                        ]))))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn time_one(client: &reqwest::Client, url: &str) -> f64 {
    let t = Instant::now();
    let r = client.get(url).send().await.expect("request");
    assert!(r.status().is_success(), "{url}: {}", r.status());
    let _ = r.bytes().await;
    t.elapsed().as_secs_f64() * 1e6
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = topology();
        let addrs: Vec<SocketAddr> = (0..3).map(|_| free_addr()).collect();
        let registry: BTreeMap<String, Vec<SocketAddr>> =
            [("a", addrs[0]), ("b", addrs[1]), ("c", addrs[2])]
                .iter()
                .map(|(n, a)| (n.to_string(), vec![*a]))
                .collect();
        let reg = Arc::new(registry);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let reg_addr = listener.local_addr().expect("addr");
        let app = axum::Router::new().route(
            "/r",
            get(move || {
                let r = reg.clone();
                async move { Json(serde_json::json!({ "services": *r })) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            let cfg = RuntimeConfig {
                topology: t.clone(),
                service: name.to_string(),
                index: 0,
                version: "v1".into(),
                listen: addrs[i],
                data_dir: dir.path().to_path_buf(),
                registry_url: format!("http://{reg_addr}/r"),
                token: "t".into(),
            };
            tokio::spawn(async move { run(cfg, std::future::pending()).await });
        }
        let c = bare(None).await;
        let b = bare(Some(c)).await;
        let a = bare(Some(b)).await;
        let client = reqwest::Client::new();
        let lab_url = format!("http://{}/", addrs[0]);
        let bare_url = format!("http://{a}/");
        // Wait for readiness, then warm up both chains.
        for _ in 0..200 {
            if client
                .get(format!("http://{}/readyz", addrs[0]))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for _ in 0..200 {
            time_one(&client, &lab_url).await;
            time_one(&client, &bare_url).await;
        }
        let (mut lab, mut bare) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            for _ in 0..PER_ROUND {
                lab.push(time_one(&client, &lab_url).await);
            }
            for _ in 0..PER_ROUND {
                bare.push(time_one(&client, &bare_url).await);
            }
        }
        let (l50, l99) = (pct(&mut lab, 0.5), pct(&mut lab, 0.99));
        let (b50, b99) = (pct(&mut bare, 0.5), pct(&mut bare, 0.99));
        println!(
            "3-hop chain, {} sequential requests each, interleaved in {ROUNDS} rounds",
            ROUNDS * PER_ROUND
        );
        println!("{:<22} {:>10} {:>10}", "", "p50 (us)", "p99 (us)");
        println!("{:<22} {:>10.0} {:>10.0}", "firedrill runtime", l50, l99);
        println!("{:<22} {:>10.0} {:>10.0}", "bare hyper forwarder", b50, b99);
        println!(
            "{:<22} {:>10.0} {:>10.0}",
            "added per hop",
            (l50 - b50) / 3.0,
            (l99 - b99) / 3.0
        );
        println!(
            "ratio (runtime/bare)   {:>10.2} {:>10.2}",
            l50 / b50,
            l99 / b99
        );
    });
}
