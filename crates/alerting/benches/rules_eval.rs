//! Cost of one evaluation cycle of the shop's SLO rules (all groups) on
//! 6 hours of shop-shaped data at a 5 s scrape interval.
//!
//! Run: `cargo bench -p alerting --bench rules_eval`

use std::time::Instant;

use alerting::rules::{RuleManager, parse_rules};
use alerting::slo::{bundled::bundled_spec, parse_spec, rule_file};
use telemetry::model::{Appender, Labels, Sample};
use telemetry::tsdb::{Tsdb, TsdbOptions};

const STEP: i64 = 5_000;
const HOURS: i64 = 6;

fn main() {
    let db = Tsdb::in_memory(TsdbOptions {
        background: false,
        ..TsdbOptions::default()
    });
    let buckets = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    ];
    let points = HOURS * 3600 * 1000 / STEP;
    let mut counters = vec![0.0f64; 64];
    let mut series = 0;
    for i in 0..points {
        let t = i * STEP;
        let mut batch = Vec::new();
        let mut k = 0;
        for journey in ["home", "product", "add_to_cart", "checkout"] {
            for outcome in ["success", "failure"] {
                counters[k] += if outcome == "success" {
                    5.0
                } else {
                    0.01 * (i % 7) as f64
                };
                batch.push((
                    Labels::new([
                        ("__name__", "loadgen_journeys_total"),
                        ("job", "loadgen"),
                        ("instance", "127.0.0.1:9700"),
                        ("journey", journey),
                        ("outcome", outcome),
                    ]),
                    Sample { t, v: counters[k] },
                ));
                k += 1;
            }
        }
        for inst in ["127.0.0.1:9710", "127.0.0.1:9711"] {
            for (b, le) in buckets.iter().enumerate() {
                counters[k] += 2.0 * (b + 1) as f64;
                batch.push((
                    Labels::new([
                        ("__name__", "http_server_request_duration_seconds_bucket"),
                        ("job", "frontend"),
                        ("instance", inst),
                        ("http_route", "/"),
                        ("http_request_method", "GET"),
                        ("http_response_status_code", "200"),
                        ("le", le),
                    ]),
                    Sample { t, v: counters[k] },
                ));
                k += 1;
            }
            counters[k] += 24.0;
            batch.push((
                Labels::new([
                    ("__name__", "http_server_request_duration_seconds_count"),
                    ("job", "frontend"),
                    ("instance", inst),
                    ("http_route", "/"),
                    ("http_request_method", "GET"),
                    ("http_response_status_code", "200"),
                ]),
                Sample { t, v: counters[k] },
            ));
            k += 1;
        }
        series = batch.len();
        db.append(&batch).expect("append");
    }
    let slos = parse_spec(bundled_spec("shop").expect("shop"), "shop").expect("spec");
    let groups = parse_rules(&rule_file(&slos), "shop").expect("rules");
    let rules: usize = groups.iter().map(|g| g.rules.len()).sum();
    let m = RuleManager::new(groups, std::time::Duration::from_secs(5), "");
    // Evaluate the last 10 minutes, one cycle per 5 s, so recordings accumulate.
    let end = (points - 1) * STEP;
    let mut times = Vec::new();
    let mut t = end - 600_000;
    while t <= end {
        let s = Instant::now();
        m.evaluate_all(&db, t);
        times.push(s.elapsed().as_secs_f64() * 1e3);
        t += STEP;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "shop SLO rules: {rules} rules in {} groups over {series} input series x {points} samples ({HOURS} h at 5 s)",
        m.group_count()
    );
    println!(
        "evaluation cycle: median {:.2} ms, p90 {:.2} ms, max {:.2} ms over {} cycles",
        times[times.len() / 2],
        times[times.len() * 9 / 10],
        times[times.len() - 1],
        times.len()
    );
}
