//! Ingest benchmark for the time-series store (plain `std::time`, no harness).
//!
//! 10k series x 720 samples (3h at a 15s interval) of realistic values:
//! counters with bursty integer increments, integer gauges (memory bytes) and
//! noisy float gauges (CPU ratios). Appended one scrape (10k samples) at a
//! time on one thread. Run: `cargo bench -p telemetry --bench tsdb`.

use std::time::{Duration, Instant};

use telemetry::model::{Appender, Labels, MatchOp, Matcher, Sample, Storage};
use telemetry::tsdb::{Tsdb, TsdbOptions};

const SERIES: usize = 10_000;
const SAMPLES: usize = 720;
const INTERVAL_MS: i64 = 15_000;
const START_MS: i64 = 1_700_000_000_000;

const NAMES: [&str; 25] = [
    "http_server_requests_total",
    "http_client_requests_total",
    "process_cpu_seconds_total",
    "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total",
    "node_disk_read_bytes_total",
    "node_disk_written_bytes_total",
    "grpc_server_handled_total",
    "rpc_errors_total",
    "cache_hits_total",
    "process_resident_memory_bytes",
    "go_memstats_heap_inuse_bytes",
    "node_memory_MemAvailable_bytes",
    "node_filesystem_avail_bytes",
    "queue_depth",
    "db_connections_in_use",
    "node_load1",
    "cpu_usage_ratio",
    "request_latency_p99_seconds",
    "temperature_celsius",
    "http_server_active_requests",
    "up",
    "scrape_duration_seconds",
    "goroutines",
    "open_fds",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Counter { rate: f64 },
    IntGauge { base: f64 },
    FloatGauge { base: f64 },
}

struct Workload {
    batch: Vec<(Labels, Sample)>,
    kinds: Vec<Kind>,
    rng: Rng,
}

impl Workload {
    fn new() -> Workload {
        let mut rng = Rng(0x5eed_1234_abcd_ef01);
        let mut batch = Vec::with_capacity(SERIES);
        let mut kinds = Vec::with_capacity(SERIES);
        for i in 0..SERIES {
            let labels = Labels::new([
                ("__name__", NAMES[i % 25].to_string()),
                (
                    "instance",
                    format!("10.0.{}.{}:9100", (i / 25) % 40, i / 1000),
                ),
                ("job", format!("svc-{}", i / 1000)),
                (
                    "zone",
                    ["eu-west-1a", "eu-west-1b", "eu-west-1c"][i % 3].to_string(),
                ),
            ]);
            let kind = match i % 10 {
                0..=4 => Kind::Counter {
                    rate: 0.1 + rng.unit() * 50.0,
                },
                5..=7 => Kind::IntGauge {
                    base: (50 + rng.next() % 2000) as f64 * 1024.0 * 1024.0,
                },
                _ => Kind::FloatGauge { base: rng.unit() },
            };
            let v = match kind {
                Kind::Counter { .. } => (rng.next() % 100_000) as f64,
                Kind::IntGauge { base } => base,
                Kind::FloatGauge { base } => base,
            };
            batch.push((labels, Sample { t: START_MS, v }));
            kinds.push(kind);
        }
        Workload { batch, kinds, rng }
    }

    /// Moves every series to scrape `step`.
    fn advance(&mut self, step: usize, jitter_ms: u64) {
        for (i, (_, s)) in self.batch.iter_mut().enumerate() {
            let jitter = if jitter_ms > 0 {
                (self.rng.next() % (jitter_ms + 1)) as i64
            } else {
                0
            };
            s.t = START_MS + step as i64 * INTERVAL_MS + jitter;
            if step == 0 {
                continue;
            }
            s.v = match self.kinds[i] {
                Kind::Counter { rate } => {
                    // Bursty: the per-scrape increment varies around rate*15s.
                    let inc = (rate * 15.0 * (0.5 + self.rng.unit())).round();
                    s.v + inc
                }
                Kind::IntGauge { base } => {
                    // Page-granular fluctuation of a few MiB around the base.
                    let pages = (self.rng.next() % 2048) as f64;
                    base + pages * 4096.0
                }
                Kind::FloatGauge { base } => (base + (self.rng.unit() - 0.5) * 0.1).clamp(0.0, 1.0),
            };
        }
    }
}

fn rss_bytes() -> Option<usize> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

struct Run {
    name: &'static str,
    ingest: Duration,
    samples: u64,
    bytes_per_sample: f64,
    mem_per_series: f64,
    rss_per_series: Option<f64>,
    query: Duration,
    reopen: Option<Duration>,
}

fn run(name: &'static str, jitter_ms: u64, on_disk: bool, measure_rss: bool) -> Run {
    let opts = TsdbOptions {
        background: false,
        ..TsdbOptions::default()
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut w = Workload::new();
    let rss0 = rss_bytes();
    let db = if on_disk {
        Tsdb::open(tmp.path(), opts.clone()).expect("open")
    } else {
        Tsdb::in_memory(opts.clone())
    };
    let mut ingest = Duration::ZERO;
    let mut appended = 0usize;
    for step in 0..SAMPLES {
        w.advance(step, jitter_ms);
        let t0 = Instant::now();
        let st = db.append(&w.batch).expect("append");
        ingest += t0.elapsed();
        appended += st.appended;
    }
    assert_eq!(appended, SERIES * SAMPLES);
    let stats = db.stats();
    let mem = db.memory_bytes();
    let rss = match (rss0, rss_bytes()) {
        (Some(a), Some(b)) if b > a && measure_rss => Some((b - a) as f64 / SERIES as f64),
        _ => None,
    };
    // Query: one metric name (400 series) over the full 3h.
    let m = Matcher::new(MatchOp::Equal, "__name__", "http_server_requests_total").unwrap();
    let t0 = Instant::now();
    let mut n = 0;
    for _ in 0..10 {
        n += db
            .select(std::slice::from_ref(&m), i64::MIN, i64::MAX)
            .unwrap()
            .iter()
            .map(|s| s.samples.len())
            .sum::<usize>();
    }
    let query = t0.elapsed() / 10;
    assert_eq!(n, 10 * 400 * SAMPLES);
    let reopen = if on_disk {
        db.close().expect("close");
        drop(db);
        let t0 = Instant::now();
        let db = Tsdb::open(tmp.path(), opts).expect("reopen");
        let d = t0.elapsed();
        assert_eq!(db.stats().samples, stats.samples);
        Some(d)
    } else {
        drop(db);
        None
    };
    Run {
        name,
        ingest,
        samples: stats.samples,
        bytes_per_sample: stats.bytes_per_sample,
        mem_per_series: mem as f64 / stats.series as f64,
        rss_per_series: rss,
        query,
        reopen,
    }
}

fn main() {
    // `cargo test --benches` passes `--bench`-less args; keep it quick there.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // RSS is measured for the first run only (later runs reuse freed memory).
    println!("tsdb ingest: {SERIES} series x {SAMPLES} samples, one thread, batches of {SERIES}");
    let runs = [
        run("in-memory, exact 15s timestamps", 0, false, true),
        run("in-memory, 0-2ms timestamp jitter", 2, false, false),
        run("WAL on disk, 0-2ms jitter", 2, true, false),
    ];
    println!();
    println!(
        "| {:<36} | {:>12} | {:>9} | {:>11} | {:>11} | {:>12} | {:>9} |",
        "run", "samples/s", "B/sample", "mem/series", "RSS/series", "select 400x3h", "reopen"
    );
    println!(
        "|{:-<38}|{:-<14}|{:-<11}|{:-<13}|{:-<13}|{:-<15}|{:-<11}|",
        "", "", "", "", "", "", ""
    );
    for r in &runs {
        println!(
            "| {:<36} | {:>12.0} | {:>9.2} | {:>9.0} B | {:>11} | {:>10.1} ms | {:>9} |",
            r.name,
            r.samples as f64 / r.ingest.as_secs_f64(),
            r.bytes_per_sample,
            r.mem_per_series,
            r.rss_per_series
                .map_or("-".to_string(), |b| format!("{b:.0} B")),
            r.query.as_secs_f64() * 1e3,
            r.reopen.map_or("-".to_string(), |d| format!(
                "{:.0} ms",
                d.as_secs_f64() * 1e3
            )),
        );
    }
}
