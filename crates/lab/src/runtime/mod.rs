//! The service runtime: one instance of one service as a real HTTP server.
//! It does its endpoints' declared work, calls its downstreams over HTTP
//! through a client-side load balancer, and exposes `/metrics`, `/healthz`,
//! `/readyz`, `/traces/{id}` and the token-guarded `/admin/config`.

mod admin;
mod background;
pub mod balancer;
mod calls;
pub mod config;
mod discovery;
pub mod faults;
pub mod handler;
mod log;
mod metrics;
pub mod procfs;
mod render;
mod slack;
mod state;
pub mod trace;
pub mod work;

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawPathParams, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, get};
use bytes::Bytes;

use crate::topology::Topology;
pub use config::LiveConfig;
use state::Instance;

/// Routes every instance serves besides its topology endpoints.
pub const RESERVED_ROUTES: &[&str] = &[
    "/metrics",
    "/healthz",
    "/readyz",
    "/admin/config",
    "/admin/faults",
    "/traces/{id}",
];

/// How one instance runs.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    pub topology: Topology,
    pub service: String,
    pub index: u32,
    pub version: String,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// The control plane's registry of instances (`/api/lab/registry`).
    pub registry_url: String,
    /// Bearer token of the admin endpoint.
    pub token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("service {0:?} is not in topology {1:?}")]
    UnknownService(String, String),
    #[error("service {service:?} has no version {version:?} (it has: {known})")]
    UnknownVersion {
        service: String,
        version: String,
        known: String,
    },
    #[error("endpoint {method} {route} of {service}: {reason}")]
    BadEndpoint {
        service: String,
        method: String,
        route: String,
        reason: String,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot open the request log in {dir}: {source}")]
    Log {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("HTTP client: {0}")]
    Client(String),
    #[error("server: {0}")]
    Serve(std::io::Error),
}

fn build_instance(cfg: &RuntimeConfig) -> Result<Arc<Instance>, RuntimeError> {
    let t = &cfg.topology;
    let service = t
        .service(&cfg.service)
        .cloned()
        .ok_or_else(|| RuntimeError::UnknownService(cfg.service.clone(), t.name.clone()))?;
    let profile = service.versions.get(&cfg.version).cloned().ok_or_else(|| {
        RuntimeError::UnknownVersion {
            service: service.name.clone(),
            version: cfg.version.clone(),
            known: service
                .versions
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        }
    })?;
    let log_dir = cfg.data_dir.join("logs");
    let log = log::RequestLog::open(&log_dir, &service.name, cfg.index).map_err(|source| {
        RuntimeError::Log {
            dir: log_dir,
            source,
        }
    })?;
    let mut downstreams: Vec<String> = service
        .endpoints
        .iter()
        .flat_map(|e| e.calls.iter())
        .chain(service.background.iter().flat_map(|b| b.calls.iter()))
        .map(|c| c.service.clone())
        .collect();
    downstreams.sort();
    downstreams.dedup();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_millis(500))
        .build()
        .map_err(|e| RuntimeError::Client(e.to_string()))?;
    Ok(Arc::new(Instance {
        topology: Arc::new(t.clone()),
        name: format!("{}/{}", service.name, cfg.index),
        version: cfg.version.clone(),
        config: RwLock::new(LiveConfig::new(&service.runtime)),
        metrics: metrics::Metrics::new(&cfg.version),
        balancer: balancer::Balancer::default(),
        http,
        spans: trace::SpanStore::new(8192),
        log,
        queue: Mutex::new(VecDeque::new()),
        leak: Mutex::new(Vec::new()),
        in_flight: AtomicU32::new(0),
        token: cfg.token.clone(),
        downstreams,
        ready: AtomicBool::new(false),
        faults: Arc::new(faults::Faults::new(
            cfg.data_dir.clone(),
            format!("{}-{}", service.name, cfg.index),
        )),
        profile,
        service,
    }))
}

/// Checks a route pattern the way axum would accept it, so a bad topology
/// gives an error instead of a panic inside the router.
fn check_route(route: &str) -> Result<(), String> {
    if !route.starts_with('/') {
        return Err("a route starts with '/'".into());
    }
    if RESERVED_ROUTES.contains(&route) {
        return Err(format!("{route} is reserved by the runtime"));
    }
    for seg in route.split('/').skip(1) {
        let opens = seg.matches('{').count();
        let closes = seg.matches('}').count();
        if opens != closes || opens > 1 {
            return Err(format!("segment {seg:?}: one {{param}} per segment"));
        }
        if opens == 1 && !(seg.starts_with('{') && seg.ends_with('}') && seg.len() > 2) {
            return Err(format!(
                "segment {seg:?}: a parameter takes the whole segment"
            ));
        }
        if seg.contains('*') || seg.contains(':') {
            return Err(format!("segment {seg:?}: wildcards are not supported"));
        }
    }
    Ok(())
}

fn router(inst: Arc<Instance>) -> Result<Router, RuntimeError> {
    let mut by_route: BTreeMap<String, MethodRouter<Arc<Instance>>> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for (i, ep) in inst.service.endpoints.iter().enumerate() {
        let bad = |reason: String| RuntimeError::BadEndpoint {
            service: inst.service.name.clone(),
            method: ep.method.clone(),
            route: ep.route.clone(),
            reason,
        };
        check_route(&ep.route).map_err(bad)?;
        let method = Method::from_bytes(ep.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| bad("not an HTTP method".into()))?;
        let filter =
            MethodFilter::try_from(method).map_err(|_| bad("method not routable".into()))?;
        if !seen.insert((ep.method.to_ascii_uppercase(), ep.route.clone())) {
            return Err(bad("declared twice".into()));
        }
        let h = move |State(inst): State<Arc<Instance>>,
                      params: RawPathParams,
                      uri: Uri,
                      headers: HeaderMap,
                      body: Bytes| async move {
            let params = params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            handler::serve(inst, i, params, uri.path().to_string(), headers, body).await
        };
        let mr = by_route.remove(&ep.route).unwrap_or_default().on(filter, h);
        by_route.insert(ep.route.clone(), mr);
    }
    let mut r = Router::new();
    for (route, mr) in by_route {
        r = r.route(&route, mr);
    }
    // Every admin route needs the lab token: checked once, in front of them.
    let admin = Router::new()
        .route(
            "/admin/config",
            get(admin::get_config).patch(admin::patch_config),
        )
        .route(
            "/admin/faults",
            get(admin::list_faults)
                .post(admin::add_fault)
                .delete(admin::clear_faults),
        )
        .route(
            "/admin/faults/{id}",
            axum::routing::delete(admin::clear_fault),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            inst.clone(),
            admin::require_token,
        ));
    Ok(r.route("/metrics", get(metrics_handler))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/traces/{id}", get(trace_handler))
        .merge(admin)
        .fallback(not_found)
        .with_state(inst))
}

/// Gauges read at scrape time: files, the queue's oldest job, the live limit.
async fn metrics_handler(State(inst): State<Arc<Instance>>) -> Response {
    inst.metrics.data_bytes.set(inst.faults.data_bytes() as i64);
    let oldest = state::lock(&inst.queue)
        .front()
        .map(|(queued, _)| queued.elapsed().as_secs_f64())
        .unwrap_or(0.0);
    inst.metrics.queue_oldest_age.set(oldest);
    inst.metrics
        .concurrency_limit
        .set(i64::from(inst.config().concurrency_limit));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        inst.metrics.encode(),
    )
        .into_response()
}

async fn readyz(State(inst): State<Arc<Instance>>) -> Response {
    if inst.draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response()
    } else if !inst.ready.load(Ordering::Relaxed) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "waiting for the registry\n",
        )
            .into_response()
    } else {
        "ready\n".into_response()
    }
}

async fn trace_handler(State(inst): State<Arc<Instance>>, Path(id): Path<String>) -> Response {
    let spans = inst.spans.trace(&id);
    axum::Json(serde_json::json!({ "spans": spans })).into_response()
}

async fn not_found(State(inst): State<Arc<Instance>>, method: Method, uri: Uri) -> Response {
    inst.metrics.observe_server("", method.as_str(), 404, 0.0);
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({
            "error": format!("{} has no endpoint {} {}", inst.service.name, method, uri.path())
        })),
    )
        .into_response()
}

/// Runs the instance until `shutdown` resolves, then stops accepting and
/// lets requests in flight finish (at most 5 s).
pub async fn run(
    cfg: RuntimeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RuntimeError> {
    let inst = build_instance(&cfg)?;
    let app = router(inst.clone())?;
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| RuntimeError::Listen {
            addr: cfg.listen,
            source,
        })?;
    let tasks = vec![
        tokio::spawn(discovery::poll_registry(
            inst.clone(),
            cfg.registry_url.clone(),
        )),
        tokio::spawn(discovery::health_checks(inst.clone())),
        tokio::spawn(background::run(inst.clone())),
        tokio::spawn(faults::expire_loop(inst.faults.clone())),
    ];
    let listener = faults::listener::RefusingListener::new(listener, inst.faults.refusing.clone())
        .map_err(|source| RuntimeError::Listen {
            addr: cfg.listen,
            source,
        })?;
    inst.log.write(
        "info",
        "instance started",
        "",
        &[
            ("listen", serde_json::json!(cfg.listen.to_string())),
            ("version", serde_json::json!(cfg.version)),
        ],
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop_rx.await;
    });
    let server = tokio::spawn(async move { server.await });
    shutdown.await;
    let _ = stop_tx.send(());
    for t in &tasks {
        t.abort();
    }
    inst.faults.clear_all();
    inst.log.write("info", "instance stopping", "", &[]);
    match tokio::time::timeout(Duration::from_secs(5), server).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(e))) => Err(RuntimeError::Serve(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::check_route;

    #[test]
    fn route_checks() {
        assert!(check_route("/product/{id}").is_ok());
        assert!(check_route("/").is_ok());
        assert!(check_route("product").is_err());
        assert!(check_route("/metrics").is_err());
        assert!(check_route("/a/{id").is_err());
        assert!(check_route("/a/x{id}").is_err());
        assert!(check_route("/a/{*rest}").is_err());
    }
}
