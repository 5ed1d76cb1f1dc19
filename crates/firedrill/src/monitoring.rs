//! The lab's monitoring inside `firedrill up`: the store in the data dir,
//! the scraper over every instance, the load generator and the control
//! plane, and the Prometheus HTTP API on the control plane.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use alerting::rules::{AlertSink, RuleGroup, RuleManager};
use anyhow::{Context, Result};
use axum::Router;
use lab::supervisor::{InstanceState, Supervisor};
use telemetry::api::PromApi;
use telemetry::promql::Engine;
use telemetry::scrape::{ScrapeConfig, Scraper, Target};
use telemetry::tsdb::{Tsdb, TsdbOptions};

pub struct Monitoring {
    pub tsdb: Arc<Tsdb>,
    pub scraper: Scraper,
    pub rules: Arc<RuleManager>,
    pub router: Arc<alerting::route::Router>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    stopping: tokio_util::sync::CancellationToken,
}

/// The topology's SLO rules, its bundled cause-based rules and extra rule
/// files, checked before anything starts.
pub fn load_rule_groups(topology: &str, extra: &[std::path::PathBuf]) -> Result<Vec<RuleGroup>> {
    let mut groups = Vec::new();
    if let Some(spec) = alerting::slo::bundled::bundled_spec(topology) {
        let slos = alerting::slo::parse_spec(spec, &format!("bundled:{topology}"))?;
        let text = alerting::slo::rule_file(&slos);
        groups.extend(alerting::rules::parse_rules(
            &text,
            &format!("slo:{topology}"),
        )?);
    }
    for file in alerting::rules::bundled::bundled_rules(topology) {
        groups.extend(alerting::rules::parse_rules(
            file.text,
            &format!("bundled:{}", file.name),
        )?);
    }
    for f in extra {
        groups.extend(alerting::rules::load_rules(f)?);
    }
    Ok(groups)
}

/// Routing settings of `up`.
pub struct AlertingSetup {
    pub config: alerting::route::Config,
    pub forward: Option<String>,
}

/// Loads the routing config (or the default), failing with file:line:column.
pub fn load_alerting(file: Option<&Path>, forward: Option<String>) -> Result<AlertingSetup> {
    let config = match file {
        Some(f) => {
            let config = alerting::route::load_config(f)?;
            for note in &config.notes {
                tracing::warn!("{note}");
            }
            config
        }
        None => alerting::route::parse_config(
            alerting::route::service::DEFAULT_CONFIG,
            "default routing",
        )?,
    };
    Ok(AlertingSetup { config, forward })
}

/// Every scrape target of the lab right now.
fn targets(sup: &Supervisor, cp: SocketAddr) -> Vec<Target> {
    let mut out: Vec<Target> = sup
        .instances()
        .into_iter()
        .filter(|i| !matches!(i.state, InstanceState::Stopped))
        .map(|i| {
            let addr = i.addr.to_string();
            Target::new(&i.service, &addr, &format!("http://{addr}/metrics"))
        })
        .collect();
    let cp = cp.to_string();
    out.push(Target::new(
        "loadgen",
        &cp,
        &format!("http://{cp}/loadgen/metrics"),
    ));
    out.push(Target::new(
        "firedrill",
        &cp,
        &format!("http://{cp}/metrics"),
    ));
    out
}

/// How `up` sets monitoring up.
pub struct MonitoringConfig {
    pub scrape_interval: Duration,
    pub retention: Duration,
    pub rule_groups: Vec<RuleGroup>,
    pub evaluation_interval: Duration,
    pub alerting: AlertingSetup,
    /// The journal: alert transitions, notification outcomes, silences.
    pub events: Arc<dyn wire::EventSink>,
    /// The database the notification log lives in.
    pub db: store::Db,
    /// Cancelled when the lab starts to stop: PromQL queries under way end.
    pub stopping: tokio_util::sync::CancellationToken,
}

impl Monitoring {
    /// Opens the store (replaying what a previous run left) and starts
    /// scraping, rule evaluation and alert routing.
    pub fn start(
        data_dir: &Path,
        sup: Arc<Supervisor>,
        cp: SocketAddr,
        cfg: MonitoringConfig,
    ) -> Result<Self> {
        let MonitoringConfig {
            scrape_interval: interval,
            retention,
            rule_groups,
            evaluation_interval,
            alerting: alerting_setup,
            events,
            db,
            stopping,
        } = cfg;
        let dir = data_dir.join("tsdb");
        let opts = TsdbOptions {
            retention,
            ..TsdbOptions::default()
        };
        let tsdb = Arc::new(
            Tsdb::open(&dir, opts)
                .with_context(|| format!("opening the metrics store in {}", dir.display()))?,
        );
        let scraper = Scraper::start(
            tsdb.clone(),
            Arc::new(move || targets(&sup, cp)),
            ScrapeConfig {
                interval,
                timeout: interval.mul_f64(0.8).min(Duration::from_secs(10)),
            },
        );
        let log =
            alerting::notify::NotificationLog::new(db, alerting::notify::Retention::default());
        let sender = alerting::notify::Sender::start_journaled(
            log,
            alerting::notify::RetryPolicy::default(),
            events.clone(),
        );
        let silences = Arc::new(alerting::route::Silences::open(Some(
            data_dir.join("silences.json"),
        ))?);
        let router = alerting::route::Router::new(
            alerting_setup.config,
            silences,
            sender,
            &format!("http://{cp}"),
        );
        let mut sinks: Vec<Arc<dyn AlertSink>> = vec![router.clone()];
        if let Some(url) = &alerting_setup.forward {
            sinks.push(Arc::new(alerting::forward::Forwarder::start(url)));
        }
        let rules = Arc::new(RuleManager::new(
            rule_groups,
            evaluation_interval,
            &format!("http://{cp}/graph"),
        ));
        let tasks = vec![
            tokio::spawn(rules.clone().run(
                tsdb.clone(),
                Arc::new(alerting::forward::Fanout(sinks)),
                events,
            )),
            tokio::spawn(router.clone().run(Duration::from_millis(500))),
        ];
        // The store's own background thread syncs the WAL, writes snapshots
        // and enforces retention.
        Ok(Monitoring {
            tsdb,
            scraper,
            rules,
            router,
            tasks,
            stopping,
        })
    }

    /// The Prometheus HTTP API over the store.
    pub fn router(&self) -> Router {
        let tsdb_status = telemetry::tsdb::status::status_fn(self.tsdb.clone());
        let statuses = self.scraper.statuses_fn();
        let metadata = self.scraper.metadata_fn();
        PromApi {
            storage: self.tsdb.clone(),
            engine: Engine::default(),
            targets: statuses,
            metadata,
            tsdb_status: Some(tsdb_status),
            version: env!("CARGO_PKG_VERSION").to_string(),
            stopping: Some(self.stopping.clone()),
        }
        .router()
        .merge(self.rules.clone().router())
        .merge(self.router.clone().api())
    }

    /// Stops scraping and writes a snapshot so the next start loses nothing.
    pub fn close(self) {
        for t in &self.tasks {
            t.abort();
        }
        drop(self.scraper);
        if let Err(e) = self.tsdb.close() {
            tracing::warn!(error = %e, "could not write the final metrics snapshot");
        }
    }
}
