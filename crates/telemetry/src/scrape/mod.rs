//! The scraper: pulls every target's `/metrics` at an interval, labels the
//! samples with `job` and `instance`, adds `up`, `scrape_duration_seconds`
//! and `scrape_samples_scraped`, and writes staleness markers when a series
//! or a whole target disappears, as Prometheus does.

mod cycle;
mod parse;
mod staleness;
pub mod target;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::api::{MetricMetadata, TargetStatus};
use crate::model::Appender;
pub use target::{Target, TargetHealth};

/// Returns the current targets; called at every interval, so targets come and go.
pub type TargetsSource = Arc<dyn Fn() -> Vec<Target> + Send + Sync>;

#[derive(Debug, Clone)]
pub struct ScrapeConfig {
    pub interval: Duration,
    pub timeout: Duration,
}

impl Default for ScrapeConfig {
    fn default() -> Self {
        ScrapeConfig {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(4),
        }
    }
}

#[derive(Default)]
pub(crate) struct Shared {
    pub health: Mutex<BTreeMap<String, (Target, TargetHealth)>>,
    pub metadata: Mutex<BTreeMap<String, MetricMetadata>>,
    /// Series of each target's last scrape, by target key.
    pub seen: Mutex<HashMap<String, staleness::SeenSeries>>,
}

/// A running scraper; stops when dropped.
pub struct Scraper {
    shared: Arc<Shared>,
    cfg: ScrapeConfig,
    task: JoinHandle<()>,
}

impl Drop for Scraper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Scraper {
    pub fn start(
        appender: Arc<dyn Appender>,
        targets: TargetsSource,
        cfg: ScrapeConfig,
    ) -> Scraper {
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(supervise(appender, targets, cfg.clone(), shared.clone()));
        Scraper { shared, cfg, task }
    }

    /// A closure for the API's `/api/v1/targets`.
    pub fn statuses_fn(&self) -> crate::api::TargetsFn {
        let shared = self.shared.clone();
        let cfg = self.cfg.clone();
        Arc::new(move || statuses(&shared, &cfg))
    }

    /// A closure for the API's `/api/v1/metadata`.
    pub fn metadata_fn(&self) -> crate::api::MetadataFn {
        let shared = self.shared.clone();
        Arc::new(move || metadata(&shared))
    }

    /// Targets in the shape of `/api/v1/targets`.
    pub fn target_statuses(&self) -> Vec<TargetStatus> {
        statuses(&self.shared, &self.cfg)
    }

    /// Metric metadata seen in scrapes, for `/api/v1/metadata`.
    pub fn metadata(&self) -> BTreeMap<String, Vec<MetricMetadata>> {
        metadata(&self.shared)
    }
}

fn metadata(shared: &Shared) -> BTreeMap<String, Vec<MetricMetadata>> {
    let m = shared.metadata.lock().unwrap_or_else(|e| e.into_inner());
    m.iter()
        .map(|(k, v)| (k.clone(), vec![v.clone()]))
        .collect()
}

fn statuses(shared: &Shared, cfg: &ScrapeConfig) -> Vec<TargetStatus> {
    let h = shared.health.lock().unwrap_or_else(|e| e.into_inner());
    h.values()
        .map(|(t, s)| {
            let mut labels = t.labels.clone();
            labels.insert("job".into(), t.job.clone());
            labels.insert("instance".into(), t.instance.clone());
            let mut discovered = labels.clone();
            discovered.insert("__address__".into(), t.instance.clone());
            discovered.insert("__scheme__".into(), "http".into());
            discovered.insert("__metrics_path__".into(), metrics_path(&t.url));
            TargetStatus {
                discovered_labels: discovered,
                labels,
                scrape_pool: t.job.clone(),
                scrape_url: t.url.clone(),
                global_url: t.url.clone(),
                last_error: s.last_error.clone(),
                last_scrape: if s.last_scrape_ms > 0 {
                    chrono::DateTime::from_timestamp_millis(s.last_scrape_ms)
                        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                        .unwrap_or_default()
                } else {
                    "0001-01-01T00:00:00Z".into()
                },
                last_scrape_duration: s.last_duration.as_secs_f64(),
                health: match s.up {
                    Some(true) => "up",
                    Some(false) => "down",
                    None => "unknown",
                }
                .into(),
                scrape_interval: format!("{}s", cfg.interval.as_secs_f64()),
                scrape_timeout: format!("{}s", cfg.timeout.as_secs_f64()),
            }
        })
        .collect()
}

fn metrics_path(url: &str) -> String {
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
        .unwrap_or_else(|| "/metrics".into())
}

/// Keeps one scrape loop per target, starting and stopping loops as the
/// target list changes; a removed target gets staleness markers.
async fn supervise(
    appender: Arc<dyn Appender>,
    targets: TargetsSource,
    cfg: ScrapeConfig,
    shared: Arc<Shared>,
) {
    let client = match reqwest::Client::builder().pool_max_idle_per_host(2).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the scrape HTTP client");
            return;
        }
    };
    let mut loops: HashMap<String, JoinHandle<()>> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(500).min(cfg.interval));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let current = targets();
        let keys: std::collections::HashSet<String> = current.iter().map(Target::key).collect();
        // Stop loops of targets that went away (the loop writes its stale markers).
        let gone: Vec<String> = loops
            .keys()
            .filter(|k| !keys.contains(*k))
            .cloned()
            .collect();
        for k in gone {
            if let Some(h) = loops.remove(&k) {
                h.abort();
            }
            let entry = shared
                .health
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&k);
            if let Some((t, _)) = entry {
                cycle::mark_target_stale(&appender, &shared, &t).await;
            }
        }
        for t in current {
            let k = t.key();
            if loops.get(&k).is_some_and(|h| !h.is_finished()) {
                continue;
            }
            shared
                .health
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(k.clone())
                .or_insert_with(|| (t.clone(), TargetHealth::default()));
            let h = tokio::spawn(cycle::scrape_loop(
                t,
                client.clone(),
                appender.clone(),
                cfg.clone(),
                shared.clone(),
            ));
            loops.insert(k, h);
        }
    }
}
