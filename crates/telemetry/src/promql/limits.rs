//! Bounds on what a query may ask for, checked before any work is done, so
//! no input can exhaust the stack, the memory or a core:
//!
//! * the query text: at most [`MAX_QUERY_BYTES`], nesting at most
//!   [`MAX_EXPR_DEPTH`] deep ([`check_text`], a lexical scan run before the
//!   parser, which recurses itself; [`ast_depth`] checks the parsed tree);
//! * times: within Prometheus's representable range ([`MIN_TIME_MS`],
//!   [`MAX_TIME_MS`]), for API parameters and `@` modifiers alike;
//! * range queries: at most [`MAX_POINTS`] steps ([`check_resolution`]).
//!
//! Prometheus itself has no depth or length limit (Go stacks grow); ours are
//! far above what real dashboards and rules use (docs/promql-conformance.md).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use promql_parser::parser::{AtModifier, Expr, Offset};

use super::QueryError;

/// Longest query text accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 128 * 1024;

/// Deepest expression accepted: levels of the syntax tree. Every binary
/// operator of a chain adds a level (`a+a+a` is two levels deep, a left-deep
/// tree), as does every parenthesis, call, aggregation, unary sign or
/// subquery.
pub const MAX_EXPR_DEPTH: usize = 1000;

/// Most points per series a range query may produce, as in Prometheus.
pub const MAX_POINTS: i64 = 11_000;

/// Earliest time accepted (ms): Prometheus's `MinTime` of the HTTP API.
pub const MIN_TIME_MS: i64 = (i64::MIN / 1000 + 62_135_596_801) * 1000;

/// Latest time accepted (ms): Prometheus's `MaxTime` of the HTTP API.
pub const MAX_TIME_MS: i64 = (i64::MAX / 1000 - 62_135_596_801) * 1000 + 999;

/// Milliseconds of a Unix time in (float) seconds, or `None` when it falls
/// outside [`MIN_TIME_MS`, `MAX_TIME_MS`] (or is not finite).
pub fn seconds_to_ms(secs: f64) -> Option<i64> {
    let ms = (secs * 1000.0).round();
    // The bounds are exact in f64 to within 1 ms: compare in f64 first, then in i64.
    if !ms.is_finite() || ms < MIN_TIME_MS as f64 || ms > MAX_TIME_MS as f64 {
        return None;
    }
    let ms = ms as i64;
    (MIN_TIME_MS..=MAX_TIME_MS).contains(&ms).then_some(ms)
}

/// Prometheus's error for an `@` timestamp it cannot represent.
pub fn at_out_of_bounds(secs: f64) -> QueryError {
    let shown = if secs.is_nan() {
        "NaN".to_string()
    } else if secs.is_infinite() {
        if secs > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{secs:.6}")
    };
    QueryError::Parse(format!(
        "invalid parameter \"query\": timestamp out of bounds for @ modifier: {shown}"
    ))
}

fn too_deep() -> QueryError {
    QueryError::Parse(format!(
        "invalid parameter \"query\": expression nests too deeply: more than {MAX_EXPR_DEPTH} levels"
    ))
}

/// Refuses a range whose number of steps exceeds [`MAX_POINTS`] (counted
/// without overflow, whatever the bounds).
pub fn check_resolution(start: i64, end: i64, step: i64) -> Result<(), QueryError> {
    if step <= 0 {
        return Err(QueryError::BadData(
            "zero or negative query resolution step widths are not accepted. Try a positive integer"
                .into(),
        ));
    }
    let steps = (i128::from(end) - i128::from(start)) / i128::from(step);
    if steps > i128::from(MAX_POINTS) {
        return Err(QueryError::BadData(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
        ));
    }
    Ok(())
}

/// One open bracket of the scan: the operators met inside it so far and the
/// deepest bracket closed inside it.
#[derive(Default)]
struct Frame {
    /// `{...}` holds label matchers, whose `=` and `!=` are no operators.
    braces: bool,
    /// `[...]` holds durations (ranges, subquery steps).
    brackets: bool,
    ops: usize,
    inner: usize,
}

impl Frame {
    /// An upper bound of the depth of the tree built from this bracket's
    /// content: a path from its root meets at most every operator of the
    /// bracket once, then enters at most one inner bracket.
    fn depth(&self) -> usize {
        self.ops + self.inner
    }
}

/// Words that make a tree node of their own.
const OPERATOR_WORDS: &[&str] = &["and", "or", "unless", "atan2", "offset"];

/// Checks the size and nesting of `query` lexically, without parsing it;
/// returns an upper bound of its tree depth. String literals and comments
/// are skipped. Also refuses `@` timestamps out of bounds, with
/// Prometheus's message (the parser would clamp them silently).
pub fn check_text(query: &str) -> Result<usize, QueryError> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(QueryError::Parse(format!(
            "invalid parameter \"query\": the query is {} bytes long; at most {MAX_QUERY_BYTES} are accepted",
            query.len()
        )));
    }
    let b = query.as_bytes();
    let mut stack: Vec<Frame> = vec![Frame::default()];
    // The next number is a duration (after `offset` and its sign).
    let mut duration_next = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_whitespace() || c == b'+' || c == b'-' || is_word(c)) {
            duration_next = false;
        }
        match c {
            b'"' | b'\'' | b'`' => i = skip_string(b, i),
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                stack.push(Frame {
                    braces: c == b'{',
                    brackets: c == b'[',
                    ..Frame::default()
                });
                if stack.len() > MAX_EXPR_DEPTH {
                    return Err(too_deep());
                }
                i += 1;
            }
            b')' | b']' | b'}' => {
                if stack.len() > 1 {
                    close(&mut stack);
                }
                i += 1;
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' => {
                add_op(&mut stack)?;
                i += 1;
            }
            b'=' | b'!' | b'<' | b'>' | b'~' => {
                while i < b.len() && matches!(b[i], b'=' | b'!' | b'<' | b'>' | b'~') {
                    i += 1;
                }
                add_op(&mut stack)?;
            }
            b'@' => {
                add_op(&mut stack)?;
                i += 1;
                check_at(b, &mut i)?;
            }
            _ if is_word(c) => {
                let start = i;
                i = skip_word(b, i);
                let w = &query[start..i];
                if OPERATOR_WORDS.iter().any(|o| o.eq_ignore_ascii_case(w)) {
                    add_op(&mut stack)?;
                }
                let in_brackets = stack.last().is_some_and(|f| f.brackets);
                if duration_next || in_brackets {
                    // `[5m:60]` scans as one word: range and step.
                    w.split(':').try_for_each(check_duration_number)?;
                }
                duration_next = w.eq_ignore_ascii_case("offset");
            }
            _ => i += 1,
        }
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    let depth = stack[0].depth() + 1;
    if depth > MAX_EXPR_DEPTH {
        return Err(too_deep());
    }
    Ok(depth)
}

fn add_op(stack: &mut [Frame]) -> Result<(), QueryError> {
    let top = stack
        .last_mut()
        .expect("the scan's stack always holds the root");
    if top.braces {
        return Ok(());
    }
    top.ops += 1;
    if top.depth() >= MAX_EXPR_DEPTH {
        return Err(too_deep());
    }
    Ok(())
}

fn close(stack: &mut Vec<Frame>) {
    let f = stack.pop().expect("close is only called above the root");
    let top = stack
        .last_mut()
        .expect("the scan's stack always holds the root");
    top.inner = top.inner.max(f.depth() + 1);
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':')
}

/// The end of the word at `start`; a decimal number's exponent sign (`1e-3`)
/// is part of it.
fn skip_word(b: &[u8], start: usize) -> usize {
    let decimal = (b[start].is_ascii_digit() || b[start] == b'.')
        && !b[start..].starts_with(b"0x")
        && !b[start..].starts_with(b"0X");
    let mut i = start;
    while i < b.len() {
        let exponent_sign =
            decimal && matches!(b[i], b'+' | b'-') && matches!(b[i - 1], b'e' | b'E');
        if !is_word(b[i]) && !exponent_sign {
            break;
        }
        i += 1;
    }
    i
}

/// The index after the string literal opening at `i` (backticks have no escapes).
fn skip_string(b: &[u8], mut i: usize) -> usize {
    let q = b[i];
    i += 1;
    while i < b.len() {
        if b[i] == b'\\' && q != b'`' {
            i += 2;
            continue;
        }
        if b[i] == q {
            return i + 1;
        }
        i += 1;
    }
    i
}

/// After `@`: a signed number literal must be a representable time.
/// Anything else (`start()`, `end()`, garbage) is left to the parser.
fn check_at(b: &[u8], i: &mut usize) -> Result<(), QueryError> {
    let mut j = *i;
    while j < b.len() && b[j].is_ascii_whitespace() {
        j += 1;
    }
    let neg = j < b.len() && b[j] == b'-';
    if j < b.len() && matches!(b[j], b'+' | b'-') {
        j += 1;
    }
    while j < b.len() && b[j].is_ascii_whitespace() {
        j += 1;
    }
    if j >= b.len() || !is_word(b[j]) {
        return Ok(());
    }
    let end = skip_word(b, j);
    let word = std::str::from_utf8(&b[j..end]).unwrap_or_default();
    let Some(v) = number(word) else {
        return Ok(());
    };
    *i = end;
    let secs = if neg { -v } else { v };
    match seconds_to_ms(secs) {
        Some(_) => Ok(()),
        None => Err(at_out_of_bounds(secs)),
    }
}

/// A number written where PromQL takes a duration (`x[300]`, `offset 60`)
/// means seconds; the parser would panic on one that is not finite or does
/// not fit a duration, so such numbers are refused first.
fn check_duration_number(w: &str) -> Result<(), QueryError> {
    match number(w) {
        Some(secs) if !(secs.is_finite() && secs * 1000.0 <= MAX_DURATION_MS as f64) => {
            Err(QueryError::Parse(format!(
                "invalid parameter \"query\": duration out of range: {w} (at most {}s)",
                MAX_DURATION_MS / 1000
            )))
        }
        _ => Ok(()),
    }
}

/// A PromQL number literal: decimal, hexadecimal, `Inf` or `NaN`.
fn number(w: &str) -> Option<f64> {
    if let Some(h) = w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok().map(|v| v as f64);
    }
    match w.to_ascii_lowercase().as_str() {
        "inf" => return Some(f64::INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if !w.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    w.parse().ok()
}

/// Depth of a parsed tree (the lexical bound of [`check_text`] is an upper
/// bound of this; the evaluator's recursion follows this).
pub fn ast_depth(e: &Expr) -> usize {
    1 + children(e).map(ast_depth).max().unwrap_or(0)
}

fn children(e: &Expr) -> impl Iterator<Item = &Expr> {
    let v: Vec<&Expr> = match e {
        Expr::Aggregate(a) => std::iter::once(&*a.expr)
            .chain(a.param.as_deref())
            .collect(),
        Expr::Unary(u) => vec![&*u.expr],
        Expr::Binary(b) => vec![&*b.lhs, &*b.rhs],
        Expr::Paren(p) => vec![&*p.expr],
        Expr::Subquery(s) => vec![&*s.expr],
        Expr::Call(c) => c.args.args.iter().map(|a| &**a).collect(),
        Expr::Extension(_)
        | Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::VectorSelector(_)
        | Expr::MatrixSelector(_) => Vec::new(),
    };
    v.into_iter()
}

/// Longest duration accepted in a query (ranges, offsets, subquery steps):
/// Go's `time.Duration` limit, which Prometheus's parser has, in ms (about
/// 292 years). Times and durations within bounds cannot overflow `i64`
/// when added.
pub const MAX_DURATION_MS: i64 = i64::MAX / 1_000_000;

/// promql-parser's duration parser (`5m`, `1h30m`, plain seconds) with its
/// panics turned into errors (it panics on `1e400`, a number that fits no
/// duration), and durations beyond [`MAX_DURATION_MS`] refused.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    // A number of seconds: checked here (the parser panics on what fits no
    // duration); the panic guard below is for anything not yet known.
    if let Ok(secs) = s.trim().parse::<f64>()
        && !(secs.is_finite() && secs.abs() * 1000.0 <= MAX_DURATION_MS as f64)
    {
        return Err(format!("duration {s:?} is out of range"));
    }
    let parsed = std::panic::catch_unwind(|| promql_parser::util::parse_duration(s))
        .map_err(|_| format!("duration {s:?} is out of range"))?;
    let d = parsed.map_err(|e| e.to_string())?;
    if duration_ms(&d) > MAX_DURATION_MS {
        return Err(format!("duration {s:?} is out of range"));
    }
    Ok(d)
}

/// A duration in ms, saturated at `i64::MAX` (refused by [`check_tree`]).
pub fn duration_ms(d: &Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Milliseconds of an `@` time, or `None` when out of bounds.
pub fn system_time_ms(st: &SystemTime) -> Option<i64> {
    let ms = match st.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_millis()).ok()?,
        Err(e) => -i128::try_from(e.duration().as_millis()).ok()?,
    };
    i64::try_from(ms)
        .ok()
        .filter(|ms| (MIN_TIME_MS..=MAX_TIME_MS).contains(ms))
}

fn check_at_modifier(at: &Option<AtModifier>) -> Result<(), QueryError> {
    if let Some(AtModifier::At(st)) = at
        && system_time_ms(st).is_none()
    {
        let secs = match st.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        };
        return Err(at_out_of_bounds(secs));
    }
    Ok(())
}

fn check_duration(what: &str, d: Option<&Duration>) -> Result<(), QueryError> {
    match d {
        Some(d) if duration_ms(d) > MAX_DURATION_MS => Err(QueryError::Parse(format!(
            "invalid parameter \"query\": {what} duration out of range: {}s (at most {}s)",
            d.as_secs(),
            MAX_DURATION_MS / 1000
        ))),
        _ => Ok(()),
    }
}

fn offset_duration(o: &Option<Offset>) -> Option<&Duration> {
    match o {
        Some(Offset::Pos(d)) | Some(Offset::Neg(d)) => Some(d),
        None => None,
    }
}

/// Refuses a parsed tree deeper than [`MAX_EXPR_DEPTH`], with an `@` time
/// out of bounds or a duration over [`MAX_DURATION_MS`].
pub fn check_tree(e: &Expr) -> Result<(), QueryError> {
    if ast_depth(e) > MAX_EXPR_DEPTH {
        return Err(too_deep());
    }
    check_times(e)
}

fn check_times(e: &Expr) -> Result<(), QueryError> {
    match e {
        Expr::VectorSelector(vs) => {
            check_at_modifier(&vs.at)?;
            check_duration("offset", offset_duration(&vs.offset))?;
        }
        Expr::MatrixSelector(ms) => {
            check_at_modifier(&ms.vs.at)?;
            check_duration("offset", offset_duration(&ms.vs.offset))?;
            check_duration("range", Some(&ms.range))?;
        }
        Expr::Subquery(sq) => {
            check_at_modifier(&sq.at)?;
            check_duration("offset", offset_duration(&sq.offset))?;
            check_duration("range", Some(&sq.range))?;
            check_duration("step", sq.step.as_ref())?;
        }
        _ => {}
    }
    children(e).try_for_each(check_times)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(q: &str) -> usize {
        check_text(q).unwrap()
    }

    #[test]
    fn lexical_depth_bounds_the_tree() {
        for q in [
            "up",
            "a + b * c",
            "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))",
            "-(-(-a))",
            "max_over_time(rate(a[1m])[10m:1m] offset 5m @ 100)",
            "a and on(x) b or c unless d",
            "1e-3 * a ^ 2 ^ 3",
            "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))",
            "label_replace(up, \"a((((\", \"$1\", \"b\", \"(.*)\")",
        ] {
            let e = promql_parser::parser::parse(q).unwrap();
            assert!(
                depth(q) >= ast_depth(&e),
                "{q}: {} < {}",
                depth(q),
                ast_depth(&e)
            );
            assert!(depth(q) < 12, "{q}: {}", depth(q));
        }
    }

    #[test]
    fn strings_and_comments_do_not_count() {
        let deep = "(".repeat(5000);
        assert_eq!(depth(&format!("a{{x=\"{deep}\"}}")), depth("a{x=\"\"}"));
        assert_eq!(depth(&format!("a # {deep}\n")), depth("a"));
        assert_eq!(depth(&format!("a{{x=`{deep}`}}")), depth("a{x=``}"));
    }

    #[test]
    fn long_chains_and_deep_nesting_are_refused() {
        let sum = vec!["a"; 10_000].join("+");
        let calls = format!("{}a{}", "abs(".repeat(10_000), ")".repeat(10_000));
        let parens = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
        let unclosed = "sum(".repeat(2_000);
        for q in [sum, calls, parens, unclosed] {
            let e = check_text(&q).unwrap_err();
            assert!(e.to_string().contains("nests too deeply"), "{e}");
            assert_eq!(e.error_type(), "bad_data");
        }
        let fits = vec!["a"; MAX_EXPR_DEPTH - 1].join("+");
        assert!(check_text(&fits).is_ok());
        let long = format!("a{{x=\"{}\"}}", "y".repeat(MAX_QUERY_BYTES));
        assert!(
            check_text(&long)
                .unwrap_err()
                .to_string()
                .contains("bytes long")
        );
    }

    #[test]
    fn at_timestamps_out_of_bounds() {
        // Cases of Prometheus's promql/parser/parse_test.go.
        for (q, shown) in [
            ("foo @ +Inf", "+Inf"),
            ("foo @ -Inf", "-Inf"),
            ("foo @ NaN", "NaN"),
            (
                "foo @ 9223372036854775808.000000",
                "9223372036854775808.000000",
            ),
            (
                "foo @ -9223372036854775809.000000",
                "-9223372036854775808.000000",
            ),
            ("up @ 1e30", "1000000000000000019884624838656.000000"),
        ] {
            let e = check_text(q).unwrap_err().to_string();
            assert!(
                e.ends_with(&format!("timestamp out of bounds for @ modifier: {shown}")),
                "{q}: {e}"
            );
        }
        for q in [
            "foo @ 1603775019",
            "foo @ -100",
            "foo @ start()",
            "x @ end()",
        ] {
            assert!(check_text(q).is_ok(), "{q}");
        }
    }

    #[test]
    fn numbers_as_durations_out_of_range() {
        // promql-parser panics on these (Duration::from_secs_f64).
        for q in [
            "rate(x[1e300])",
            "x[Inf]",
            "x[ NaN ]",
            "x[5m:1e300]",
            "x offset 1e300",
            "x offset -Inf",
            "x[0xffffffffffffffff]",
        ] {
            let e = check_text(q).unwrap_err().to_string();
            assert!(e.contains("duration out of range"), "{q}: {e}");
        }
        for q in [
            "rate(x[300])",
            "x[5m:60]",
            "x offset 60",
            "x offset -1.5",
            "offset",
        ] {
            assert!(check_text(q).is_ok(), "{q}");
            // And the parser does not panic on what passes.
            let _ = promql_parser::parser::parse(q);
        }
    }

    #[test]
    fn resolution_counts_without_overflow() {
        assert!(check_resolution(0, 11_000, 1).is_ok());
        assert!(check_resolution(0, 11_001, 1).is_err());
        assert!(check_resolution(i64::MIN, i64::MAX, 1).is_err());
        assert!(check_resolution(MIN_TIME_MS, MAX_TIME_MS, i64::MAX).is_ok());
        assert!(check_resolution(0, 1, 0).is_err());
    }

    #[test]
    fn time_bounds() {
        assert_eq!(seconds_to_ms(1.5), Some(1500));
        assert_eq!(MIN_TIME_MS, -9_223_309_901_257_974_000);
        assert_eq!(MAX_TIME_MS, 9_223_309_901_257_974_999);
        assert!(seconds_to_ms(-1e300).is_none());
        assert!(seconds_to_ms(f64::NAN).is_none());
        assert!(seconds_to_ms(9.3e15).is_none());
        assert!(seconds_to_ms(9.2e15).is_some());
    }
}
