//! A runner for Prometheus's PromQL test scripts (the `promqltest` format):
//! loads the data into a real in-memory [`Tsdb`], runs every `eval` through
//! our engine and compares with the expected results.

pub mod parse;
pub mod values;

use std::path::Path;

use parse::{Annotation, Command, EvalCase, EvalKind, Expected, MsgMatch, parse_script};
use values::Point;

use crate::model::{Appender, Labels, Sample, stale_nan};
use crate::promql::{Engine, QueryError, QueryResult, Value};
use crate::tsdb::{Tsdb, TsdbOptions};

/// Outcome of one script.
#[derive(Debug, Default, Clone)]
pub struct FileReport {
    pub file: String,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// (line, reason) of each failed case.
    pub failures: Vec<(usize, String)>,
    /// (line, reason) of each skipped case.
    pub skips: Vec<(usize, String)>,
}

/// Functions that only work on native histograms.
const NATIVE_ONLY: &[&str] = &[
    "histogram_count(",
    "histogram_sum(",
    "histogram_avg(",
    "histogram_stddev(",
    "histogram_stdvar(",
];

fn new_db() -> Tsdb {
    Tsdb::in_memory(TsdbOptions {
        background: false,
        ..TsdbOptions::default()
    })
}

/// Prometheus's `almost.Equal` with the runner's epsilon.
pub fn almost_equal(a: f64, b: f64) -> bool {
    const EPS: f64 = 1e-6;
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a.is_nan() && b.is_nan() || a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < EPS * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < EPS
}

/// A native histogram series the query's selectors match, if any.
fn reads_native<'a>(query: &str, native: &'a [Labels]) -> Option<&'a Labels> {
    if native.is_empty() {
        return None;
    }
    let groups = crate::promql::selectors_in(query).ok()?;
    native
        .iter()
        .find(|l| groups.iter().any(|g| g.iter().all(|m| m.matches_labels(l))))
}

/// Drops the ` (line:col)` position Prometheus appends to annotations: we
/// do not track expression positions (documented in docs/promql-conformance.md).
fn strip_position(s: &str) -> &str {
    if let Some(i) = s.rfind(" (")
        && s.ends_with(')')
        && s[i + 2..s.len() - 1]
            .split(':')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return &s[..i];
    }
    s
}

fn msg_ok(m: &MsgMatch, got: &str) -> bool {
    match m {
        MsgMatch::Exact(s) => got == s || got.ends_with(s.as_str()) || got == strip_position(s),
        MsgMatch::Regex(r) => {
            // The position suffix, written as `\([0-9]+:[0-9]+\)` or `\(1:21\)`.
            let pos = regex::Regex::new(r" \\\((\[0-9\]\+|\d+):(\[0-9\]\+|\d+)\\\)$").ok();
            let r = pos
                .map(|p| p.replace(r, "").into_owned())
                .unwrap_or_else(|| r.clone());
            regex::Regex::new(&r).is_ok_and(|re| re.is_match(got))
        }
    }
}

fn check_annotation(kind: &str, want: &Annotation, got: &[String]) -> Result<(), String> {
    match want {
        Annotation::Unchecked => Ok(()),
        Annotation::None if got.is_empty() => Ok(()),
        Annotation::None => Err(format!("unexpected {kind}: {got:?}")),
        Annotation::Expected(None) if !got.is_empty() => Ok(()),
        Annotation::Expected(Some(m)) if got.iter().any(|g| msg_ok(m, g)) => Ok(()),
        Annotation::Expected(m) => Err(format!("expected {kind} {m:?}, got {got:?}")),
    }
}

fn compare_instant(case: &EvalCase, got: &Value) -> Result<(), String> {
    match (&case.expected, got) {
        (Expected::Scalar(want), Value::Scalar { v, .. }) => {
            if almost_equal(*want, *v) {
                Ok(())
            } else {
                Err(format!("expected scalar {want}, got {v}"))
            }
        }
        (Expected::Str(want), Value::String { v, .. }) => {
            if want == v {
                Ok(())
            } else {
                Err(format!("expected string {want:?}, got {v:?}"))
            }
        }
        (Expected::Nothing, Value::Vector(v)) if v.is_empty() => Ok(()),
        (Expected::Nothing, Value::Matrix(m)) if m.is_empty() => Ok(()),
        (Expected::Series(want), Value::Vector(v)) => {
            if want.len() != v.len() {
                let got: Vec<String> = v.iter().map(|s| format!("{} {}", s.labels, s.v)).collect();
                return Err(format!(
                    "expected {} samples, got {}: {got:?}",
                    want.len(),
                    v.len()
                ));
            }
            for (i, w) in want.iter().enumerate() {
                let Some(Point::Value(wv)) = w.points.first().copied() else {
                    return Err(format!("expected line for {} has no value", w.labels));
                };
                let found = if case.ordered {
                    v.get(i).filter(|s| s.labels == w.labels)
                } else {
                    v.iter().find(|s| s.labels == w.labels)
                };
                match found {
                    Some(s) if almost_equal(wv, s.v) => {}
                    Some(s) => return Err(format!("{}: expected {wv}, got {}", w.labels, s.v)),
                    None => {
                        let got: Vec<String> = v.iter().map(|s| s.labels.to_string()).collect();
                        return Err(format!(
                            "expected {} (at position {i}) not in result {got:?}",
                            w.labels
                        ));
                    }
                }
            }
            Ok(())
        }
        (want, got) => Err(format!(
            "expected {want:?}, got {} {got:?}",
            got.type_name()
        )),
    }
}

fn compare_range(case: &EvalCase, start: i64, step: i64, got: &Value) -> Result<(), String> {
    let Value::Matrix(m) = got else {
        return Err(format!("expected a matrix, got {}", got.type_name()));
    };
    let want: Vec<parse::SeriesLine> = match &case.expected {
        Expected::Series(s) => s.clone(),
        Expected::Nothing => Vec::new(),
        Expected::Scalar(v) => vec![parse::SeriesLine {
            labels: Labels::default(),
            points: vec![Point::Value(*v)],
        }],
        Expected::Str(_) => return Err("a range query cannot return a string".into()),
    };
    if want.len() != m.len() {
        let got: Vec<String> = m.iter().map(|s| s.labels.to_string()).collect();
        return Err(format!(
            "expected {} series, got {}: {got:?}",
            want.len(),
            m.len()
        ));
    }
    for w in &want {
        let Some(s) = m.iter().find(|s| s.labels == w.labels) else {
            return Err(format!("series {} missing", w.labels));
        };
        let mut expected: Vec<Sample> = Vec::new();
        for (k, p) in w.points.iter().enumerate() {
            let t = start.saturating_add((k as i64).saturating_mul(step));
            match p {
                Point::Value(v) => expected.push(Sample { t, v: *v }),
                Point::Stale => expected.push(Sample { t, v: stale_nan() }),
                Point::Missing => {}
            }
        }
        if expected.len() != s.samples.len()
            || expected
                .iter()
                .zip(&s.samples)
                .any(|(a, b)| a.t != b.t || !almost_equal(a.v, b.v))
        {
            let fmt = |v: &[Sample]| {
                v.iter()
                    .map(|p| format!("{}@{}", p.v, p.t / 1000))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            return Err(format!(
                "{}: expected [{}], got [{}]",
                w.labels,
                fmt(&expected),
                fmt(&s.samples)
            ));
        }
    }
    Ok(())
}

fn run_case(engine: &Engine, db: &Tsdb, case: &EvalCase) -> Result<(), String> {
    let result: Result<QueryResult, QueryError> = match case.kind {
        EvalKind::Instant { t } => engine.instant_query(db, &case.query, t),
        EvalKind::Range { start, end, step } => {
            engine.range_query(db, &case.query, start, end, step)
        }
    };
    match (&case.fail, result) {
        (Some(m), Err(e)) => match m {
            Some(m) if !msg_ok(m, &e.to_string()) => Err(format!(
                "failed as expected, but with {:?}, not {m:?}",
                e.to_string()
            )),
            _ => Ok(()),
        },
        (Some(_), Ok(r)) => Err(format!(
            "expected the query to fail; it returned {:?}",
            r.value
        )),
        (None, Err(e)) => Err(format!("query failed: {e}")),
        (None, Ok(r)) => {
            check_annotation("warning", &case.warn, &r.warnings)?;
            check_annotation("info", &case.info, &r.infos)?;
            match case.kind {
                EvalKind::Instant { .. } if case.range_result.is_some() => {
                    let (start, step) = case.range_result.unwrap_or_default();
                    compare_range(case, start, step, &r.value)
                }
                EvalKind::Instant { .. } => compare_instant(case, &r.value),
                EvalKind::Range { start, step, .. } => compare_range(case, start, step, &r.value),
            }
        }
    }
}

/// Runs a script's text with the default engine (2-minute query timeout);
/// `name` labels the report.
pub fn run_script(name: &str, text: &str) -> FileReport {
    run_script_with(name, text, &Engine::default())
}

/// Runs a script's text with `engine` (e.g. a shorter timeout).
pub fn run_script_with(name: &str, text: &str, engine: &Engine) -> FileReport {
    let mut report = FileReport {
        file: name.to_string(),
        ..FileReport::default()
    };
    let commands = match parse_script(text) {
        Ok(c) => c,
        Err((line, e)) => {
            report.failed += 1;
            report
                .failures
                .push((line, format!("cannot parse the script: {e}")));
            return report;
        }
    };
    let mut db = new_db();
    // Series that are native histograms (or, with load_with_nhcb, also are).
    let mut native: Vec<Labels> = Vec::new();
    for cmd in commands {
        match cmd {
            Command::Clear => {
                db = new_db();
                native.clear();
            }
            Command::Load {
                step,
                series,
                native: nat,
                nhcb,
            } => {
                native.extend(nat);
                // A series given twice in one block: later values win.
                let mut merged: Vec<parse::SeriesLine> = Vec::new();
                for s in series {
                    match merged.iter_mut().find(|m| m.labels == s.labels) {
                        Some(m) => {
                            for (i, p) in s.points.into_iter().enumerate() {
                                if p == Point::Missing {
                                    continue;
                                }
                                if i < m.points.len() {
                                    m.points[i] = p;
                                } else {
                                    m.points.resize(i, Point::Missing);
                                    m.points.push(p);
                                }
                            }
                        }
                        None => merged.push(s),
                    }
                }
                let mut batch = Vec::new();
                for s in &merged {
                    if nhcb && let Some(name) = s.labels.metric_name() {
                        // Also converted to a native histogram named without
                        // the suffix: queries on that name read native data.
                        let base = ["_bucket", "_count", "_sum"]
                            .iter()
                            .find_map(|suf| name.strip_suffix(suf))
                            .unwrap_or(name)
                            .to_string();
                        let mut l = s.labels.clone();
                        l.set(crate::model::METRIC_NAME, &base);
                        l.remove("le");
                        native.push(l);
                    }
                    for (i, p) in s.points.iter().enumerate() {
                        let t = (i as i64).saturating_mul(step);
                        match p {
                            Point::Value(v) => batch.push((s.labels.clone(), Sample { t, v: *v })),
                            Point::Stale => {
                                batch.push((s.labels.clone(), Sample { t, v: stale_nan() }))
                            }
                            Point::Missing => {}
                        }
                    }
                }
                if let Err(e) = db.append(&batch) {
                    report.failed += 1;
                    report.failures.push((0, format!("loading data: {e}")));
                }
            }
            Command::Eval(case) => {
                if let Some(b) = &case.broken {
                    report.failed += 1;
                    report
                        .failures
                        .push((case.line, format!("cannot parse the case: {b}")));
                    continue;
                }
                let native_use = reads_native(&case.query, &native)
                    .map(|l| format!("reads native histogram series {l}"));
                let native_fn = NATIVE_ONLY
                    .iter()
                    .find(|f| case.query.contains(*f))
                    .map(|f| format!("native histogram function {}", f.trim_end_matches('(')));
                if let Some(reason) = case.skip.clone().or(native_use).or(native_fn) {
                    report.skipped += 1;
                    report.skips.push((case.line, reason));
                    continue;
                }
                match run_case(engine, &db, &case) {
                    Ok(()) => report.passed += 1,
                    Err(e) => {
                        report.failed += 1;
                        report
                            .failures
                            .push((case.line, format!("{}: {e}", case.query)));
                    }
                }
            }
        }
    }
    report
}

/// Runs one script file.
pub fn run_file(path: &Path) -> FileReport {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => run_script(&name, &text),
        Err(e) => FileReport {
            file: name,
            failed: 1,
            failures: vec![(0, format!("cannot read: {e}"))],
            ..FileReport::default()
        },
    }
}
