//! Synthetic input for the SLI queries of a spec: for every selector of
//! every query one series that the selector matches, with a timeline of
//! incidents (a short total outage, a fast burn, a slow burn, a long
//! simmer) so that the page and ticket alerts fire and resolve.

use std::collections::BTreeMap;

use alerting::slo::{Sli, Slo, placeholder};
use promql_parser::label::MatchOp;
use promql_parser::parser::{Expr, VectorSelector, parse};

/// Minutes of input: four days.
pub const MINUTES: usize = 4 * 24 * 60;

/// Seconds between samples: 2m30s, so that even the 5m windows hold two
/// samples whether the range is closed on the left (Prometheus 2) or not (3).
pub const SAMPLE_SECS: usize = 150;

const SAMPLES: usize = MINUTES * 60 / SAMPLE_SECS;

/// How a series behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Profile {
    /// A counter of all events: 100 a minute.
    Total,
    /// A counter of failed events: bursts along the timeline.
    Errors,
    /// A counter of good events (e.g. a latency bucket): total less errors.
    Good,
    /// A gauge between 0 and 1 (e.g. a satisfaction ratio), low in incidents.
    Gauge,
}

/// Errors a minute (of 100 events) at minute `m`.
fn errors_at(m: usize) -> f64 {
    match m {
        600..660 => 30.0,    // 30 % for 1 h: a fast burn.
        1200..1560 => 2.0,   // 2 % for 6 h: a slow burn.
        2400..4200 => 0.4,   // 0.4 % for 30 h: a ticket.
        4800..4830 => 100.0, // all failing for 30 min.
        _ => 0.01,
    }
}

fn gauge_at(m: usize) -> f64 {
    match m {
        600..660 => 0.3,
        1200..1560 => 0.6,
        2400..4200 => 0.7,
        4800..4830 => 0.2,
        _ => 0.9,
    }
}

/// The values of a series in promtool's expanding notation, one sample
/// every SAMPLE_SECS.
fn values(p: Profile) -> String {
    let minute = |i: usize| i * SAMPLE_SECS / 60;
    let per_sample = SAMPLE_SECS as f64 / 60.0;
    let step = |i: usize| match p {
        Profile::Total => 100.0 * per_sample,
        Profile::Errors => errors_at(minute(i)) * per_sample,
        Profile::Good => (100.0 - errors_at(minute(i))) * per_sample,
        Profile::Gauge => 0.0,
    };
    let mut segs = Vec::new();
    let mut m = 0;
    let mut v = 0.0;
    while m < SAMPLES {
        let (start, inc) = match p {
            Profile::Gauge => (gauge_at(minute(m)), 0.0),
            _ => (v, step(m)),
        };
        let mut n = 1;
        while m + n < SAMPLES
            && match p {
                Profile::Gauge => gauge_at(minute(m + n)) == start,
                _ => step(m + n) == inc,
            }
        {
            n += 1;
        }
        // `a+bxk` is k+1 samples: a, a+b, ..., a+k*b.
        segs.push(format!("{start}+{inc}x{}", n - 1));
        v = start + inc * n as f64;
        m += n;
    }
    segs.join(" ")
}

/// A label value the matcher accepts.
fn value_for(op: &MatchOp, value: &str) -> Option<String> {
    const CANDIDATES: [&str; 9] = ["500", "503", "429", "200", "404", "GET", "0.4", "x", ""];
    let re = |v: &str| regex::Regex::new(&format!("^(?:{v})$")).ok();
    match op {
        MatchOp::Equal => Some(value.to_string()),
        MatchOp::NotEqual => Some(if value == "other" { "other2" } else { "other" }.into()),
        MatchOp::Re(_) => {
            let r = re(value)?;
            CANDIDATES
                .iter()
                .find(|c| r.is_match(c))
                .map(|c| c.to_string())
        }
        MatchOp::NotRe(_) => {
            let r = re(value)?;
            CANDIDATES
                .iter()
                .find(|c| !r.is_match(c))
                .map(|c| c.to_string())
        }
    }
}

/// `metric{label="value",...}` for a series the selector matches.
fn series_for(vs: &VectorSelector) -> String {
    let mut labels = BTreeMap::new();
    let mut name = vs.name.clone().unwrap_or_default();
    for m in &vs.matchers.matchers {
        let Some(v) = value_for(&m.op, &m.value) else {
            continue;
        };
        if m.name == "__name__" {
            name = v;
        } else if !v.is_empty() {
            labels.insert(m.name.clone(), v);
        }
    }
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

fn walk(e: &Expr, counter_ctx: bool, out: &mut Vec<(VectorSelector, bool)>) {
    match e {
        Expr::VectorSelector(vs) => out.push((vs.clone(), false)),
        Expr::MatrixSelector(ms) => out.push((ms.vs.clone(), counter_ctx)),
        Expr::Aggregate(a) => {
            walk(&a.expr, false, out);
            if let Some(p) = &a.param {
                walk(p, false, out);
            }
        }
        Expr::Unary(u) => walk(&u.expr, false, out),
        Expr::Binary(b) => {
            walk(&b.lhs, false, out);
            walk(&b.rhs, false, out);
        }
        Expr::Paren(p) => walk(&p.expr, false, out),
        Expr::Subquery(s) => walk(&s.expr, false, out),
        Expr::Call(c) => {
            let counter = matches!(c.func.name, "rate" | "irate" | "increase");
            for a in &c.args.args {
                walk(a, counter, out);
            }
        }
        _ => {}
    }
}

fn selectors(query: &str) -> Vec<(VectorSelector, bool)> {
    let mut out = Vec::new();
    if let Ok(e) = parse(&placeholder::fill(query, "5m")) {
        walk(&e, false, &mut out);
    }
    out
}

/// The `input_series` entries (series, values) for every query of `slos`.
pub fn input_series(slos: &[Slo]) -> BTreeMap<String, String> {
    let mut profiles: BTreeMap<String, Profile> = BTreeMap::new();
    let mut add = |query: &str, counter_role: Profile| {
        for (vs, counter) in selectors(query) {
            let bucket = vs.matchers.matchers.iter().any(|m| m.name == "le");
            let p = match (counter, counter_role) {
                (false, _) => Profile::Gauge,
                (true, Profile::Errors) if bucket => Profile::Good,
                (true, r) => r,
            };
            profiles.entry(series_for(&vs)).or_insert(p);
        }
    };
    // Totals first: a series in both queries counts all events.
    for s in slos {
        if let Sli::Events { total_query, .. } = &s.sli {
            add(total_query, Profile::Total);
        }
    }
    for s in slos {
        match &s.sli {
            Sli::Events { error_query, .. } => add(error_query, Profile::Errors),
            Sli::Raw { error_ratio_query } => add(error_ratio_query, Profile::Errors),
        }
    }
    profiles.into_iter().map(|(k, p)| (k, values(p))).collect()
}

#[test]
fn counters_follow_the_timeline() {
    let v = values(Profile::Errors);
    // 0.01 errors a minute for 600 minutes (240 samples), then 30 a minute.
    assert!(v.starts_with("0+0.025x239 6+75x23 "), "{v}");
    let samples: usize = v
        .split(' ')
        .map(|s| s.rsplit('x').next().unwrap().parse::<usize>().unwrap() + 1)
        .sum();
    assert_eq!(samples, SAMPLES);
    assert!(values(Profile::Gauge).starts_with("0.9+0x239 0.3+0x23 "));
}
