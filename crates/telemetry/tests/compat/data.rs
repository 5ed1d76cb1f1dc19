//! A deterministic OpenMetrics file shaped like two hours of a shop lab:
//! request histograms per job/instance/route/status, journey counters,
//! process gauges and counters, `up`, with a counter reset (a restart) and
//! a series that stops (a scaled-in instance).

use std::fmt::Write;

/// Sample spacing of the generated data (ms).
pub const STEP_MS: i64 = 10_000;
/// Number of samples per series.
pub const POINTS: i64 = 720;
pub const BUCKETS: [&str; 12] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

const JOBS: [(&str, &[&str]); 4] = [
    ("frontend", &["/", "/product/{id}", "/cart/checkout"]),
    ("cart", &["/cart/{user}"]),
    ("checkout", &["/checkout"]),
    ("productcatalog", &["/products", "/products/{id}"]),
];

fn ts(t_ms: i64) -> String {
    format!("{}.{:03}", t_ms / 1000, t_ms % 1000)
}

/// The file, with samples from `start_ms` every [`STEP_MS`].
pub fn openmetrics(start_ms: i64) -> String {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut out = String::with_capacity(8 << 20);
    // Request histograms.
    out.push_str("# HELP http_server_request_duration_seconds Duration of HTTP requests.\n");
    out.push_str("# TYPE http_server_request_duration_seconds histogram\n");
    for (job, routes) in JOBS {
        for inst in 0..2 {
            let instance = format!("127.0.0.1:{}", 9710 + inst);
            for route in routes {
                for status in ["200", "500"] {
                    let labels = format!(
                        "http_request_method=\"GET\",http_response_status_code=\"{status}\",http_route=\"{route}\",instance=\"{instance}\",job=\"{job}\""
                    );
                    let base_rate = if status == "200" { 8.0 } else { 0.08 };
                    // Cumulative bucket counts and sum per point.
                    let mut counts = [0.0f64; 12];
                    let mut sum = 0.0;
                    let mut rows: Vec<([f64; 12], f64)> = Vec::new();
                    for i in 0..POINTS {
                        // A restart of instance 1 of cart at the middle: counters reset.
                        if job == "cart" && inst == 1 && i == POINTS / 2 {
                            counts = [0.0; 12];
                            sum = 0.0;
                        }
                        // Checkout breaks for 20 minutes in the second hour.
                        let broken =
                            job == "checkout" && status == "500" && (400..520).contains(&i);
                        let rate = if broken { 6.0 } else { base_rate };
                        let n = (rate * 10.0 * (0.5 + rng.next())).round();
                        for _ in 0..n as usize {
                            let lat = 0.004 * (1.0 + 30.0 * rng.next().powi(3));
                            sum += lat;
                            for (b, le) in BUCKETS.iter().enumerate() {
                                let le: f64 = if *le == "+Inf" {
                                    f64::INFINITY
                                } else {
                                    le.parse().unwrap_or(0.0)
                                };
                                if lat <= le {
                                    counts[b] += 1.0;
                                }
                            }
                        }
                        rows.push((counts, sum));
                    }
                    // One metric point at a time: buckets, count, sum.
                    for (i, (c, s)) in rows.iter().enumerate() {
                        let t = ts(start_ms + i as i64 * STEP_MS);
                        for (b, le) in BUCKETS.iter().enumerate() {
                            let _ = writeln!(
                                out,
                                "http_server_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {} {t}",
                                c[b]
                            );
                        }
                        let _ = writeln!(
                            out,
                            "http_server_request_duration_seconds_count{{{labels}}} {} {t}",
                            c[11]
                        );
                        let _ = writeln!(
                            out,
                            "http_server_request_duration_seconds_sum{{{labels}}} {s} {t}"
                        );
                    }
                }
            }
        }
    }
    // Journeys.
    out.push_str(
        "# HELP loadgen_journeys User journeys finished.\n# TYPE loadgen_journeys counter\n",
    );
    for journey in ["home", "product", "add_to_cart", "checkout"] {
        for outcome in ["success", "failure"] {
            let mut c = 0.0;
            for i in 0..POINTS {
                let broken = journey == "checkout" && (400..520).contains(&i);
                let rate = match (outcome, broken) {
                    ("success", _) => 2.0,
                    ("failure", true) => 1.5,
                    _ => 0.004,
                };
                c += (rate * 10.0 * (0.5 + rng.next())).round();
                let _ = writeln!(
                    out,
                    "loadgen_journeys_total{{instance=\"127.0.0.1:9700\",job=\"loadgen\",journey=\"{journey}\",outcome=\"{outcome}\"}} {c} {}",
                    ts(start_ms + i * STEP_MS)
                );
            }
        }
    }
    // Process metrics; productcatalog instance 1 is scaled in after 90 minutes.
    out.push_str("# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\n");
    let mut per_instance = Vec::new();
    for (job, _) in JOBS {
        for inst in 0..2 {
            per_instance.push((job, format!("127.0.0.1:{}", 9710 + inst)));
        }
    }
    let last = |job: &str, instance: &str| {
        if job == "productcatalog" && instance.ends_with("9711") {
            540
        } else {
            POINTS
        }
    };
    for (job, instance) in &per_instance {
        let mut rss = 20e6 + 5e6 * rng.next();
        let leak = if *job == "cart" { 4096.0 } else { 0.0 };
        for i in 0..last(job, instance) {
            rss += leak * 10.0 + 40_960.0 * (rng.next() - 0.5);
            let _ = writeln!(
                out,
                "process_resident_memory_bytes{{instance=\"{instance}\",job=\"{job}\"}} {} {}",
                rss.round(),
                ts(start_ms + i * STEP_MS)
            );
        }
    }
    out.push_str("# HELP process_cpu_seconds Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds counter\n");
    for (job, instance) in &per_instance {
        let mut cpu = 1.0;
        for i in 0..last(job, instance) {
            cpu += 0.2 * rng.next();
            let _ = writeln!(
                out,
                "process_cpu_seconds_total{{instance=\"{instance}\",job=\"{job}\"}} {cpu:.4} {}",
                ts(start_ms + i * STEP_MS)
            );
        }
    }
    out.push_str("# HELP process_start_time_seconds Start time of the process.\n# TYPE process_start_time_seconds gauge\n");
    for (job, instance) in &per_instance {
        for i in 0..last(job, instance) {
            let _ = writeln!(
                out,
                "process_start_time_seconds{{instance=\"{instance}\",job=\"{job}\"}} {} {}",
                start_ms / 1000 - 60,
                ts(start_ms + i * STEP_MS)
            );
        }
    }
    out.push_str("# HELP up Whether the target is up.\n# TYPE up gauge\n");
    for (job, instance) in &per_instance {
        for i in 0..last(job, instance) {
            // cart instance 1 is down for a minute around its restart.
            let v = if *job == "cart" && instance.ends_with("9711") && (354..360).contains(&i) {
                0
            } else {
                1
            };
            let _ = writeln!(
                out,
                "up{{instance=\"{instance}\",job=\"{job}\"}} {v} {}",
                ts(start_ms + i * STEP_MS)
            );
        }
    }
    out.push_str("# EOF\n");
    out
}
