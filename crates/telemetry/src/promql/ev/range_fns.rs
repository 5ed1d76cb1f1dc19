//! Functions over a range of samples: rate and friends, `*_over_time`.

use super::aggregate::{KahanSum, mean};
use super::histogram::quantile;
use crate::model::Sample;

/// Prometheus's `extrapolatedRate` (rate, increase, delta).
pub fn extrapolated_rate(
    points: &[Sample],
    range_start: i64,
    range_end: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let first = points[0];
    let last = points[points.len() - 1];
    let mut result = last.v - first.v;
    if is_counter {
        let mut prev = first.v;
        for p in &points[1..] {
            if p.v < prev {
                result += prev;
            }
            prev = p.v;
        }
    }
    let mut to_start = (first.t - range_start) as f64 / 1000.0;
    let mut to_end = (range_end - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let avg_between = sampled / (points.len() - 1) as f64;
    let threshold = avg_between * 1.1;
    if to_start >= threshold {
        to_start = avg_between / 2.0;
    }
    if is_counter && result > 0.0 && first.v >= 0.0 {
        let to_zero = sampled * (first.v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg_between / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if is_rate {
        factor /= (range_end - range_start) as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate` (is_rate) and `idelta`: the last two samples.
pub fn instant_value(points: &[Sample], is_rate: bool) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let last = points[points.len() - 1];
    let prev = points[points.len() - 2];
    let mut v = if is_rate && last.v < prev.v {
        last.v
    } else {
        last.v - prev.v
    };
    let interval = last.t - prev.t;
    if interval == 0 {
        return None;
    }
    if is_rate {
        v /= interval as f64 / 1000.0;
    }
    Some(v)
}

/// Least-squares slope and intercept at `intercept_t`, with Kahan sums.
pub fn linear_regression(points: &[Sample], intercept_t: i64) -> (f64, f64) {
    let init = points[0].v;
    let const_y = points.iter().all(|p| p.v == init);
    if const_y {
        return if init.is_infinite() {
            (f64::NAN, f64::NAN)
        } else {
            (0.0, init)
        };
    }
    let (mut sx, mut sy, mut sxy, mut sx2) = (
        KahanSum::default(),
        KahanSum::default(),
        KahanSum::default(),
        KahanSum::default(),
    );
    let n = points.len() as f64;
    for p in points {
        let x = (p.t - intercept_t) as f64 / 1e3;
        sx.add(x);
        sy.add(p.v);
        sxy.add(x * p.v);
        sx2.add(x * x);
    }
    let (sx, sy, sxy, sx2) = (sx.value(), sy.value(), sxy.value(), sx2.value());
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    (slope, sy / n - slope * sx / n)
}

/// Variance as `stdvar_over_time` computes it (incremental, Kahan-compensated).
pub fn variance_over_time(points: &[Sample]) -> f64 {
    let (mut count, mut mean, mut aux) = (0.0, KahanSum::default(), KahanSum::default());
    for p in points {
        count += 1.0;
        let delta = p.v - mean.value();
        mean.add(delta / count);
        aux.add(delta * (p.v - mean.value()));
    }
    aux.value() / count
}

/// The `*_over_time` family and `changes`/`resets`; `q` for `quantile_over_time`.
pub fn over_time(name: &str, points: &[Sample], q: f64) -> Option<f64> {
    if points.is_empty() {
        return None;
    }
    let vals: Vec<f64> = points.iter().map(|p| p.v).collect();
    Some(match name {
        "avg_over_time" => mean(&vals),
        "sum_over_time" => {
            let mut k = KahanSum::default();
            vals.iter().for_each(|v| k.add(*v));
            k.value()
        }
        "count_over_time" => vals.len() as f64,
        "min_over_time" => vals
            .iter()
            .copied()
            .fold(f64::NAN, |m, v| if m.is_nan() || v < m { v } else { m }),
        "max_over_time" => vals
            .iter()
            .copied()
            .fold(f64::NAN, |m, v| if m.is_nan() || v > m { v } else { m }),
        "last_over_time" => vals[vals.len() - 1],
        "first_over_time" => vals[0],
        "present_over_time" => 1.0,
        "stdvar_over_time" => variance_over_time(points),
        "stddev_over_time" => variance_over_time(points).sqrt(),
        "quantile_over_time" => quantile(q, vals),
        "mad_over_time" if vals.iter().any(|v| v.is_nan()) => f64::NAN,
        "mad_over_time" => {
            let med = quantile(0.5, vals.clone());
            quantile(0.5, vals.iter().map(|v| (v - med).abs()).collect())
        }
        "changes" => vals
            .windows(2)
            .filter(|w| !(w[0] == w[1] || (w[0].is_nan() && w[1].is_nan())))
            .count() as f64,
        "resets" => vals.windows(2).filter(|w| w[1] < w[0]).count() as f64,
        "ts_of_last_over_time" => points[points.len() - 1].t as f64 / 1000.0,
        "ts_of_first_over_time" => points[0].t as f64 / 1000.0,
        "ts_of_max_over_time" => {
            let mut best = points[0];
            for p in points {
                if p.v >= best.v || best.v.is_nan() {
                    best = *p;
                }
            }
            best.t as f64 / 1000.0
        }
        "ts_of_min_over_time" => {
            let mut best = points[0];
            for p in points {
                if p.v <= best.v || best.v.is_nan() {
                    best = *p;
                }
            }
            best.t as f64 / 1000.0
        }
        _ => return None,
    })
}

/// `double_exponential_smoothing` (formerly `holt_winters`).
pub fn double_exponential_smoothing(points: &[Sample], sf: f64, tf: f64) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let (mut s0, mut s1) = (0.0, points[0].v);
    let mut b = points[1].v - points[0].v;
    for (i, p) in points.iter().enumerate().skip(1) {
        let x = sf * p.v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Some(s1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(i64, f64)]) -> Vec<Sample> {
        v.iter().map(|(t, v)| Sample { t: *t, v: *v }).collect()
    }

    #[test]
    fn rate_extrapolates_like_prometheus() {
        // 0..=10 every 10s, window (0, 100]: 10 per 10 s, range 100 s.
        let p = pts(&(1..=10).map(|i| (i * 10_000, i as f64)).collect::<Vec<_>>());
        let r = extrapolated_rate(&p, 0, 100_000, true, true).unwrap();
        assert!((r - 0.1).abs() < 1e-9, "{r}");
    }

    #[test]
    fn counter_resets_add_up() {
        let p = pts(&[(10_000, 5.0), (20_000, 8.0), (30_000, 2.0)]);
        assert_eq!(over_time("resets", &p, 0.0), Some(1.0));
        let inc = extrapolated_rate(&p, 5_000, 35_000, true, false).unwrap();
        // (2 - 5) + 8 = 5 over 20 s of samples, extrapolated by 5 s each side.
        assert!((inc - 7.5).abs() < 1e-9, "{inc}");
    }
}
