//! One target's scrape loop and a single scrape.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::parse::{Scraped, parse};
use super::staleness::SeenSeries;
use super::{ScrapeConfig, Shared, Target, TargetHealth};
use crate::model::{AppendStats, Appender, Labels, Sample};

/// How far from its schedule a scrape may start and still get the scheduled timestamp.
const TIMESTAMP_TOLERANCE_MS: i64 = 25;

const ACCEPT: &str =
    "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1";

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Scrapes `t` every interval until aborted. Start times are spread by a hash
/// of the target so that all targets are not scraped in the same millisecond.
pub async fn scrape_loop(
    t: Target,
    client: reqwest::Client,
    appender: Arc<dyn Appender>,
    cfg: ScrapeConfig,
    shared: Arc<Shared>,
) {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    t.key().hash(&mut h);
    let spread = cfg
        .interval
        .min(Duration::from_millis(250))
        .as_millis()
        .max(1) as u64;
    tokio::time::sleep(Duration::from_millis(h.finish() % spread)).await;
    let mut tick = tokio::time::interval(cfg.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let interval_ms = cfg.interval.as_millis() as i64;
    let mut scheduled = now_ms();
    loop {
        tick.tick().await;
        // Snap the timestamp to the loop's schedule when the tick is on time
        // (as Prometheus's scrape timestamp tolerance does): regular
        // timestamps compress to almost nothing.
        let now = now_ms();
        scheduled = if (now - (scheduled + interval_ms)).abs() <= TIMESTAMP_TOLERANCE_MS {
            scheduled + interval_ms
        } else {
            now
        };
        scrape_once(&t, &client, &appender, &cfg, &shared, scheduled).await;
    }
}

async fn fetch(t: &Target, client: &reqwest::Client, timeout: Duration) -> Result<Scraped, String> {
    let resp = client
        .get(&t.url)
        .header(reqwest::header::ACCEPT, ACCEPT)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("Get \"{}\": context deadline exceeded", t.url)
            } else {
                format!("Get \"{}\": {e}", t.url)
            }
        })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("server returned HTTP status {status}"));
    }
    let ct = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = resp
        .text()
        .await
        .map_err(|e| format!("reading body: {e}"))?;
    parse(&text, ct.as_deref())
}

/// Target labels on a scraped series: `job` and `instance` (plus static
/// labels) win; a conflicting scraped label is kept as `exported_<name>`.
fn with_target_labels(t: &Target, mut l: Labels) -> Labels {
    let mut set = |name: &str, value: &str| {
        if let Some(old) = l.get(name).map(str::to_string)
            && old != value
        {
            l.set(&format!("exported_{name}"), &old);
        }
        l.set(name, value);
    };
    set("job", &t.job);
    set("instance", &t.instance);
    for (k, v) in &t.labels {
        set(k, v);
    }
    l
}

fn report(t: &Target, name: &str, v: f64, ts: i64) -> (Labels, Sample) {
    let l = with_target_labels(t, Labels::new([("__name__", name)]));
    (l, Sample { t: ts, v })
}

/// Hands `batch` to the store on a blocking thread and waits for it.
///
/// `Appender::append` on the Tsdb writes the WAL record and flushes it to the
/// OS (and fsyncs when the last fsync is older than `wal_fsync_interval`),
/// under the store's writer lock, which the store's maintenance thread also
/// holds while it fsyncs. None of that may run on an async worker thread, so
/// the append runs under `spawn_blocking`. Durability is unchanged: when this
/// returns, the samples are in memory and written to the WAL file (a process
/// crash loses nothing); they are fsynced within `wal_fsync_interval` (by the
/// next commit or the maintenance thread), so a machine crash may lose that
/// last interval. Awaiting the append keeps one target's batches in order and
/// gives back-pressure when the disk is slow. If the awaiting task is aborted
/// (its target went away), the append still completes.
pub(crate) async fn store(
    appender: &Arc<dyn Appender>,
    batch: Vec<(Labels, Sample)>,
) -> Result<AppendStats, String> {
    let appender = appender.clone();
    match tokio::task::spawn_blocking(move || appender.append(&batch)).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(format!("the append task failed: {e}")),
    }
}

pub async fn scrape_once(
    t: &Target,
    client: &reqwest::Client,
    appender: &Arc<dyn Appender>,
    cfg: &ScrapeConfig,
    shared: &Shared,
    ts: i64,
) {
    let started = Instant::now();
    let result = fetch(t, client, cfg.timeout).await;
    let elapsed = started.elapsed();
    let mut batch: Vec<(Labels, Sample)> = Vec::new();
    let mut names = HashSet::new();
    let (up, error, scraped) = match result {
        Ok(s) => {
            let n = s.samples.len();
            for (l, v, own_ts) in s.samples {
                let l = with_target_labels(t, l);
                names.insert(l.clone());
                batch.push((
                    l,
                    Sample {
                        t: own_ts.unwrap_or(ts),
                        v,
                    },
                ));
            }
            let mut md = shared.metadata.lock().unwrap_or_else(|e| e.into_inner());
            for (name, m) in s.metadata {
                md.insert(name, m);
            }
            (true, String::new(), n)
        }
        Err(e) => (false, e, 0),
    };
    let added = {
        let mut seen = shared.seen.lock().unwrap_or_else(|e| e.into_inner());
        let entry = seen.entry(t.key()).or_default();
        let added = entry.count_new(&names);
        let stale = if up {
            entry.update(names, ts)
        } else {
            entry.all_stale(ts)
        };
        batch.extend(stale);
        added
    };
    batch.push(report(t, "up", if up { 1.0 } else { 0.0 }, ts));
    batch.push(report(
        t,
        "scrape_duration_seconds",
        elapsed.as_secs_f64(),
        ts,
    ));
    batch.push(report(t, "scrape_samples_scraped", scraped as f64, ts));
    batch.push(report(
        t,
        "scrape_samples_post_metric_relabeling",
        scraped as f64,
        ts,
    ));
    batch.push(report(t, "scrape_series_added", added as f64, ts));
    if let Err(e) = store(appender, batch).await {
        tracing::warn!(target = %t.url, error = %e, "could not store scraped samples");
    }
    if !up {
        tracing::debug!(target = %t.url, %error, "scrape failed");
    }
    let mut h = shared.health.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, health)) = h.get_mut(&t.key()) {
        *health = TargetHealth {
            up: Some(up),
            last_error: error,
            last_scrape_ms: ts,
            last_duration: elapsed,
            samples: scraped,
        };
    }
}

/// A target went away: its series and its report series become stale.
pub async fn mark_target_stale(appender: &Arc<dyn Appender>, shared: &Shared, t: &Target) {
    let ts = now_ms();
    let mut batch = shared
        .seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&t.key())
        .map(|mut s: SeenSeries| s.all_stale(ts))
        .unwrap_or_default();
    for name in [
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    ] {
        batch.push(report(t, name, crate::model::stale_nan(), ts));
    }
    if let Err(e) = store(appender, batch).await {
        tracing::warn!(target = %t.url, error = %e, "could not store staleness markers");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Matcher, StorageError};
    use crate::tsdb::{Tsdb, TsdbOptions};
    use std::sync::Mutex;
    use std::thread::ThreadId;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves `body` as the metrics page to every connection; returns its URL.
    async fn serve(body: &'static str) -> String {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            }
        });
        format!("http://{addr}/metrics")
    }

    fn cfg() -> ScrapeConfig {
        ScrapeConfig {
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
        }
    }

    /// Records the thread each append ran on.
    #[derive(Default)]
    struct ThreadRecorder(Mutex<Vec<(ThreadId, usize)>>);

    impl Appender for ThreadRecorder {
        fn append(&self, batch: &[(Labels, Sample)]) -> Result<AppendStats, StorageError> {
            self.0
                .lock()
                .unwrap()
                .push((std::thread::current().id(), batch.len()));
            Ok(AppendStats {
                appended: batch.len(),
                out_of_order: 0,
            })
        }
    }

    // On a current-thread runtime every task runs on the test's thread, so an
    // append on any other thread is one that left the async runtime's thread.
    #[tokio::test(flavor = "current_thread")]
    async fn appends_run_off_the_async_thread() {
        let url = serve("foo 1\nbar 2\n").await;
        let rec = Arc::new(ThreadRecorder::default());
        let appender: Arc<dyn Appender> = rec.clone();
        let shared = Shared::default();
        let t = Target::new("job", "inst", &url);
        scrape_once(
            &t,
            &reqwest::Client::new(),
            &appender,
            &cfg(),
            &shared,
            1000,
        )
        .await;
        mark_target_stale(&appender, &shared, &t).await;
        let calls = rec.0.lock().unwrap().clone();
        assert_eq!(calls.len(), 2, "{calls:?}");
        // 2 scraped samples + 5 report series; then 2 + 5 staleness markers.
        assert_eq!(calls[0].1, 7);
        assert_eq!(calls[1].1, 7);
        let me = std::thread::current().id();
        assert!(calls.iter().all(|(id, _)| *id != me), "{calls:?}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn scraped_samples_are_recovered_from_the_wal_after_reopen() {
        let url = serve("foo 1\n").await;
        let tmp = tempfile::tempdir().unwrap();
        let opts = TsdbOptions {
            background: false,
            ..TsdbOptions::default()
        };
        let t = Target::new("job", "inst", &url);
        {
            let db: Arc<dyn Appender> = Arc::new(Tsdb::open(tmp.path(), opts.clone()).unwrap());
            scrape_once(
                &t,
                &reqwest::Client::new(),
                &db,
                &cfg(),
                &Shared::default(),
                1000,
            )
            .await;
            // No close: the WAL alone restores what the scrape stored.
        }
        let db = Tsdb::open(tmp.path(), opts).unwrap();
        assert_eq!(db.open_report().wal_samples, 6);
        for (name, v) in [("foo", 1.0), ("up", 1.0), ("scrape_samples_scraped", 1.0)] {
            let m = [Matcher::new(crate::model::MatchOp::Equal, "__name__", name).unwrap()];
            let got = crate::model::Storage::select(&db, &m, 0, 2000).unwrap();
            assert_eq!(got.len(), 1, "{name}: {got:?}");
            assert_eq!(got[0].samples, vec![Sample { t: 1000, v }], "{name}");
            assert_eq!(got[0].labels.get("instance"), Some("inst"));
        }
    }
}
