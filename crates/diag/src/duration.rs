//! The one duration grammar of firedrill's files and command-line flags.
//!
//! ```text
//! duration = "0" | term { term }
//! term     = number unit
//! number   = digits [ "." digits ]          e.g. 5, 1.5, 0.25
//! unit     = "y" | "w" | "d" | "h" | "m" | "s" | "ms" | "us" | "µs"
//! ```
//!
//! This is Prometheus's duration (`30s`, `5m`, `1h30m`, `7d`, `2w`, `1y`;
//! `y` = 365d, `w` = 7d, `d` = 24h; units from the largest to the smallest,
//! each at most once) plus decimal fractions in any term (`1.5s`, `0.5h`,
//! `2.5ms`) and microseconds (`500us`) for the work a lab request does.
//! A bare number is refused except `0` (`5` could be seconds or minutes:
//! write `5s`), and so are negative durations, spaces inside, exponents and
//! anything longer than Prometheus's limit, 2⁶³−1 nanoseconds (about 292
//! years), which is reported as too large rather than wrapped around.
//! Fractions finer than a nanosecond are cut off.
//!
//! PromQL's own durations (in queries and API parameters) follow Prometheus
//! and are parsed by the query engine, not here.

use std::time::Duration;

/// The longest duration: Prometheus's, 2⁶³−1 ns.
pub const MAX: Duration = Duration::from_nanos(i64::MAX as u64);

/// Units, largest first, with their length in nanoseconds.
const UNITS: &[(&str, u128)] = &[
    ("y", 365 * 86_400 * NS),
    ("w", 7 * 86_400 * NS),
    ("d", 86_400 * NS),
    ("h", 3_600 * NS),
    ("m", 60 * NS),
    ("s", NS),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("µs", 1_000),
];
const NS: u128 = 1_000_000_000;
const EXAMPLES: &str = "write e.g. 30s, 1h30m or 1.5h";

/// Why a text is not a duration; the message quotes the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration: {EXAMPLES}")]
    Empty,
    #[error("{0:?} has no unit: write e.g. {0}s or {0}m (units: ms, s, m, h, d, w, y)")]
    NoUnit(String),
    #[error("{text:?} is not a duration: unknown unit {unit:?} (use ms, s, m, h, d, w, y or us)")]
    UnknownUnit { text: String, unit: String },
    #[error(
        "{0:?} is not a duration: units go from the largest to the smallest, each once (1h30m, not 30m1h)"
    )]
    UnitOrder(String),
    #[error("{0:?} is not a duration: a duration cannot be negative")]
    Negative(String),
    #[error("{0:?} is too large: the longest duration is 2^63-1 nanoseconds (about 292y)")]
    TooLarge(String),
    #[error("{0:?} is not a duration: {EXAMPLES}")]
    Malformed(String),
}

impl From<DurationError> for String {
    fn from(e: DurationError) -> String {
        e.to_string()
    }
}

/// Parses a duration of the grammar above.
pub fn parse(s: &str) -> Result<Duration, DurationError> {
    let text = s.trim();
    let owned = || text.to_string();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.starts_with('-') {
        return Err(DurationError::Negative(owned()));
    }
    let is_number = |c: char| c.is_ascii_digit() || c == '.';
    let mut rest = text;
    let mut total: u128 = 0;
    let mut last_unit: Option<usize> = None;
    while !rest.is_empty() {
        let n = rest.find(|c: char| !is_number(c)).unwrap_or(rest.len());
        let (number, after) = rest.split_at(n);
        let u = after.find(is_number).unwrap_or(after.len());
        let (unit, after) = after.split_at(u);
        rest = after;
        if number.is_empty() {
            return Err(DurationError::Malformed(owned()));
        }
        if unit.is_empty() {
            return Err(if last_unit.is_none() && number.parse::<f64>().is_ok() {
                DurationError::NoUnit(owned())
            } else {
                DurationError::Malformed(owned())
            });
        }
        let Some(rank) = UNITS.iter().position(|(name, _)| *name == unit) else {
            let trimmed = unit.trim();
            return Err(if UNITS.iter().any(|(name, _)| *name == trimmed) {
                DurationError::Malformed(owned())
            } else {
                DurationError::UnknownUnit {
                    text: owned(),
                    unit: trimmed.to_string(),
                }
            });
        };
        // us and µs are one unit.
        let rank = rank.min(UNITS.len() - 2);
        if last_unit.is_some_and(|last| rank <= last) {
            return Err(DurationError::UnitOrder(owned()));
        }
        last_unit = Some(rank);
        let nanos = term(number, UNITS[rank].1).ok_or_else(|| {
            if number.bytes().filter(|b| *b == b'.').count() > 1
                || number.starts_with('.')
                || number.ends_with('.')
            {
                DurationError::Malformed(owned())
            } else {
                DurationError::TooLarge(owned())
            }
        })?;
        total = total.saturating_add(nanos);
        if total > MAX.as_nanos() {
            return Err(DurationError::TooLarge(owned()));
        }
    }
    Ok(Duration::from_nanos(total as u64))
}

/// `number` (digits, maybe a fraction) times `unit` nanoseconds; `None`
/// when malformed or beyond any duration we accept.
fn term(number: &str, unit: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || fraction.contains('.') || (number.contains('.') && fraction.is_empty()) {
        return None;
    }
    // More than 30 digits is far beyond 292 years in any unit.
    if whole.len() > 30 {
        return None;
    }
    let mut nanos = whole.parse::<u128>().ok()?.checked_mul(unit)?;
    // Nine fraction digits of a second are a nanosecond; more are cut off.
    let digits = &fraction[..fraction.len().min(18)];
    if !digits.is_empty() {
        let scale = 10u128.pow(digits.len() as u32);
        nanos += digits.parse::<u128>().ok()? * unit / scale;
    }
    Some(nanos)
}

/// Formats compactly, in a form [`parse`] reads back: `250ms`, `1.5s`, `2m`,
/// `1h`, `500us`, `0s`.
pub fn format(d: Duration) -> String {
    let us = d.as_micros();
    if us == 0 {
        "0s".into()
    } else if us.is_multiple_of(3_600_000_000) {
        format!("{}h", us / 3_600_000_000)
    } else if us.is_multiple_of(60_000_000) {
        format!("{}m", us / 60_000_000)
    } else if us >= 1_000_000 {
        format!("{}s", d.as_secs_f64())
    } else if us.is_multiple_of(1000) {
        format!("{}ms", us / 1000)
    } else if us >= 1000 {
        format!("{}ms", us as f64 / 1000.0)
    } else {
        format!("{us}us")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Prometheus's own cases (prometheus/common model/time_test.go,
    /// TestParseDuration): all accepted with the same value.
    #[test]
    fn accepts_prometheus_durations() {
        let day = 86_400;
        for (text, want) in [
            ("0", Duration::ZERO),
            ("0w", Duration::ZERO),
            ("0s", Duration::ZERO),
            ("324ms", Duration::from_millis(324)),
            ("3s", secs(3)),
            ("5m", secs(300)),
            ("1h", secs(3600)),
            ("4d", secs(4 * day)),
            ("4d1h", secs(4 * day + 3600)),
            ("14d", secs(14 * day)),
            ("3w", secs(21 * day)),
            ("3w2d1h", secs(23 * day + 3600)),
            ("10y", secs(3650 * day)),
            ("289y", secs(289 * 365 * day)),
            ("1h30m", secs(5400)),
            ("1m30s500ms", Duration::from_millis(90_500)),
        ] {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn accepts_fractions_and_microseconds() {
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("0.5h"), Ok(secs(1800)));
        assert_eq!(parse("2.5ms"), Ok(Duration::from_micros(2500)));
        assert_eq!(parse("1.5h30s"), Ok(secs(5430)));
        assert_eq!(parse("500us"), Ok(Duration::from_micros(500)));
        assert_eq!(parse("500µs"), Ok(Duration::from_micros(500)));
        assert_eq!(parse(" 2m "), Ok(secs(120)));
        assert_eq!(parse("0.000000001s"), Ok(Duration::from_nanos(1)));
        assert_eq!(parse("0.0000000001s"), Ok(Duration::ZERO));
        assert_eq!(
            parse("1.123456789123456789123s"),
            Ok(Duration::from_nanos(1_123_456_789))
        );
    }

    #[test]
    fn refuses_what_is_not_a_duration_and_says_why() {
        let err = |s: &str| parse(s).unwrap_err();
        assert_eq!(err(""), DurationError::Empty);
        assert_eq!(err("5"), DurationError::NoUnit("5".into()));
        assert_eq!(err("1.5"), DurationError::NoUnit("1.5".into()));
        assert!(err("5").to_string().contains("write e.g. 5s"));
        assert_eq!(
            err("5 parsecs"),
            DurationError::UnknownUnit {
                text: "5 parsecs".into(),
                unit: "parsecs".into()
            }
        );
        assert_eq!(
            err("3M"),
            DurationError::UnknownUnit {
                text: "3M".into(),
                unit: "M".into()
            }
        );
        assert_eq!(err("30m1h"), DurationError::UnitOrder("30m1h".into()));
        assert_eq!(err("1h1h"), DurationError::UnitOrder("1h1h".into()));
        assert_eq!(err("-3s"), DurationError::Negative("-3s".into()));
        for bad in [
            "ms", "fast", "soon", "5 s", ".5s", "5.s", "1.2.3s", "1h5", "1e3s",
        ] {
            assert!(
                matches!(
                    err(bad),
                    DurationError::Malformed(_)
                        | DurationError::UnknownUnit { .. }
                        | DurationError::NoUnit(_)
                ),
                "{bad}: {:?}",
                err(bad)
            );
            assert!(err(bad).to_string().contains("is not a duration"), "{bad}");
        }
        assert!(
            err("soon")
                .to_string()
                .starts_with("\"soon\" is not a duration")
        );
    }

    #[test]
    fn overflow_is_too_large_never_zero_or_wrapped() {
        for big in [
            "99999999999h",
            "293y",
            "18446744073709551616s",
            "340282366920938463463374607431768211456ms",
            "9999999999999999999999999999999999999999y",
            "106751d23h47m16s854ms776us",
        ] {
            assert_eq!(
                parse(big),
                Err(DurationError::TooLarge(big.into())),
                "{big}"
            );
            assert!(parse(big).unwrap_err().to_string().contains("too large"));
        }
        // The largest accepted, to the microsecond: 2^63-1 ns is 106751d23h47m16.854775807s.
        assert_eq!(
            parse("106751d23h47m16s854ms775us"),
            Ok(Duration::from_micros(MAX.as_micros() as u64))
        );
        assert_eq!(parse("292y"), Ok(secs(292 * 365 * 86_400)));
    }

    #[test]
    fn formats_what_parses_back() {
        for s in ["250ms", "1.5s", "2m", "1h", "500us", "0s", "2.5ms", "36h"] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
    }
}
