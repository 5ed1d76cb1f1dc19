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
    values.sort_by(f64::total_cmp);
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
pub fn histogram_quantile(q: f64, v: Vec<Elem>, t: i64) -> (Vec<Elem>, bool, Vec<Labels>) {
    let mut order: Vec<Labels> = Vec::new();
    let mut groups: HashMap<Labels, Vec<Bucket>> = HashMap::new();
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
        let mut key = e.labels.without_name();
        key.remove("le");
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups
            .entry(key)
            .or_default()
            .push(Bucket { upper, count: e.v });
    }
    let mut fixed_any = false;
    let mut out = Vec::with_capacity(order.len());
    for key in order {
        let buckets = groups.remove(&key).unwrap_or_default();
        let r = bucket_quantile(q, buckets);
        fixed_any |= r.fixed;
        out.push(Elem {
            labels: key,
            t,
            v: r.value,
        });
    }
    (out, fixed_any, bad)
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
            },
            Bucket {
                upper: 0.5,
                count: 20.0,
            },
            Bucket {
                upper: f64::INFINITY,
                count: 20.0,
            },
        ];
        let r = bucket_quantile(0.75, b);
        assert!((r.value - 0.3).abs() < 1e-12, "{}", r.value);
    }
}
