//! The work a request costs: waiting (a lognormal latency) and burning CPU.

use std::time::{Duration, Instant};

use rand_distr::{Distribution, LogNormal};

use crate::topology::Latency;

/// z-score of the 99th percentile of a standard normal distribution.
const Z99: f64 = 2.326_347_874;

/// Draws a latency from the lognormal distribution with the given median and
/// p99 (a fixed value when they are equal, as a single-duration YAML gives).
pub fn sample(l: &Latency) -> Duration {
    let median = l.median.as_secs_f64();
    if median <= 0.0 {
        return Duration::ZERO;
    }
    let p99 = l.p99.as_secs_f64().max(median);
    let sigma = (p99.ln() - median.ln()) / Z99;
    if sigma <= 0.0 {
        return l.median;
    }
    match LogNormal::new(median.ln(), sigma) {
        // Cap at 20× p99 so one draw cannot stall a journey for minutes.
        Ok(d) => Duration::from_secs_f64(d.sample(&mut rand::rng()).min(p99 * 20.0)),
        Err(_) => l.median,
    }
}

/// Spins the CPU for `d` of wall time (on an idle core, that much CPU time).
pub fn burn_cpu(d: Duration) {
    if d.is_zero() {
        return;
    }
    let start = Instant::now();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while start.elapsed() < d {
        for _ in 0..256 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        std::hint::black_box(x);
    }
}

/// Burns CPU without stalling the async runtime for long bursts.
pub async fn burn_cpu_async(d: Duration) {
    if d <= Duration::from_millis(2) {
        burn_cpu(d);
    } else {
        let _ = tokio::task::spawn_blocking(move || burn_cpu(d)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_matches_median_and_p99() {
        let l = Latency {
            median: Duration::from_millis(10),
            p99: Duration::from_millis(50),
        };
        let mut v: Vec<f64> = (0..20_000).map(|_| sample(&l).as_secs_f64()).collect();
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        let p99 = v[v.len() * 99 / 100];
        assert!((median - 0.010).abs() < 0.001, "median {median}");
        assert!((p99 - 0.050).abs() < 0.008, "p99 {p99}");
    }

    #[test]
    fn fixed_and_zero() {
        let d = Duration::from_millis(3);
        assert_eq!(sample(&Latency { median: d, p99: d }), d);
        assert_eq!(sample(&Latency::ZERO), Duration::ZERO);
    }
}
