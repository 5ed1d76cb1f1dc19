//! Scrape targets and their last-scrape state.

use std::collections::BTreeMap;
use std::time::Duration;

/// Something to scrape: a URL and the `job`/`instance` labels its series get.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub job: String,
    /// `host:port`, the `instance` label.
    pub instance: String,
    pub url: String,
    /// Extra target labels (e.g. from static config).
    pub labels: BTreeMap<String, String>,
}

impl Target {
    pub fn new(job: &str, instance: &str, url: &str) -> Self {
        Target {
            job: job.to_string(),
            instance: instance.to_string(),
            url: url.to_string(),
            labels: BTreeMap::new(),
        }
    }

    /// A stable key: the same target across target list refreshes.
    pub fn key(&self) -> String {
        format!("{}|{}|{}", self.job, self.instance, self.url)
    }
}

/// The outcome of a target's latest scrape.
#[derive(Debug, Clone, Default)]
pub struct TargetHealth {
    pub up: Option<bool>,
    pub last_error: String,
    /// Unix ms of the last scrape's start (0 = never).
    pub last_scrape_ms: i64,
    pub last_duration: Duration,
    pub samples: usize,
}
