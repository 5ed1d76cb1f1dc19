//! Parameters of the Prometheus HTTP API: times (RFC 3339 or Unix seconds),
//! durations (Prometheus durations or seconds) and matchers.

use std::collections::HashMap;

use crate::model::{MatchOp, Matcher};

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

/// Parses a time as Prometheus does: Unix seconds (float) or RFC 3339; in ms.
pub fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() {
            return Err(format!("cannot parse {s:?} to a valid timestamp"));
        }
        return Ok((f * 1000.0).round() as i64);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|d| d.timestamp_millis())
        .map_err(|_| format!("cannot parse {s:?} to a valid timestamp"))
}

/// Parses a duration: float seconds or a Prometheus duration (`1h30m`, `5m`, `250ms`); in ms.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() || f > 9.2e15 {
            return Err(format!("cannot parse {s:?} to a valid duration"));
        }
        return Ok((f * 1000.0).round() as i64);
    }
    promql_parser::util::parse_duration(s)
        .map(|d| d.as_millis() as i64)
        .map_err(|_| format!("cannot parse {s:?} to a valid duration"))
}

/// Parses a series selector of `match[]` into matchers.
pub fn parse_selector(s: &str) -> Result<Vec<Matcher>, String> {
    let expr = promql_parser::parser::parse(s)
        .map_err(|e| format!("invalid parameter \"match[]\": {e}"))?;
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
        assert_eq!(parse_duration_ms("15"), Ok(15_000));
        assert_eq!(parse_duration_ms("1m30s"), Ok(90_000));
        assert!(parse_duration_ms("soon").is_err());
    }

    #[test]
    fn selectors() {
        let m = parse_selector("up{job=~\"a.*\"}").unwrap();
        assert_eq!(m.len(), 2);
        assert!(parse_selector("{job=~\".*\"}").is_err());
        assert!(parse_selector("rate(x[1m])").is_err());
    }
}
