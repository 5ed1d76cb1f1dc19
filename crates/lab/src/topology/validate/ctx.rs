//! The validator's checks of single values (durations, latencies, shares,
//! methods, paths, names), each recording its problem in the report.

use std::time::Duration;

use diag::Report;
use serde_saphyr::Location;

use super::{MAX_NAME_LEN, METHODS};
use crate::topology::model::Latency;
use crate::topology::raw::{DurationText, RawLatency, S};

pub(super) struct Ctx {
    pub report: Report,
}

impl Ctx {
    pub fn new(file: &str) -> Ctx {
        Ctx {
            report: Report::new(file),
        }
    }

    pub fn at(&mut self, loc: &Location, field: impl Into<String>, message: impl Into<String>) {
        self.report.at_location(loc, field, message);
    }

    pub fn duration(&mut self, v: &S<DurationText>, field: &str) -> Option<Duration> {
        self.report.duration(v, field)
    }

    pub fn duration_or(
        &mut self,
        v: &Option<S<DurationText>>,
        field: &str,
        default: Duration,
    ) -> Duration {
        match v {
            Some(v) => self.duration(v, field).unwrap_or(default),
            None => default,
        }
    }

    pub fn latency(&mut self, v: &S<RawLatency>, field: &str) -> Latency {
        match &v.value {
            RawLatency::Fixed(t) => match diag::duration::parse(&t.0) {
                Ok(d) => Latency { median: d, p99: d },
                Err(e) => {
                    self.at(&v.referenced, field, e);
                    Latency::ZERO
                }
            },
            RawLatency::Dist { median, p99 } => {
                let m = self.duration(median, &format!("{field}.median"));
                let p = match p99 {
                    Some(p) => self.duration(p, &format!("{field}.p99")),
                    None => m,
                };
                if let (Some(m), Some(p), Some(p99)) = (m, p, p99)
                    && p < m
                {
                    self.at(
                        &p99.referenced,
                        format!("{field}.p99"),
                        format!(
                            "p99 {} is below the median {}; p99 must be >= median",
                            p99.value.0, median.value.0
                        ),
                    );
                }
                match (m, p) {
                    (Some(m), Some(p)) => Latency {
                        median: m,
                        p99: p.max(m),
                    },
                    _ => Latency::ZERO,
                }
            }
        }
    }

    pub fn fraction(&mut self, v: &Option<S<f64>>, field: &str, default: f64) -> f64 {
        match v {
            Some(v) if !(0.0..=1.0).contains(&v.value) => {
                self.at(
                    &v.referenced,
                    field,
                    format!("{} is outside 0..=1 (a share: 0.3 means 30%)", v.value),
                );
                default
            }
            Some(v) => v.value,
            None => default,
        }
    }

    pub fn method(&mut self, v: &Option<S<String>>, field: &str) -> String {
        let Some(v) = v else {
            return "GET".to_string();
        };
        let m = v.value.trim().to_ascii_uppercase();
        if !METHODS.contains(&m.as_str()) {
            self.at(
                &v.referenced,
                field,
                format!(
                    "{:?} is not an HTTP method; use one of {}",
                    v.value,
                    METHODS.join(", ")
                ),
            );
        }
        m
    }

    pub fn path(&mut self, v: &S<String>, field: &str, what: &str) {
        if !v.value.starts_with('/') {
            self.at(
                &v.referenced,
                field,
                format!("{what} {:?} must start with '/'", v.value),
            );
        }
    }

    /// A name of the lab, a service, a version or a journey.
    pub fn name(&mut self, v: &S<String>, field: &str) {
        self.name_at(&v.value, &v.referenced, field);
    }

    pub fn name_at(&mut self, name: &str, loc: &Location, field: &str) {
        if let Err(e) = check_name(name) {
            self.at(loc, field, e);
        }
    }
}

/// Names are 1..=63 of lowercase letters, digits, `-` and `_`, starting
/// with a letter or digit: usable as file names and label values.
pub fn check_name(name: &str) -> Result<(), String> {
    let charset = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !charset {
        return Err(format!(
            "{name:?} is not a valid name; use lowercase letters, digits, '-' and '_'"
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "a name of {} characters is too long: at most {MAX_NAME_LEN} \
             (names become file names and label values)",
            name.len()
        ));
    }
    Ok(())
}
