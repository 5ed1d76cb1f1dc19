//! Parsing test scripts into commands.

use super::values::{MAX_SCRIPT_POINTS, Point, expand, parse_float};
use crate::model::{Labels, METRIC_NAME};

#[derive(Debug, Clone)]
pub struct SeriesLine {
    pub labels: Labels,
    pub points: Vec<Point>,
}

#[derive(Debug, Clone)]
pub enum EvalKind {
    Instant { t: i64 },
    Range { start: i64, end: i64, step: i64 },
}

/// What an annotation expectation says.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Annotation {
    #[default]
    Unchecked,
    Expected(Option<MsgMatch>),
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MsgMatch {
    Exact(String),
    Regex(String),
}

#[derive(Debug, Clone)]
pub enum Expected {
    Nothing,
    Scalar(f64),
    Str(String),
    Series(Vec<SeriesLine>),
}

#[derive(Debug, Clone)]
pub struct EvalCase {
    pub line: usize,
    pub query: String,
    pub kind: EvalKind,
    pub fail: Option<Option<MsgMatch>>,
    pub ordered: bool,
    pub warn: Annotation,
    pub info: Annotation,
    pub expected: Expected,
    /// `expect range vector from A to B step S`: an instant query returning
    /// a range vector, compared from A every S.
    pub range_result: Option<(i64, i64)>,
    /// Why the case is skipped (native histograms), if it is.
    pub skip: Option<String>,
    /// A syntax problem in the case itself: it counts as failed.
    pub broken: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Command {
    Load {
        step: i64,
        series: Vec<SeriesLine>,
        /// Series loaded with native histogram values (not loaded here).
        native: Vec<Labels>,
        nhcb: bool,
    },
    Clear,
    Eval(Box<EvalCase>),
}

/// Parses a duration (`5m`, `1h30m`, `10s53ms`) or plain seconds into ms,
/// within the times the engine accepts.
pub fn duration_ms(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        return crate::promql::limits::seconds_to_ms(f)
            .ok_or_else(|| format!("bad duration {s:?}: out of bounds"));
    }
    let neg = s.starts_with('-');
    // "0m", "0s": zero in any unit (the parser insists on positive durations).
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c.is_ascii_alphabetic())
        && s.contains('0')
    {
        return Ok(0);
    }
    let d = crate::promql::limits::parse_duration(s.trim_start_matches('-'))
        .map_err(|e| format!("bad duration {s:?}: {e}"))?;
    let ms = crate::promql::limits::duration_ms(&d);
    Ok(if neg { -ms } else { ms })
}

/// Splits `selector values...` at the end of the selector.
fn split_series(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut depth = 0;
    let mut in_str: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == q {
                in_str = None;
            }
        } else if c == b'"' || c == b'\'' || c == b'`' {
            in_str = Some(c);
        } else if c == b'{' {
            depth += 1;
        } else if c == b'}' {
            depth -= 1;
            if depth == 0 {
                return (&line[..=i], line[i + 1..].trim());
            }
        } else if depth == 0 && c.is_ascii_whitespace() {
            return (&line[..i], line[i..].trim());
        }
        i += 1;
    }
    (line, "")
}

/// A series selector of a test script (a name and/or equality matchers).
pub fn parse_labels(sel: &str) -> Result<Labels, String> {
    let s = sel.trim();
    if s == "{}" {
        return Ok(Labels::default());
    }
    let expr = crate::promql::parse(s).map_err(|e| format!("bad series {s:?}: {e}"))?;
    let promql_parser::parser::Expr::VectorSelector(vs) = expr else {
        return Err(format!("{s:?} is not a series"));
    };
    let mut l = Labels::default();
    if let Some(n) = &vs.name {
        l.set(METRIC_NAME, n);
    }
    for m in &vs.matchers.matchers {
        l.set(&m.name, &m.value);
    }
    Ok(l)
}

fn series_line(line: &str, budget: &mut usize) -> Result<SeriesLine, String> {
    let (sel, rest) = split_series(line.trim());
    let labels = parse_labels(sel)?;
    let points = expand(&rest.split_whitespace().collect::<Vec<_>>(), budget)?;
    Ok(SeriesLine { labels, points })
}

fn msg_match(rest: &str) -> Option<MsgMatch> {
    let rest = rest.trim();
    if let Some(m) = rest.strip_prefix("msg:") {
        Some(MsgMatch::Exact(m.trim().to_string()))
    } else {
        rest.strip_prefix("regex:")
            .map(|r| MsgMatch::Regex(r.trim().to_string()))
    }
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2
        && (s.starts_with('"') && s.ends_with('"') || s.starts_with('`') && s.ends_with('`'))
    {
        s[1..s.len() - 1].replace("\\\"", "\"")
    } else {
        s.to_string()
    }
}

fn parse_eval(head: &str, line: usize, body: &[&str], budget: &mut usize) -> EvalCase {
    let mut case = EvalCase {
        line,
        query: String::new(),
        kind: EvalKind::Instant { t: 0 },
        fail: None,
        ordered: false,
        warn: Annotation::Unchecked,
        info: Annotation::Unchecked,
        expected: Expected::Nothing,
        range_result: None,
        skip: None,
        broken: None,
    };
    let (cmd, rest) = head.split_once(char::is_whitespace).unwrap_or((head, ""));
    match cmd {
        "eval_fail" => case.fail = Some(None),
        "eval_ordered" => case.ordered = true,
        "eval_warn" => case.warn = Annotation::Expected(None),
        "eval_info" => case.info = Annotation::Expected(None),
        _ => {}
    }
    let rest = rest.trim();
    let parsed: Result<(), String> = (|| {
        if let Some(r) = rest.strip_prefix("instant") {
            let r = r.trim().strip_prefix("at").ok_or("expected `at`")?.trim();
            let (t, q) = r.split_once(char::is_whitespace).ok_or("missing query")?;
            case.kind = EvalKind::Instant { t: duration_ms(t)? };
            case.query = q.trim().to_string();
        } else if let Some(r) = rest.strip_prefix("range") {
            let parts: Vec<&str> = r.split_whitespace().collect();
            if parts.len() < 7 || parts[0] != "from" || parts[2] != "to" || parts[4] != "step" {
                return Err("expected `range from A to B step S QUERY`".into());
            }
            case.kind = EvalKind::Range {
                start: duration_ms(parts[1])?,
                end: duration_ms(parts[3])?,
                step: duration_ms(parts[5])?,
            };
            // The query follows the step's value.
            let after_step = r.find(" step ").map(|i| i + " step ".len()).unwrap_or(0);
            let rest = r[after_step..].trim_start();
            let q = rest
                .split_once(char::is_whitespace)
                .map(|(_, q)| q)
                .unwrap_or("");
            case.query = q.trim().to_string();
        } else {
            return Err(format!("unknown eval form {rest:?}"));
        }
        Ok(())
    })();
    if let Err(e) = parsed {
        case.broken = Some(e);
        return case;
    }
    let mut series = Vec::new();
    for l in body {
        let t = l.trim();
        if let Some(e) = t.strip_prefix("expect ") {
            let (what, r) = e.split_once(char::is_whitespace).unwrap_or((e, ""));
            match what {
                "fail" => case.fail = Some(msg_match(r)),
                "ordered" => case.ordered = true,
                "warn" => case.warn = Annotation::Expected(msg_match(r)),
                "info" => case.info = Annotation::Expected(msg_match(r)),
                "no_warn" => case.warn = Annotation::None,
                "no_info" => case.info = Annotation::None,
                "string" => case.expected = Expected::Str(unquote(r)),
                "range" => {
                    let p: Vec<&str> = r.split_whitespace().collect();
                    let parsed = match (p.first(), p.get(1), p.get(3), p.get(5), p.get(6)) {
                        (
                            Some(&"vector"),
                            Some(&"from"),
                            Some(&"to"),
                            Some(&"step"),
                            Some(step),
                        ) => match (p.get(2).map(|s| duration_ms(s)), duration_ms(step)) {
                            (Some(Ok(start)), Ok(step)) => Some((start, step)),
                            _ => None,
                        },
                        _ => None,
                    };
                    match parsed {
                        Some(rs) => case.range_result = Some(rs),
                        None => case.broken = Some(format!("bad range expectation {r:?}")),
                    }
                }
                other => case.broken = Some(format!("unknown expectation {other:?}")),
            }
            continue;
        }
        if t.contains("{{") {
            case.skip = Some("native histogram expected".into());
            continue;
        }
        let first = t.split_whitespace().next().unwrap_or("");
        if !t.contains(char::is_whitespace) && parse_float(first).is_ok() {
            match parse_float(first) {
                Ok(v) => case.expected = Expected::Scalar(v),
                Err(e) => case.broken = Some(e),
            }
            continue;
        }
        match series_line(t, budget) {
            Ok(s) => series.push(s),
            Err(e) => case.broken = Some(e),
        }
    }
    if !series.is_empty() {
        case.expected = Expected::Series(series);
    }
    case
}

/// Parses a whole script. Errors in load blocks are reported with their line.
pub fn parse_script(text: &str) -> Result<Vec<Command>, (usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut budget = MAX_SCRIPT_POINTS;
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i];
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') || raw.starts_with(char::is_whitespace) {
            i += 1;
            continue;
        }
        let start = i;
        let mut body = Vec::new();
        i += 1;
        while i < lines.len()
            && lines[i].starts_with(char::is_whitespace)
            && !lines[i].trim().is_empty()
        {
            if !lines[i].trim().starts_with('#') {
                body.push(lines[i]);
            }
            i += 1;
        }
        let word = t.split_whitespace().next().unwrap_or("");
        match word {
            "clear" => out.push(Command::Clear),
            "load" | "load_with_nhcb" => {
                let step = t
                    .split_whitespace()
                    .nth(1)
                    .ok_or((start + 1, "load needs a step".to_string()))?;
                // Prometheus's model.ParseDuration: no negative steps.
                let step = duration_ms(step)
                    .ok()
                    .filter(|s| *s >= 0)
                    .ok_or_else(|| {
                        (
                            start + 1,
                            format!(
                                "invalid step definition {step:?}: not a valid duration string: {step:?}"
                            ),
                        )
                    })?;
                let mut series = Vec::new();
                let mut native = Vec::new();
                for (k, l) in body.iter().enumerate() {
                    if l.contains("{{") {
                        let (sel, _) = split_series(l.trim());
                        if let Ok(lb) = parse_labels(sel) {
                            native.push(lb);
                        }
                        continue;
                    }
                    series.push(series_line(l, &mut budget).map_err(|e| (start + 2 + k, e))?);
                }
                out.push(Command::Load {
                    step,
                    series,
                    native,
                    nhcb: word == "load_with_nhcb",
                });
            }
            w if w.starts_with("eval") => out.push(Command::Eval(Box::new(parse_eval(
                t,
                start + 1,
                &body,
                &mut budget,
            )))),
            other => return Err((start + 1, format!("unknown command {other:?}"))),
        }
    }
    Ok(out)
}
