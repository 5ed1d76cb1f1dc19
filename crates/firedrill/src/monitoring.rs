//! The lab's monitoring inside `firedrill up`: the store in the data dir,
//! the scraper over every instance, the load generator and the control
//! plane, and the Prometheus HTTP API on the control plane.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

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
        // The store's own background thread syncs the WAL, writes snapshots
        // and enforces retention.
        Ok(Monitoring { tsdb, scraper })
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
    }

    /// Stops scraping and writes a snapshot so the next start loses nothing.
    pub fn close(self) {
        drop(self.scraper);
        if let Err(e) = self.tsdb.close() {
            tracing::warn!(error = %e, "could not write the final metrics snapshot");
        }
    }
}
