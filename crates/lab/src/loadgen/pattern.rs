//! The optional daily traffic pattern: quiet nights, busy afternoons.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Rate multiplier over a (possibly compressed) day: `trough` at the start of
/// the period, 1.0 at its middle, smooth in between (a raised cosine).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DailyPattern {
    /// Length of one "day"; shorten it (e.g. 1h) to see a cycle in a lesson.
    #[serde(with = "secs")]
    pub period: Duration,
    /// Multiplier at the quietest moment, 0.0..=1.0.
    pub trough: f64,
}

impl Default for DailyPattern {
    fn default() -> Self {
        DailyPattern {
            period: Duration::from_secs(24 * 3600),
            trough: 0.25,
        }
    }
}

impl DailyPattern {
    /// Multiplier at `unix_secs`.
    pub fn factor(&self, unix_secs: f64) -> f64 {
        let period = self.period.as_secs_f64().max(1.0);
        let phase = (unix_secs % period) / period;
        let trough = self.trough.clamp(0.0, 1.0);
        trough + (1.0 - trough) * (1.0 - (2.0 * std::f64::consts::PI * phase).cos()) / 2.0
    }
}

mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trough_at_start_peak_at_middle() {
        let p = DailyPattern {
            period: Duration::from_secs(100),
            trough: 0.2,
        };
        assert!((p.factor(0.0) - 0.2).abs() < 1e-9);
        assert!((p.factor(50.0) - 1.0).abs() < 1e-9);
        assert!(p.factor(25.0) > 0.2 && p.factor(25.0) < 1.0);
        assert!((p.factor(100.0) - 0.2).abs() < 1e-9);
    }
}
