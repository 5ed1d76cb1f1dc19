//! Aggregation operators with `by`/`without`.

use std::collections::HashMap;

use promql_parser::parser::{AggregateExpr, LabelModifier};

use super::Ev;
use super::histogram::quantile;
use super::value::{Elem, Val, go_float};
use crate::model::Labels;
use crate::promql::QueryError;

/// Neumaier-compensated running sum, as Prometheus's `kahanSumInc`.
#[derive(Default, Clone, Copy)]
pub struct KahanSum {
    sum: f64,
    c: f64,
}

impl KahanSum {
    pub fn add(&mut self, inc: f64) {
        let t = self.sum + inc;
        if t.is_infinite() {
            self.c = 0.0;
        } else if self.sum.abs() >= inc.abs() {
            self.c += (self.sum - t) + inc;
        } else {
            self.c += (inc - t) + self.sum;
        }
        self.sum = t;
    }

    pub fn value(&self) -> f64 {
        if self.sum.is_infinite() {
            self.sum
        } else {
            self.sum + self.c
        }
    }
}

/// Mean as Prometheus computes it: a Kahan-compensated sum divided by the
/// count, switching to a (compensated) incremental mean once the sum would
/// overflow.
pub fn mean(values: &[f64]) -> f64 {
    let Some(first) = values.first() else {
        return f64::NAN;
    };
    let (mut sum, mut c) = (*first, 0.0f64);
    let mut incremental = false;
    let mut mean = *first;
    for (i, v) in values.iter().enumerate().skip(1) {
        let n = (i + 1) as f64;
        if !incremental {
            let mut k = KahanSum { sum, c };
            k.add(*v);
            if !k.sum.is_infinite() {
                sum = k.sum;
                c = k.c;
                continue;
            }
            incremental = true;
            mean = sum / (n - 1.0);
            c /= n - 1.0;
        }
        let q = (n - 1.0) / n;
        let mut k = KahanSum {
            sum: q * mean,
            c: q * c,
        };
        k.add(v / n);
        mean = k.sum;
        c = k.c;
    }
    if incremental {
        mean + c
    } else {
        (sum + c) / values.len() as f64
    }
}

/// Population variance (Welford).
pub fn variance(values: &[f64]) -> f64 {
    let (mut n, mut mean, mut m2) = (0.0, 0.0, 0.0);
    for v in values {
        n += 1.0;
        let d = v - mean;
        mean += d / n;
        m2 += d * (v - mean);
    }
    m2 / n
}

fn group_labels(l: &Labels, m: Option<&LabelModifier>) -> Labels {
    match m {
        Some(LabelModifier::Include(by)) => {
            let mut out = Labels::default();
            for n in &by.labels {
                if let Some(v) = l.get(n)
                    && !v.is_empty()
                {
                    let v = v.to_string();
                    out.set(n, &v);
                }
            }
            out
        }
        Some(LabelModifier::Exclude(without)) => {
            let mut out = l.without_name();
            for n in &without.labels {
                out.remove(n);
            }
            out
        }
        None => Labels::default(),
    }
}

fn valid_label_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
}

impl Ev<'_> {
    pub fn aggregate(&self, a: &AggregateExpr, t: i64) -> Result<Val, QueryError> {
        let op = a.op.to_string();
        let param = match &a.param {
            Some(p) => Some(self.eval(p, t)?),
            None => None,
        };
        let input = self.eval_vector(&a.expr, t)?;
        let m = a.modifier.as_ref();
        // Groups in order of first appearance.
        let mut order: Vec<Labels> = Vec::new();
        let mut groups: HashMap<Labels, Vec<Elem>> = HashMap::new();
        let count_label = if op == "count_values" {
            let Some(Val::Str(name)) = &param else {
                return Err(QueryError::BadData(
                    "count_values needs a string parameter".into(),
                ));
            };
            if !valid_label_name(name) {
                return Err(QueryError::Execution(format!(
                    "invalid label name {name:?}"
                )));
            }
            Some(name.clone())
        } else {
            None
        };
        for e in input {
            self.check_deadline()?;
            let mut key = group_labels(&e.labels, m);
            if let Some(name) = &count_label {
                key.set(name, &go_float(e.v));
            }
            if !groups.contains_key(&key) {
                order.push(key.clone());
            }
            groups.entry(key).or_default().push(e);
        }
        let scalar_param = |name: &str| -> Result<f64, QueryError> {
            match &param {
                Some(Val::Scalar(v)) => Ok(*v),
                _ => Err(QueryError::BadData(format!(
                    "{name} needs a scalar parameter"
                ))),
            }
        };
        let mut out = Vec::new();
        match op.as_str() {
            "topk" | "bottomk" | "limitk" => {
                let k = scalar_param(&op)?;
                if k.is_nan() {
                    return Err(QueryError::Execution("Parameter value is NaN".into()));
                }
                let k = if k >= 1.0 { k.min(9.0e15) as usize } else { 0 };
                for key in &order {
                    let mut g = groups.remove(key).unwrap_or_default();
                    match op.as_str() {
                        "topk" => g.sort_by(|a, b| desc_nan_last(a.v, b.v)),
                        "bottomk" => g.sort_by(|a, b| asc_nan_last(a.v, b.v)),
                        _ => {}
                    }
                    for mut e in g.into_iter().take(k) {
                        e.t = t;
                        out.push(e);
                    }
                }
                return Ok(Val::Vector(out));
            }
            "limit_ratio" => {
                if scalar_param(&op)?.is_nan() {
                    return Err(QueryError::Execution("Ratio value is NaN".into()));
                }
                return Err(QueryError::BadData("limit_ratio is not supported".into()));
            }
            _ => {}
        }
        for key in order {
            let g = groups.remove(&key).unwrap_or_default();
            let values: Vec<f64> = g.iter().map(|e| e.v).collect();
            let v = match op.as_str() {
                "sum" => {
                    let mut k = KahanSum::default();
                    values.iter().for_each(|v| k.add(*v));
                    k.value()
                }
                "avg" => mean(&values),
                "count" | "count_values" => values.len() as f64,
                "group" => 1.0,
                "min" => values.iter().copied().fold(f64::NAN, |acc, v| {
                    if acc.is_nan() || v < acc { v } else { acc }
                }),
                "max" => values.iter().copied().fold(f64::NAN, |acc, v| {
                    if acc.is_nan() || v > acc { v } else { acc }
                }),
                "stddev" => variance(&values).sqrt(),
                "stdvar" => variance(&values),
                "quantile" => {
                    let q = scalar_param("quantile")?;
                    if !(0.0..=1.0).contains(&q) {
                        self.warn(format!(
                            "PromQL warning: quantile value should be between 0 and 1, got {}",
                            go_float(q)
                        ));
                    }
                    quantile(q, values)
                }
                other => return Err(QueryError::BadData(format!("unknown aggregation {other}"))),
            };
            out.push(Elem { labels: key, t, v });
        }
        Ok(Val::Vector(out))
    }
}

fn desc_nan_last(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => b.partial_cmp(&a).unwrap_or(std::cmp::Ordering::Equal),
    }
}

fn asc_nan_last(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
    }
}
