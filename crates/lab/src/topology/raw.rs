//! The YAML file shape (see `docs/topology.md`), as written, with source
//! positions. `validate` turns it into the plain [`Topology`](super::Topology).

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

use super::model::Handler;

/// A value with the line and column it was written at.
pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopology {
    pub name: S<String>,
    #[serde(default)]
    pub description: String,
    pub entry: S<String>,
    #[serde(default)]
    pub params: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub defaults: Option<RawDefaults>,
    pub services: S<Vec<S<RawService>>>,
    #[serde(default)]
    pub journeys: Option<S<Vec<S<RawJourney>>>>,
}

/// Defaults applied to every call that does not set its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    #[serde(default)]
    pub timeout: Option<S<DurationText>>,
    #[serde(default)]
    pub retries: Option<u32>,
    #[serde(default)]
    pub backoff: Option<S<DurationText>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub name: S<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub instances: Option<S<i64>>,
    #[serde(default)]
    pub version: Option<S<String>>,
    #[serde(default)]
    pub versions: Option<S<BTreeMap<String, S<RawVersion>>>>,
    #[serde(default)]
    pub runtime: Option<RawRuntime>,
    #[serde(default)]
    pub endpoints: Vec<S<RawEndpoint>>,
    #[serde(default)]
    pub background: Option<S<RawBackground>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVersion {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub error_rate: Option<S<f64>>,
    #[serde(default)]
    pub error_status: Option<S<u16>>,
    #[serde(default)]
    pub affected_routes: Vec<S<String>>,
    #[serde(default)]
    pub extra_latency: Option<S<RawLatency>>,
    #[serde(default)]
    pub slow_fraction: Option<S<f64>>,
    #[serde(default)]
    pub leak_bytes_per_request: Option<u64>,
    #[serde(default)]
    pub cpu_factor: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRuntime {
    #[serde(default)]
    pub concurrency_limit: Option<u32>,
    #[serde(default)]
    pub panic_threshold_percent: Option<S<u32>>,
    #[serde(default)]
    pub health_check_interval: Option<S<DurationText>>,
    #[serde(default)]
    pub eject_after_failures: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEndpoint {
    pub route: S<String>,
    #[serde(default)]
    pub method: Option<S<String>>,
    #[serde(default)]
    pub handler: Option<Handler>,
    #[serde(default)]
    pub latency: Option<S<RawLatency>>,
    #[serde(default)]
    pub cpu: Option<S<DurationText>>,
    #[serde(default)]
    pub response_bytes: Option<usize>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub parallel: Option<bool>,
    #[serde(default)]
    pub calls: Vec<S<RawCall>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCall {
    pub service: S<String>,
    #[serde(default)]
    pub method: Option<S<String>>,
    pub path: S<String>,
    #[serde(default)]
    pub critical: Option<S<bool>>,
    #[serde(default)]
    pub timeout: Option<S<DurationText>>,
    #[serde(default)]
    pub retries: Option<u32>,
    #[serde(default)]
    pub backoff: Option<S<DurationText>>,
    #[serde(default)]
    pub fallback: Option<S<RawFallback>>,
    #[serde(default)]
    pub probability: Option<S<f64>>,
}

/// `omit` or `{static: "value"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawFallback {
    Omit,
    Static(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackground {
    pub every: S<DurationText>,
    #[serde(default)]
    pub cpu: Option<S<DurationText>>,
    #[serde(default)]
    pub latency: Option<S<RawLatency>>,
    #[serde(default)]
    pub calls: Vec<S<RawCall>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJourney {
    pub name: S<String>,
    #[serde(default)]
    pub weight: Option<S<f64>>,
    pub steps: S<Vec<S<RawStep>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    #[serde(default)]
    pub method: Option<S<String>>,
    pub path: S<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub think_time: Option<S<DurationText>>,
    #[serde(default)]
    pub expect_status: Vec<u16>,
}

/// A duration as written (`250ms`, `1.5s`, `0`); parsed during validation so
/// that a bad one is reported with the others.
#[derive(Debug, Clone, PartialEq)]
pub struct DurationText(pub String);

impl AsRef<str> for DurationText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration like 250ms, 1.5s or 2m")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationText, E> {
                Ok(DurationText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DurationText, E> {
                Ok(DurationText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationText, E> {
                Ok(DurationText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DurationText, E> {
                Ok(DurationText(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A latency: one duration (fixed) or `{median, p99}`.
#[derive(Debug, Clone, PartialEq)]
pub enum RawLatency {
    Fixed(DurationText),
    Dist {
        median: S<DurationText>,
        p99: Option<S<DurationText>>,
    },
}

impl<'de> Deserialize<'de> for RawLatency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawLatency;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration like 5ms or a mapping {median: 5ms, p99: 40ms}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawLatency, E> {
                Ok(RawLatency::Fixed(DurationText(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawLatency, E> {
                Ok(RawLatency::Fixed(DurationText(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawLatency, E> {
                Ok(RawLatency::Fixed(DurationText(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawLatency, E> {
                Ok(RawLatency::Fixed(DurationText(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawLatency, A::Error> {
                let mut median = None;
                let mut p99 = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "median" => median = Some(map.next_value::<S<DurationText>>()?),
                        "p99" => p99 = Some(map.next_value::<S<DurationText>>()?),
                        other => return Err(de::Error::unknown_field(other, &["median", "p99"])),
                    }
                }
                let median = median.ok_or_else(|| de::Error::missing_field("median"))?;
                Ok(RawLatency::Dist { median, p99 })
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_latency_shapes() {
        #[derive(Deserialize)]
        struct L {
            lat: S<RawLatency>,
        }
        let l: L = serde_saphyr::from_str("lat: {median: 5ms, p99: 40ms}\n").unwrap();
        assert_eq!((l.lat.referenced.line(), l.lat.referenced.column()), (1, 6));
        match l.lat.value {
            RawLatency::Dist { median, p99 } => {
                assert_eq!(median.value, DurationText("5ms".into()));
                assert_eq!(median.referenced.column(), 15);
                assert_eq!(p99.unwrap().value, DurationText("40ms".into()));
            }
            other => panic!("{other:?}"),
        }
        let l: L = serde_saphyr::from_str("lat: 0\n").unwrap();
        assert_eq!(l.lat.value, RawLatency::Fixed(DurationText("0".into())));
    }

    #[test]
    fn fallback_shapes() {
        #[derive(Deserialize)]
        struct F {
            f: S<RawFallback>,
        }
        let f: F = serde_saphyr::from_str("f: omit\n").unwrap();
        assert_eq!(f.f.value, RawFallback::Omit);
        let f: F = serde_saphyr::from_str("f: {static: USD}\n").unwrap();
        assert_eq!(f.f.value, RawFallback::Static("USD".into()));
        assert_eq!(f.f.referenced.line(), 1);
    }
}
