//! Quantiles: of a set of values (`quantile`, `quantile_over_time`) and of
//! classic histogram buckets (`histogram_quantile`).

use std::collections::HashMap;

use super::value::Elem;
use crate::model::Labels;

/// φ-quantile with linear interpolation, as Prometheus computes it.
pub fn quantile(q: f64, mut values: Vec<f64>) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    // NaN sorts as the smallest value, as in Prometheus.
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.total_cmp(b),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    upper: f64,
    count: f64,
    /// Index of the series' metric name, to tell two histograms apart that
    /// collide once the name is dropped.
    name: usize,
}

/// The result of one histogram: value, plus whether buckets had to be fixed
/// for monotonicity (an info annotation in Prometheus).
pub struct BucketQuantile {
    pub value: f64,
    pub fixed: bool,
}

fn bucket_quantile(q: f64, mut buckets: Vec<Bucket>) -> BucketQuantile {
    let mut fixed = false;
    if q.is_nan() {
        return BucketQuantile {
            value: f64::NAN,
            fixed,
        };
    }
    if q < 0.0 {
        return BucketQuantile {
            value: f64::NEG_INFINITY,
            fixed,
        };
    }
    if q > 1.0 {
        return BucketQuantile {
            value: f64::INFINITY,
            fixed,
        };
    }
    buckets.sort_by(|a, b| a.upper.total_cmp(&b.upper));
    // Merge buckets with the same upper bound (`le="1"` and `le="1.0"`).
    let mut merged: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets {
        match merged.last_mut() {
            Some(last) if last.upper == b.upper => last.count += b.count,
            _ => merged.push(b),
        }
    }
    let mut buckets = merged;
    if buckets.last().is_none_or(|b| b.upper != f64::INFINITY) {
        return BucketQuantile {
            value: f64::NAN,
            fixed,
        };
    }
    // Counts must not decrease with the bound (scrapes are not atomic).
    let mut max = f64::NEG_INFINITY;
    for b in buckets.iter_mut() {
        if b.count < max {
            b.count = max;
            fixed = true;
        } else {
            max = b.count;
        }
    }
    if buckets.len() < 2 {
        return BucketQuantile {
            value: f64::NAN,
            fixed,
        };
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 || observations.is_nan() {
        return BucketQuantile {
            value: f64::NAN,
            fixed,
        };
    }
    let mut rank = q * observations;
    let b = buckets.partition_point(|bk| bk.count < rank);
    let value = if b == buckets.len() - 1 {
        buckets[buckets.len() - 2].upper
    } else if b == 0 && buckets[0].upper <= 0.0 {
        buckets[0].upper
    } else {
        let (start, end) = if b == 0 {
            (0.0, buckets[0].upper)
        } else {
            (buckets[b - 1].upper, buckets[b].upper)
        };
        let mut count = buckets[b].count;
        if b > 0 {
            count -= buckets[b - 1].count;
            rank -= buckets[b - 1].count;
        }
        start + (end - start) * (rank / count)
    };
    BucketQuantile { value, fixed }
}

/// `histogram_quantile(q, v)` over classic buckets; returns the result and
/// whether any histogram needed its buckets fixed, plus series that had no
/// valid `le` label (ignored).
/// Share of observations between `lower` and `upper` in classic buckets
/// (sorted, `+Inf` last), interpolating linearly inside buckets.
fn bucket_fraction(lower: f64, upper: f64, mut buckets: Vec<Bucket>) -> f64 {
    buckets.sort_by(|a, b| a.upper.total_cmp(&b.upper));
    if buckets.last().is_none_or(|b| b.upper != f64::INFINITY) {
        return f64::NAN;
    }
    let mut merged: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets {
        match merged.last_mut() {
            Some(last) if last.upper == b.upper => last.count += b.count,
            _ => merged.push(b),
        }
    }
    let mut max = f64::NEG_INFINITY;
    for b in merged.iter_mut() {
        if b.count < max {
            b.count = max;
        } else {
            max = b.count;
        }
    }
    let count = merged[merged.len() - 1].count;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    for (i, b) in merged.iter().enumerate() {
        let lb = if i > 0 {
            merged[i - 1].upper
        } else if b.upper > 0.0 {
            0.0
        } else {
            f64::NEG_INFINITY
        };
        let ub = b.upper;
        let interpolate = |v: f64| rank + (b.count - rank) * (v - lb) / (ub - lb);
        if !lower_set && lb >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lb >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lb < lower && ub > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && lb < upper && ub > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = b.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

/// Two histograms of different names with the same labels.
pub struct Collision;

/// Results, the name of a histogram whose buckets were fixed, and series
/// without a usable `le` label.
pub type HistogramResult = (Vec<Elem>, Option<String>, Vec<Labels>);

/// What to compute per histogram.
pub enum BucketFn {
    Quantile(f64),
    Fraction(f64, f64),
}

pub fn histogram_quantile(q: f64, v: Vec<Elem>, t: i64) -> Result<HistogramResult, Collision> {
    histogram_fn(BucketFn::Quantile(q), v, t)
}

/// Applies `f` to each classic histogram in `v` (grouped by labels without
/// `le` and the metric name); returns results, the name of a histogram whose
/// buckets were fixed, and series without a usable `le`.
pub fn histogram_fn(f: BucketFn, v: Vec<Elem>, t: i64) -> Result<HistogramResult, Collision> {
    let mut name_ids: Vec<String> = Vec::new();
    let mut order: Vec<Labels> = Vec::new();
    let mut groups: HashMap<Labels, Vec<Bucket>> = HashMap::new();
    let mut names: HashMap<Labels, String> = HashMap::new();
    let mut bad = Vec::new();
    for e in v {
        let upper = match e.labels.get("le").map(|s| s.trim()) {
            Some("+Inf") | Some("Inf") | Some("+inf") | Some("inf") => f64::INFINITY,
            Some(s) => match s.parse::<f64>() {
                Ok(u) => u,
                Err(_) => {
                    bad.push(e.labels.clone());
                    continue;
                }
            },
            None => {
                bad.push(e.labels.clone());
                continue;
            }
        };
        let n = e.labels.metric_name().unwrap_or("").to_string();
        let name = match name_ids.iter().position(|x| *x == n) {
            Some(i) => i,
            None => {
                name_ids.push(n);
                name_ids.len() - 1
            }
        };
        let mut key = e.labels.without_name();
        key.remove("le");
        if !groups.contains_key(&key) {
            order.push(key.clone());
            names.insert(
                key.clone(),
                e.labels.metric_name().unwrap_or("").to_string(),
            );
        }
        groups.entry(key).or_default().push(Bucket {
            upper,
            count: e.v,
            name,
        });
    }
    let mut fixed_any: Option<String> = None;
    let mut out = Vec::with_capacity(order.len());
    for key in order {
        let buckets = groups.remove(&key).unwrap_or_default();
        if buckets.iter().any(|b| b.name != buckets[0].name) {
            return Err(Collision);
        }
        let r = match f {
            BucketFn::Quantile(q) => bucket_quantile(q, buckets),
            BucketFn::Fraction(lo, hi) => BucketQuantile {
                value: bucket_fraction(lo, hi, buckets),
                fixed: false,
            },
        };
        if r.fixed && fixed_any.is_none() {
            fixed_any = Some(names.get(&key).cloned().unwrap_or_default());
        }
        out.push(Elem {
            labels: key,
            t,
            v: r.value,
        });
    }
    Ok((out, fixed_any, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        assert_eq!(quantile(0.5, vec![1.0, 2.0, 3.0, 4.0]), 2.5);
        assert_eq!(quantile(2.0, vec![1.0]), f64::INFINITY);
        assert!(quantile(0.5, vec![]).is_nan());
    }

    #[test]
    fn buckets_interpolate() {
        let b = vec![
            Bucket {
                upper: 0.1,
                count: 10.0,
                name: 0,
            },
            Bucket {
                upper: 0.5,
                count: 20.0,
                name: 0,
            },
            Bucket {
                upper: f64::INFINITY,
                count: 20.0,
                name: 0,
            },
        ];
        let r = bucket_quantile(0.75, b);
        assert!((r.value - 0.3).abs() < 1e-12, "{}", r.value);
    }
}
