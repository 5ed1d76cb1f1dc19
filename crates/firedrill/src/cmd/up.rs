//! `firedrill up`: the control plane in one process, the instances as children.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use lab::api::LabApi;
use lab::loadgen::{DailyPattern, LoadGen, LoadGenConfig};
use lab::supervisor::{LaunchSpec, Supervisor, SupervisorConfig};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use wire::{EventSink, NewEvent};

use crate::cli::{Cli, UpArgs};
use crate::datadir::{self, LabRecord};
use crate::output::paint;
use crate::progress::Spinner;

pub async fn run(cli: &Cli, args: &UpArgs) -> Result<()> {
    let started = Instant::now();
    let topology = lab::topology::resolve(&args.topology)?;
    let rule_groups = crate::monitoring::load_rule_groups(&topology.name, &args.rules)?;
    let alerting_setup = crate::monitoring::load_alerting(
        args.alertmanager_config.as_deref(),
        args.forward_alerts.clone(),
    )?;
    let oncall_cfg = crate::oncall::load(args.oncall.as_deref())?;
    let data_dir = datadir::prepare(&cli.data_dir)?;
    let token = datadir::token(&data_dir)?;
    if args.scrape_interval < Duration::from_secs(1) {
        anyhow::bail!("--scrape-interval must be at least 1s");
    }

    // Bind the control plane first: a busy port fails before anything starts.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} for the control plane (in use by another lab or program?): choose another address with --listen 127.0.0.1:PORT",
                args.listen
            )
        })?;
    let cp_addr = listener.local_addr()?;
    let url = format!("http://{cp_addr}");

    let open_reads = cp_addr.ip().is_loopback();
    let journal = open_journal(&data_dir, args.database_url.as_deref()).await?;
    let tokens = store::Tokens::new(journal.db().clone(), &token);
    let events: Arc<dyn EventSink> = Arc::new(journal.clone());
    // The lab's timer loops, stopped together first; the server stops last,
    // gracefully, on `stop`.
    let stop = CancellationToken::new();
    // Cancelled as soon as the lab starts to stop: queries under way end.
    let stopping = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let spinner = Spinner::new(&format!("starting the {} lab", topology.name));
    let cfg = SupervisorConfig {
        launch: LaunchSpec {
            program: std::env::current_exe().context("locating the firedrill binary")?,
            args: vec!["__instance".into()],
            lab: topology.name.clone(),
            topology_json: data_dir.join("run").join("topology.json"),
            data_dir: data_dir.clone(),
            registry_url: format!("{url}/api/lab/registry"),
        },
        base_port: args.base_port,
        token: token.clone(),
        drain_delay: Duration::from_millis(1200),
        topology,
    };
    let entry = cfg.topology.entry.clone();
    let journeys = cfg.topology.journeys.clone();
    let params = cfg.topology.params.clone();

    // The control plane must answer the registry while instances start.
    let shutdown = Arc::new(Notify::new());
    let sup_slot: Arc<tokio::sync::OnceCell<Arc<Supervisor>>> = Arc::default();
    let early = early_router(sup_slot.clone());
    let (router_tx, router_rx) = tokio::sync::watch::channel(early);
    let server = tokio::spawn(serve(listener, router_rx, stop.clone()));

    let slot = sup_slot.clone();
    let created = move |s: Arc<Supervisor>| {
        let _ = slot.set(s);
    };
    let sup = Supervisor::start(cfg, events.clone(), created, |done, total| {
        spinner.set(&format!("starting instances {done}/{total}"));
    })
    .await;
    let sup = match sup {
        Ok(s) => s,
        Err(e) => {
            spinner.fail();
            stop.cancel();
            server.abort();
            return Err(e.into());
        }
    };

    let entry_sup = sup.clone();
    let entry_addrs: lab::loadgen::EntryAddrs = Arc::new(move || {
        entry_sup
            .instances()
            .into_iter()
            .filter(|i| i.service == entry && i.in_rotation())
            .map(|i| i.addr)
            .collect()
    });
    let loadgen = Arc::new(LoadGen::start(
        journeys,
        entry_addrs,
        LoadGenConfig {
            rps: args.rps,
            pattern: args.daily.then_some(DailyPattern {
                period: args.day_length,
                ..DailyPattern::default()
            }),
            params,
            ..LoadGenConfig::default()
        },
    ));

    let lab_api = LabApi {
        supervisor: sup.clone(),
        loadgen: loadgen.clone(),
        shutdown: shutdown.clone(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default(),
    };
    let mon_cfg = crate::monitoring::MonitoringConfig {
        scrape_interval: args.scrape_interval,
        retention: args.retention,
        rule_groups,
        evaluation_interval: args.evaluation_interval.unwrap_or(args.scrape_interval),
        alerting: alerting_setup,
        events: events.clone(),
        db: journal.db().clone(),
        stopping: stopping.clone(),
    };
    let monitoring =
        match crate::monitoring::Monitoring::start(&data_dir, sup.clone(), cp_addr, mon_cfg) {
            Ok(m) => m,
            Err(e) => {
                abandon(&spinner, &sup, &stop, &server).await;
                return Err(e);
            }
        };
    let oncall = crate::oncall::start(oncall_cfg, &journal, &monitoring.router, &url);
    tasks.spawn(oncall.clone().run_timers(Duration::from_secs(1)));
    let faults =
        chaos::FaultController::new(sup.clone(), events.clone(), token.clone(), data_dir.clone());
    tasks.spawn(faults.clone().run());
    let drills =
        crate::drills::start(&sup, &loadgen, &faults, &journal, &monitoring, &oncall).await;
    tasks.spawn(drills.clone().run(Duration::from_millis(500)));
    let wheel = match crate::wheel::start(&journal, &url, &token, &data_dir).await {
        Ok(w) => w,
        Err(e) => {
            abandon(&spinner, &sup, &stop, &server).await;
            return Err(e);
        }
    };
    let cp_metrics = Arc::new(ControlPlaneMetrics::new(&sup, &drills));
    let router = lab_api
        .router()
        .merge(monitoring.router())
        .merge(oncall::api::router(oncall))
        .merge(chaos::faults::api::router(faults.clone()))
        .merge(store::api::router(journal.clone(), tokens.clone()))
        .merge(drills::api::router(drills))
        .merge(wheel::api::router(wheel.clone()))
        .merge(metrics_router(loadgen.clone(), cp_metrics));
    // The recorder of players' commands runs inside the guard (it reads
    // the caller the guard found).
    let router = wheel::record::apply(wheel, router);
    let guard = wire::access::Guard::new(crate::routes::all(), Arc::new(tokens), open_reads);
    let router = guard.apply(router);
    let _ = router_tx.send(router);
    spinner.done(&format!(
        "{} lab up in {:.2}s",
        sup.topology().name,
        started.elapsed().as_secs_f64()
    ));

    datadir::write_record(
        &data_dir,
        &LabRecord {
            url: url.clone(),
            pid: std::process::id(),
            topology: sup.topology().name.clone(),
            started_at: chrono::Utc::now(),
        },
    )?;
    print_banner(&sup, &url, &data_dir, open_reads);

    wait_for_stop(&shutdown).await;
    eprintln!("stopping the lab…");
    stopping.cancel();
    drop(loadgen);
    // The timer loops (fault expiry, on-call escalation) end at once.
    tasks.shutdown().await;
    // Every fault ends before the instances stop: no paused process, no
    // burning thread, no fill file outlives the lab.
    faults.shutdown().await;
    sup.shutdown().await;
    monitoring.close();
    wire::sink::append_or_log(
        events.as_ref(),
        NewEvent::new("lab.stopped", "supervisor", &sup.topology().name),
    )
    .await;
    datadir::remove_record(&data_dir);
    // The server stops taking connections and finishes the requests under
    // way; streams still open after a grace period are cut.
    stop.cancel();
    let abort = server.abort_handle();
    if tokio::time::timeout(Duration::from_secs(2), server)
        .await
        .is_err()
    {
        abort.abort();
    }
    journal.db().close().await;
    Ok(())
}

/// Opens the database (SQLite in the data dir, or `--database-url`) and
/// its journal.
async fn open_journal(data_dir: &std::path::Path, url: Option<&str>) -> Result<store::Journal> {
    let url = url
        .map(str::to_string)
        .unwrap_or_else(|| store::Db::sqlite_url(data_dir));
    let db = store::Db::open(&url).await.with_context(|| {
        format!(
            "opening the database {}",
            store::db::url_without_password(&url)
        )
    })?;
    Ok(store::Journal::new(db))
}

fn print_banner(sup: &Supervisor, url: &str, data_dir: &std::path::Path, open_reads: bool) {
    let topo = sup.topology();
    let entry = sup
        .instances()
        .into_iter()
        .find(|i| i.service == topo.entry)
        .map(|i| format!("http://{}/", i.addr))
        .unwrap_or_default();
    let n = sup.instances().len();
    println!();
    println!("  {}  {entry}", paint("frontend     ", "1"));
    println!(
        "  {}  {url}   (Prometheus API at {url}/api/v1)",
        paint("control plane", "1")
    );
    println!("  {}  {}", paint("data dir     ", "1"), data_dir.display());
    println!(
        "\n  {} services, {n} instances, traffic flowing. Next: in another terminal run `firedrill status`.",
        topo.services.len()
    );
    if !open_reads {
        println!(
            "  {} the control plane listens beyond loopback: every request, reads included, needs a token (`firedrill token create`).",
            paint("note", "1;33")
        );
    }
    println!("  Ctrl-C stops everything.\n");
}

async fn wait_for_stop(shutdown: &Notify) {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term_fut = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term_fut => {}
        _ = shutdown.notified() => {}
    }
}

/// Serves whatever router is current (swapped once the lab is up) until
/// `stop`, then finishes the requests under way.
/// A start that failed once the instances were up: the spinner says so,
/// the instances stop and the server ends.
async fn abandon(
    spinner: &Spinner,
    sup: &Supervisor,
    stop: &CancellationToken,
    server: &tokio::task::JoinHandle<()>,
) {
    spinner.fail();
    sup.shutdown().await;
    stop.cancel();
    server.abort();
}

async fn serve(
    listener: tokio::net::TcpListener,
    routers: tokio::sync::watch::Receiver<Router>,
    stop: CancellationToken,
) {
    let svc = tower_service(routers);
    if let Err(e) = axum::serve(listener, svc)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
    {
        tracing::error!(error = %e, "control plane server stopped");
    }
}

fn tower_service(
    routers: tokio::sync::watch::Receiver<Router>,
) -> axum::routing::IntoMakeService<Router> {
    let dispatch = Router::new().fallback(move |req: axum::extract::Request| {
        let router = routers.borrow().clone();
        async move {
            use tower::ServiceExt;
            router.oneshot(req).await
        }
    });
    dispatch.into_make_service()
}

/// Before the supervisor exists: the registry (instances ask for it while
/// starting) answers from the supervisor once set, empty before.
fn early_router(slot: Arc<tokio::sync::OnceCell<Arc<Supervisor>>>) -> Router {
    Router::new().route(
        "/api/lab/registry",
        get(move || {
            let slot = slot.clone();
            async move {
                let services = slot.get().map(|s| s.registry()).unwrap_or_default();
                axum::Json(serde_json::json!({ "services": services }))
            }
        }),
    )
}

/// The control plane's own metrics (`job="firedrill"`).
struct ControlPlaneMetrics {
    registry: prometheus_client::registry::Registry,
}

impl ControlPlaneMetrics {
    fn new(sup: &Supervisor, drills: &drills::engine::DrillEngine) -> Self {
        let mut registry = prometheus_client::registry::Registry::default();
        sup.metrics().register(&mut registry);
        drills.metrics().register(&mut registry);
        ControlPlaneMetrics { registry }
    }

    fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";

fn metrics_router(loadgen: Arc<LoadGen>, cp: Arc<ControlPlaneMetrics>) -> Router {
    Router::new()
        .route(
            "/loadgen/metrics",
            get(|State(l): State<Arc<LoadGen>>| async move {
                (
                    [(axum::http::header::CONTENT_TYPE, EXPOSITION)],
                    l.metrics_text(),
                )
            })
            .with_state(loadgen),
        )
        .route(
            "/metrics",
            get(|State(c): State<Arc<ControlPlaneMetrics>>| async move {
                ([(axum::http::header::CONTENT_TYPE, EXPOSITION)], c.encode())
            })
            .with_state(cp),
        )
}
