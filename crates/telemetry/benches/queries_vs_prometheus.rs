//! Query latency of the 50-query SRE suite, ours vs a real Prometheus on the
//! same backfilled data, both over their HTTP API, interleaved in one run.
//!
//! Run: `cargo bench -p telemetry --bench queries_vs_prometheus`
//! (needs Debian's `prometheus` package: prometheus and promtool).

#[path = "../tests/compat/mod.rs"]
mod compat;

use std::time::Instant;

use compat::{data, instant, peer, queries::QUERIES, start_ours};

const ROUNDS: usize = 15;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let (Some(prom), Some(promtool)) = (peer::tool("prometheus"), peer::tool("promtool")) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let start = (now - 3 * 3600 * 1000) / data::STEP_MS * data::STEP_MS + 3_700;
    let om = data::openmetrics(start);
    let theirs = peer::start(&prom, &promtool, dir.path(), &om);
    let ours = start_ours(&om);
    let client = reqwest::blocking::Client::new();
    let t = start as f64 / 1000.0 + 88.0 * 60.0 + 7.37;
    // Warm both (page cache, connection pools, Prometheus's head).
    for q in QUERIES {
        let _ = instant(&client, &ours.url, q, t);
        let _ = instant(&client, &theirs.url, q, t);
    }
    println!(
        "{:>4} {:>10} {:>10} {:>7}  query",
        "#", "ours ms", "prom ms", "ratio"
    );
    let (mut ratios, mut sum_ours, mut sum_theirs) = (Vec::new(), 0.0, 0.0);
    for (i, q) in QUERIES.iter().enumerate() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let s = Instant::now();
            instant(&client, &ours.url, q, t).expect("ours");
            a.push(s.elapsed().as_secs_f64() * 1e3);
            let s = Instant::now();
            instant(&client, &theirs.url, q, t).expect("theirs");
            b.push(s.elapsed().as_secs_f64() * 1e3);
        }
        let (ma, mb) = (median(&mut a), median(&mut b));
        sum_ours += ma;
        sum_theirs += mb;
        ratios.push(ma / mb);
        let short: String = q.chars().take(70).collect();
        println!(
            "{:>4} {ma:>10.2} {mb:>10.2} {:>7.2}  {short}",
            i + 1,
            ma / mb
        );
    }
    let geo = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
    println!(
        "overall: sum of medians ours {sum_ours:.1} ms, Prometheus {sum_theirs:.1} ms (ratio {:.2}); geometric mean of per-query ratios {geo:.2}",
        sum_ours / sum_theirs
    );
}
