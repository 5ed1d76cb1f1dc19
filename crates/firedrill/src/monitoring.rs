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
    rules_task: tokio::task::JoinHandle<()>,
}

/// The topology's SLO rules plus extra rule files, checked before anything starts.
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
    for f in extra {
        groups.extend(alerting::rules::load_rules(f)?);
    }
    Ok(groups)
}

/// Where evaluated alerts go until the router takes them.
struct LogSink;

impl AlertSink for LogSink {
    fn send(&self, alerts: Vec<alerting::rules::OutgoingAlert>) {
        for a in alerts.iter().filter(|a| a.ends_at > chrono::Utc::now()) {
            tracing::info!(alert = %a.labels.get("alertname").map(String::as_str).unwrap_or(""), labels = ?a.labels, "alert firing");
        }
    }
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

impl Monitoring {
    /// Opens the store (replaying what a previous run left) and starts scraping.
    pub fn start(
        data_dir: &Path,
        sup: Arc<Supervisor>,
        cp: SocketAddr,
        interval: Duration,
        retention: Duration,
        rule_groups: Vec<RuleGroup>,
        evaluation_interval: Duration,
    ) -> Result<Self> {
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
        let rules = Arc::new(RuleManager::new(
            rule_groups,
            evaluation_interval,
            &format!("http://{cp}/graph"),
        ));
        let rules_task = tokio::spawn(rules.clone().run(tsdb.clone(), Arc::new(LogSink)));
        // The store's own background thread syncs the WAL, writes snapshots
        // and enforces retention.
        Ok(Monitoring {
            tsdb,
            scraper,
            rules,
            rules_task,
        })
    }

    /// The Prometheus HTTP API over the store.
    pub fn router(&self) -> Router {
        let db = self.tsdb.clone();
        let tsdb_status: telemetry::api::StatusFn = Arc::new(move || {
            let s = db.stats();
            serde_json::json!({
                "headStats": {
                    "numSeries": s.series,
                    "chunkCount": s.chunks,
                    "minTime": s.min_t.unwrap_or(0),
                    "maxTime": s.max_t.unwrap_or(0),
                },
                "seriesCountByMetricName": [],
                "labelValueCountByLabelName": [],
                "memoryInBytesByLabelName": [],
                "seriesCountByLabelValuePair": [],
                "firedrill": {
                    "samples": s.samples,
                    "chunkBytes": s.chunk_bytes,
                    "bytesPerSample": s.bytes_per_sample,
                    "memoryBytes": db.memory_bytes(),
                },
            })
        });
        let statuses = self.scraper.statuses_fn();
        let metadata = self.scraper.metadata_fn();
        PromApi {
            storage: self.tsdb.clone(),
            engine: Engine::default(),
            targets: statuses,
            metadata,
            tsdb_status: Some(tsdb_status),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
        .router()
        .merge(self.rules.clone().router())
    }

    /// Stops scraping and writes a snapshot so the next start loses nothing.
    pub fn close(self) {
        self.rules_task.abort();
        drop(self.scraper);
        if let Err(e) = self.tsdb.close() {
            tracing::warn!(error = %e, "could not write the final metrics snapshot");
        }
    }
}
