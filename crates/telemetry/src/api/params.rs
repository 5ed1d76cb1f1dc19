//! Parameters of the Prometheus HTTP API: times (RFC 3339 or Unix seconds),
//! durations (Prometheus durations or seconds) and matchers.

use std::collections::HashMap;

use crate::model::{MatchOp, Matcher};
use crate::promql::limits::{
    MAX_DURATION_MS, MAX_TIME_MS, MIN_TIME_MS, duration_ms, seconds_to_ms,
};

/// The merged query-string and form parameters; repeated keys (`match[]`) keep all values.
#[derive(Debug, Default)]
pub struct Params(pub HashMap<String, Vec<String>>);

impl Params {
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            m.entry(k).or_default().push(v);
        }
        Params(m)
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0
            .get(k)
            .and_then(|v| v.last())
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn all(&self, k: &str) -> &[String] {
        self.0.get(k).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Prometheus's `MinTime` and `MaxTime` as Go formats them: clients send
/// them for "no bound" (see [`MIN_TIME_MS`], [`MAX_TIME_MS`]).
const MIN_TIME_FORMATTED: &str = "-292273086-05-16T16:47:06Z";
const MAX_TIME_FORMATTED: &str = "292277025-08-18T07:12:54.999999999Z";

/// Parses a time as Prometheus does: Unix seconds (float) or RFC 3339; in
/// ms. Times outside [`MIN_TIME_MS`, `MAX_TIME_MS`] are refused ("timestamp
/// out of bounds"): they cannot be represented, nor ranges over them counted.
pub fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() {
            return Err(format!("cannot parse {s:?} to a valid timestamp"));
        }
        return seconds_to_ms(f).ok_or_else(|| {
            format!("cannot parse {s:?} to a valid timestamp: timestamp out of bounds")
        });
    }
    match s {
        MIN_TIME_FORMATTED => return Ok(MIN_TIME_MS),
        MAX_TIME_FORMATTED => return Ok(MAX_TIME_MS),
        _ => {}
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|d| d.timestamp_millis())
        .map_err(|_| format!("cannot parse {s:?} to a valid timestamp"))
}

/// Parses a duration: float seconds or a Prometheus duration (`1h30m`,
/// `5m`, `250ms`); in ms. As in Prometheus, it must fit Go's
/// `time.Duration` (int64 nanoseconds).
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        let ns = f * 1e9;
        if !ns.is_finite() || ns >= i64::MAX as f64 || ns <= i64::MIN as f64 {
            return Err(format!(
                "cannot parse {s:?} to a valid duration. It overflows int64"
            ));
        }
        return Ok((f * 1000.0).round() as i64);
    }
    crate::promql::limits::parse_duration(s)
        .ok()
        .map(|d| duration_ms(&d))
        .filter(|ms| *ms <= MAX_DURATION_MS)
        .ok_or_else(|| format!("cannot parse {s:?} to a valid duration"))
}

/// Parses a series selector of `match[]` into matchers.
pub fn parse_selector(s: &str) -> Result<Vec<Matcher>, String> {
    let expr = crate::promql::parse(s).map_err(|e| {
        let e = e.to_string();
        let e = e
            .strip_prefix("invalid parameter \"query\": ")
            .unwrap_or(&e);
        format!("invalid parameter \"match[]\": {e}")
    })?;
    let promql_parser::parser::Expr::VectorSelector(vs) = expr else {
        return Err(format!(
            "invalid parameter \"match[]\": {s:?} is not a series selector"
        ));
    };
    let mut out = Vec::new();
    if let Some(name) = &vs.name {
        out.push(
            Matcher::new(MatchOp::Equal, crate::model::METRIC_NAME, name)
                .map_err(|e| e.to_string())?,
        );
    }
    for m in vs.matchers.matchers.iter() {
        out.push(convert(m)?);
    }
    if vs.matchers.or_matchers.iter().any(|g| !g.is_empty()) {
        return Err("invalid parameter \"match[]\": `or` in selectors is not supported".into());
    }
    if out.iter().all(|m| m.matches("")) {
        return Err(
            "invalid parameter \"match[]\": match[] must contain at least one non-empty matcher"
                .into(),
        );
    }
    Ok(out)
}

fn convert(m: &promql_parser::label::Matcher) -> Result<Matcher, String> {
    use promql_parser::label::MatchOp as P;
    let op = match &m.op {
        P::Equal => MatchOp::Equal,
        P::NotEqual => MatchOp::NotEqual,
        P::Re(_) => MatchOp::Regex,
        P::NotRe(_) => MatchOp::NotRegex,
    };
    Matcher::new(op, &m.name, &m.value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations() {
        assert_eq!(parse_time("1435781451.781"), Ok(1_435_781_451_781));
        assert_eq!(
            parse_time("2015-07-01T20:10:51.781Z"),
            Ok(1_435_781_451_781)
        );
        assert!(parse_time("yesterday").is_err());
        // Prometheus's web/api/v1 TestParseTime: its own bounds parse.
        assert_eq!(parse_time("-292273086-05-16T16:47:06Z"), Ok(MIN_TIME_MS));
        assert_eq!(
            parse_time("292277025-08-18T07:12:54.999999999Z"),
            Ok(MAX_TIME_MS)
        );
        for s in ["-1e300", "1e300", "9.3e15", "NaN", "Inf"] {
            assert!(parse_time(s).is_err(), "{s}");
        }
        assert!(parse_time("1e300").unwrap_err().contains("out of bounds"));
        assert_eq!(parse_duration_ms("15"), Ok(15_000));
        assert_eq!(parse_duration_ms("1m30s"), Ok(90_000));
        assert!(parse_duration_ms("soon").is_err());
        // Prometheus's TestParseDuration: internal int64 overflow.
        for s in ["-148966367200.372", "148966367200.372", "1e300"] {
            assert!(
                parse_duration_ms(s)
                    .unwrap_err()
                    .contains("overflows int64")
            );
        }
        assert_eq!(parse_duration_ms("123.333"), Ok(123_333));
    }

    #[test]
    fn selectors() {
        let m = parse_selector("up{job=~\"a.*\"}").unwrap();
        assert_eq!(m.len(), 2);
        assert!(parse_selector("{job=~\".*\"}").is_err());
        assert!(parse_selector("rate(x[1m])").is_err());
    }
}
