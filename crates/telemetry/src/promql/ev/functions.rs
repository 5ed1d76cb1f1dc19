//! Function calls.

use chrono::{Datelike, TimeZone, Timelike};
use promql_parser::parser::{Call, Expr};

use super::Ev;
use super::histogram::histogram_quantile;
use super::labels::{label_join, label_replace};
use super::range_fns::{
    double_exponential_smoothing, extrapolated_rate, instant_value, linear_regression, over_time,
};
use super::selector::matcher_groups;
use super::value::{Elem, RangeSeries, Val};
use crate::model::{Labels, METRIC_NAME, MatchOp};
use crate::promql::QueryError;
use crate::promql::limits::duration_ms;

fn same_labelset() -> QueryError {
    QueryError::Execution("vector cannot contain metrics with the same labelset".into())
}

fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn map_values(v: Vec<Elem>, t: i64, f: impl Fn(f64) -> f64) -> Val {
    Val::Vector(
        v.into_iter()
            .map(|e| Elem {
                labels: e.labels.without_name(),
                t,
                v: f(e.v),
            })
            .collect(),
    )
}

/// Labels `absent()` gives: the equality matchers of a selector argument.
fn absent_labels(e: &Expr) -> Labels {
    let vs = match e {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::default(),
    };
    let mut l = Labels::default();
    let Ok(groups) = matcher_groups(vs) else {
        return l;
    };
    let Some(g) = groups.first().filter(|_| groups.len() == 1) else {
        return l;
    };
    let mut has = std::collections::HashSet::new();
    for m in g {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.op == MatchOp::Equal && !has.contains(&m.name) {
            l.set(&m.name, &m.value);
            has.insert(m.name.clone());
        } else {
            l.remove(&m.name);
        }
    }
    l
}

fn date_fn(name: &str, secs: f64) -> f64 {
    if !secs.is_finite() {
        return f64::NAN;
    }
    let Some(d) = chrono::Utc.timestamp_opt(secs.floor() as i64, 0).single() else {
        return f64::NAN;
    };
    (match name {
        "day_of_month" => d.day(),
        "day_of_week" => d.weekday().num_days_from_sunday(),
        "day_of_year" => d.ordinal(),
        "days_in_month" => {
            let (y, m) = (d.year(), d.month());
            let next = if m == 12 {
                chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
            } else {
                chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)
            };
            let this = chrono::NaiveDate::from_ymd_opt(y, m, 1);
            match (next, this) {
                (Some(n), Some(t)) => (n - t).num_days() as u32,
                _ => return f64::NAN,
            }
        }
        "hour" => d.hour(),
        "minute" => d.minute(),
        "month" => d.month(),
        "year" => d.year() as u32,
        _ => return f64::NAN,
    }) as f64
}

/// Natural order: digit runs compare as numbers (`4m5` < `4m600` < `4m1000`).
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < ab.len() && j < bb.len() {
        if ab[i].is_ascii_digit() && bb[j].is_ascii_digit() {
            let si = i;
            while i < ab.len() && ab[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < bb.len() && bb[j].is_ascii_digit() {
                j += 1;
            }
            let na = a[si..i].trim_start_matches('0');
            let nb = b[sj..j].trim_start_matches('0');
            let o = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        } else {
            let o = ab[i].cmp(&bb[j]);
            if o != std::cmp::Ordering::Equal {
                return o;
            }
            i += 1;
            j += 1;
        }
    }
    (ab.len() - i).cmp(&(bb.len() - j))
}

fn sort_by_value(mut v: Vec<Elem>, desc: bool) -> Vec<Elem> {
    v.sort_by(|a, b| match (a.v.is_nan(), b.v.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ if desc => b.v.partial_cmp(&a.v).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.v.partial_cmp(&b.v).unwrap_or(std::cmp::Ordering::Equal),
    });
    v
}

impl Ev<'_> {
    fn arg_str(&self, c: &Call, i: usize, t: i64) -> Result<String, QueryError> {
        match c.args.args.get(i) {
            Some(a) => match self.eval(a, t)? {
                Val::Str(s) => Ok(s),
                other => Err(QueryError::BadData(format!(
                    "expected string, got {}",
                    other.type_name()
                ))),
            },
            None => Err(QueryError::BadData(format!(
                "{}: missing argument {}",
                c.func.name,
                i + 1
            ))),
        }
    }

    fn arg_scalar(&self, c: &Call, i: usize, t: i64) -> Result<f64, QueryError> {
        match c.args.args.get(i) {
            Some(a) => self.eval_scalar(a, t),
            None => Err(QueryError::BadData(format!(
                "{}: missing argument {}",
                c.func.name,
                i + 1
            ))),
        }
    }

    fn arg_vector(&self, c: &Call, i: usize, t: i64) -> Result<Vec<Elem>, QueryError> {
        match c.args.args.get(i) {
            Some(a) => self.eval_vector(a, t),
            None => Err(QueryError::BadData(format!(
                "{}: missing argument {}",
                c.func.name,
                i + 1
            ))),
        }
    }

    /// The range `(start, end]` a matrix argument covers at `t`.
    fn matrix_range(&self, e: &Expr, t: i64) -> (i64, i64) {
        match e {
            Expr::MatrixSelector(ms) => {
                let r = self.ref_time(&ms.vs.at, &ms.vs.offset, t);
                (r - duration_ms(&ms.range), r)
            }
            Expr::Subquery(sq) => {
                let r = self.ref_time(&sq.at, &sq.offset, t);
                (r - duration_ms(&sq.range), r)
            }
            Expr::Paren(p) => self.matrix_range(&p.expr, t),
            _ => (t, t),
        }
    }

    fn range_fn(
        &self,
        c: &Call,
        t: i64,
        matrix_arg: usize,
        f: impl Fn(&RangeSeries, i64, i64) -> Option<f64>,
    ) -> Result<Val, QueryError> {
        let arg = &c.args.args[matrix_arg];
        let m = self.eval_matrix(arg, t)?;
        let (start, end) = self.matrix_range(arg, t);
        let keep_name = matches!(c.func.name, "last_over_time" | "first_over_time");
        let mut out = Vec::with_capacity(m.len());
        for s in &m {
            self.check_deadline()?;
            if let Some(v) = f(s, start, end) {
                out.push(Elem {
                    labels: if keep_name {
                        s.labels.clone()
                    } else {
                        s.labels.without_name()
                    },
                    t,
                    v,
                });
            }
        }
        Ok(Val::Vector(out))
    }

    pub fn call(&self, c: &Call, t: i64) -> Result<Val, QueryError> {
        let name = c.func.name;
        let args = &c.args.args;
        match name {
            "rate" | "increase" | "delta" => {
                let counter = name != "delta";
                let is_rate = name == "rate";
                let m = self.range_fn(c, t, 0, |s, start, end| {
                    extrapolated_rate(&s.points, start, end, counter, is_rate)
                })?;
                if counter {
                    self.warn_non_counter(&args[0], t);
                }
                Ok(m)
            }
            "irate" | "idelta" => {
                self.range_fn(c, t, 0, |s, _, _| instant_value(&s.points, name == "irate"))
            }
            "deriv" => self.range_fn(c, t, 0, |s, _, _| {
                (s.points.len() >= 2).then(|| linear_regression(&s.points, s.points[0].t).0)
            }),
            "predict_linear" => {
                let secs = self.arg_scalar(c, 1, t)?;
                self.range_fn(c, t, 0, |s, _, _| {
                    (s.points.len() >= 2).then(|| {
                        let (slope, intercept) = linear_regression(&s.points, t);
                        slope * secs + intercept
                    })
                })
            }
            "quantile_over_time" => {
                let q = self.arg_scalar(c, 0, t)?;
                if !(0.0..=1.0).contains(&q) {
                    self.warn(format!(
                        "PromQL warning: quantile value should be between 0 and 1, got {}",
                        super::value::go_float(q)
                    ));
                }
                self.range_fn(c, t, 1, |s, _, _| over_time(name, &s.points, q))
            }
            "double_exponential_smoothing" | "holt_winters" => {
                let sf = self.arg_scalar(c, 1, t)?;
                let tf = self.arg_scalar(c, 2, t)?;
                if !(sf > 0.0 && sf < 1.0) {
                    return Err(QueryError::Execution(format!(
                        "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf}"
                    )));
                }
                if !(tf > 0.0 && tf < 1.0) {
                    return Err(QueryError::Execution(format!(
                        "invalid trend factor. Expected: 0 < tf < 1, got: {tf}"
                    )));
                }
                self.range_fn(c, t, 0, |s, _, _| {
                    double_exponential_smoothing(&s.points, sf, tf)
                })
            }
            "avg_over_time"
            | "sum_over_time"
            | "count_over_time"
            | "min_over_time"
            | "max_over_time"
            | "last_over_time"
            | "first_over_time"
            | "present_over_time"
            | "stddev_over_time"
            | "stdvar_over_time"
            | "mad_over_time"
            | "changes"
            | "resets"
            | "ts_of_last_over_time"
            | "ts_of_first_over_time"
            | "ts_of_max_over_time"
            | "ts_of_min_over_time" => {
                self.range_fn(c, t, 0, |s, _, _| over_time(name, &s.points, 0.0))
            }
            "absent_over_time" => {
                let m = self.eval_matrix(&args[0], t)?;
                if m.is_empty() {
                    Ok(Val::Vector(vec![Elem {
                        labels: absent_labels(&args[0]),
                        t,
                        v: 1.0,
                    }]))
                } else {
                    Ok(Val::Vector(Vec::new()))
                }
            }
            "absent" => {
                let v = self.arg_vector(c, 0, t)?;
                if v.is_empty() {
                    Ok(Val::Vector(vec![Elem {
                        labels: absent_labels(&args[0]),
                        t,
                        v: 1.0,
                    }]))
                } else {
                    Ok(Val::Vector(Vec::new()))
                }
            }
            "abs" | "ceil" | "floor" | "exp" | "ln" | "log2" | "log10" | "sqrt" | "sgn" | "sin"
            | "cos" | "tan" | "asin" | "acos" | "atan" | "sinh" | "cosh" | "tanh" | "asinh"
            | "acosh" | "atanh" | "deg" | "rad" => {
                let v = self.arg_vector(c, 0, t)?;
                let f: fn(f64) -> f64 = match name {
                    "abs" => f64::abs,
                    "ceil" => f64::ceil,
                    "floor" => f64::floor,
                    "exp" => f64::exp,
                    "ln" => f64::ln,
                    "log2" => f64::log2,
                    "log10" => f64::log10,
                    "sqrt" => f64::sqrt,
                    "sgn" => |x: f64| {
                        if x > 0.0 {
                            1.0
                        } else if x < 0.0 {
                            -1.0
                        } else {
                            x
                        }
                    },
                    "sin" => f64::sin,
                    "cos" => f64::cos,
                    "tan" => f64::tan,
                    "asin" => f64::asin,
                    "acos" => f64::acos,
                    "atan" => f64::atan,
                    "sinh" => f64::sinh,
                    "cosh" => f64::cosh,
                    "tanh" => f64::tanh,
                    "asinh" => f64::asinh,
                    "acosh" => f64::acosh,
                    "atanh" => f64::atanh,
                    "deg" => f64::to_degrees,
                    _ => f64::to_radians,
                };
                Ok(map_values(v, t, f))
            }
            "round" => {
                let v = self.arg_vector(c, 0, t)?;
                let to = if args.len() > 1 {
                    self.arg_scalar(c, 1, t)?
                } else {
                    1.0
                };
                let inv = 1.0 / to;
                Ok(map_values(v, t, move |x| (x * inv + 0.5).floor() / inv))
            }
            "clamp" => {
                let v = self.arg_vector(c, 0, t)?;
                let (lo, hi) = (self.arg_scalar(c, 1, t)?, self.arg_scalar(c, 2, t)?);
                if hi < lo {
                    return Ok(Val::Vector(Vec::new()));
                }
                Ok(map_values(v, t, move |x| go_max(lo, go_min(hi, x))))
            }
            "clamp_min" => {
                let v = self.arg_vector(c, 0, t)?;
                let lo = self.arg_scalar(c, 1, t)?;
                Ok(map_values(v, t, move |x| go_max(lo, x)))
            }
            "clamp_max" => {
                let v = self.arg_vector(c, 0, t)?;
                let hi = self.arg_scalar(c, 1, t)?;
                Ok(map_values(v, t, move |x| go_min(hi, x)))
            }
            "timestamp" => {
                let v = self.arg_vector(c, 0, t)?;
                let direct = matches!(&*args[0], Expr::VectorSelector(_));
                Ok(Val::Vector(
                    v.into_iter()
                        .map(|e| Elem {
                            labels: e.labels.without_name(),
                            t,
                            v: if direct {
                                e.t as f64 / 1000.0
                            } else {
                                t as f64 / 1000.0
                            },
                        })
                        .collect(),
                ))
            }
            "vector" => Ok(Val::Vector(vec![Elem {
                labels: Labels::default(),
                t,
                v: self.arg_scalar(c, 0, t)?,
            }])),
            "scalar" => {
                let v = self.arg_vector(c, 0, t)?;
                Ok(Val::Scalar(if v.len() == 1 { v[0].v } else { f64::NAN }))
            }
            "time" => Ok(Val::Scalar(t as f64 / 1000.0)),
            "step" => Ok(Val::Scalar(self.step as f64 / 1000.0)),
            "range" => Ok(Val::Scalar((self.end - self.start) as f64 / 1000.0)),
            "start" => Ok(Val::Scalar(self.start as f64 / 1000.0)),
            "end" => Ok(Val::Scalar(self.end as f64 / 1000.0)),
            "min_of" | "max_of" => {
                let (a, b) = (self.arg_scalar(c, 0, t)?, self.arg_scalar(c, 1, t)?);
                Ok(Val::Scalar(if name == "min_of" {
                    go_min(a, b)
                } else {
                    go_max(a, b)
                }))
            }
            "pi" => Ok(Val::Scalar(std::f64::consts::PI)),
            "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc"
                if self.step > 0 && !self.sort_warned() =>
            {
                self.warn("PromQL warning: sort is ineffective for range queries since results are always ordered by labels".into());
                self.call(c, t)
            }
            "sort" | "sort_desc" => Ok(Val::Vector(sort_by_value(
                self.arg_vector(c, 0, t)?,
                name == "sort_desc",
            ))),
            "sort_by_label" | "sort_by_label_desc" => {
                let mut v = self.arg_vector(c, 0, t)?;
                let mut keys = Vec::new();
                for i in 1..args.len() {
                    keys.push(self.arg_str(c, i, t)?);
                }
                v.sort_by(|a, b| {
                    let mut o = std::cmp::Ordering::Equal;
                    for k in &keys {
                        o = natural_cmp(
                            a.labels.get(k).unwrap_or(""),
                            b.labels.get(k).unwrap_or(""),
                        );
                        if o != std::cmp::Ordering::Equal {
                            break;
                        }
                    }
                    if o == std::cmp::Ordering::Equal {
                        o = a.labels.cmp(&b.labels);
                    }
                    if name == "sort_by_label_desc" {
                        o.reverse()
                    } else {
                        o
                    }
                });
                Ok(Val::Vector(v))
            }
            "label_replace" => {
                let v = self.arg_vector(c, 0, t)?;
                let (dst, repl, src, re) = (
                    self.arg_str(c, 1, t)?,
                    self.arg_str(c, 2, t)?,
                    self.arg_str(c, 3, t)?,
                    self.arg_str(c, 4, t)?,
                );
                Ok(Val::Vector(label_replace(v, &dst, &repl, &src, &re)?))
            }
            "label_join" => {
                let v = self.arg_vector(c, 0, t)?;
                let (dst, sep) = (self.arg_str(c, 1, t)?, self.arg_str(c, 2, t)?);
                let mut srcs = Vec::new();
                for i in 3..args.len() {
                    srcs.push(self.arg_str(c, i, t)?);
                }
                Ok(Val::Vector(label_join(v, &dst, &sep, &srcs)?))
            }
            "histogram_quantiles" => {
                let v = self.arg_vector(c, 0, t)?;
                let label = self.arg_str(c, 1, t)?;
                if let Some(e) = v.iter().find(|e| e.labels.get(&label).is_some()) {
                    return Err(QueryError::Execution(format!(
                        "label {label:?} already exists in the input series {}",
                        e.labels
                    )));
                }
                let mut out = Vec::new();
                for i in 2..args.len() {
                    let q = self.arg_scalar(c, i, t)?;
                    if !(0.0..=1.0).contains(&q) {
                        self.warn(format!(
                            "PromQL warning: quantile value should be between 0 and 1, got {}",
                            super::value::go_float(q)
                        ));
                    }
                    let (res, fixed, bad) =
                        histogram_quantile(q, v.clone(), t).map_err(|_| same_labelset())?;
                    self.histogram_annotations(fixed, &bad);
                    let qs = if q.fract() == 0.0 && q.is_finite() {
                        format!("{q:.1}")
                    } else {
                        super::value::go_float(q)
                    };
                    for mut e in res {
                        e.labels.set(&label, &qs);
                        out.push(e);
                    }
                }
                Ok(Val::Vector(out))
            }
            "histogram_quantile" => {
                let q = self.arg_scalar(c, 0, t)?;
                let v = self.arg_vector(c, 1, t)?;
                let (out, fixed, bad) = histogram_quantile(q, v, t).map_err(|_| same_labelset())?;
                self.histogram_annotations(fixed, &bad);
                if !(0.0..=1.0).contains(&q) {
                    self.warn(format!(
                        "PromQL warning: quantile value should be between 0 and 1, got {}",
                        super::value::go_float(q)
                    ));
                }
                Ok(Val::Vector(out))
            }
            "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month" | "hour"
            | "minute" | "month" | "year" => {
                if args.is_empty() {
                    return Ok(Val::Vector(vec![Elem {
                        labels: Labels::default(),
                        t,
                        v: date_fn(name, t as f64 / 1000.0),
                    }]));
                }
                let v = self.arg_vector(c, 0, t)?;
                Ok(map_values(v, t, |x| date_fn(name, x)))
            }
            "histogram_fraction" => {
                let (lo, hi) = (self.arg_scalar(c, 0, t)?, self.arg_scalar(c, 1, t)?);
                let v = self.arg_vector(c, 2, t)?;
                let f = super::histogram::BucketFn::Fraction(lo, hi);
                let (out, _, bad) =
                    super::histogram::histogram_fn(f, v, t).map_err(|_| same_labelset())?;
                self.histogram_annotations(None, &bad);
                Ok(Val::Vector(out))
            }
            // Native-histogram functions: classic (float) series have no native histograms.
            "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
            | "histogram_stdvar" => Ok(Val::Vector(Vec::new())),
            other => Err(QueryError::BadData(format!(
                "function {other:?} is not supported"
            ))),
        }
    }

    /// Annotations of `histogram_quantile(s)`.
    fn histogram_annotations(&self, fixed: Option<String>, bad: &[Labels]) {
        if let Some(name) = fixed {
            self.info(format!("PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {name:?}"));
        }
        if let Some(b) = bad.first() {
            self.warn(format!(
                "PromQL warning: bucket label \"le\" is missing or has a malformed value of {:?} for metric name {:?}",
                b.get("le").unwrap_or(""),
                b.metric_name().unwrap_or("")
            ));
        }
    }

    /// Prometheus's info annotation for rate/increase over a metric that does
    /// not look like a counter.
    fn warn_non_counter(&self, arg: &Expr, _t: i64) {
        let name = match arg {
            Expr::MatrixSelector(ms) => ms.vs.name.clone(),
            _ => None,
        };
        if let Some(n) = name
            && !(n.ends_with("_total")
                || n.ends_with("_sum")
                || n.ends_with("_count")
                || n.ends_with("_bucket"))
        {
            self.info(format!("PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {n:?}"));
        }
    }
}
