//! A drill's plan: the seed decides each fault's start time and variant,
//! and fills `{service}` in what depends on the variant. Same scenario,
//! same seed, same plan, on every machine and release: the generator is
//! SplitMix64, written out here rather than borrowed from a crate whose
//! streams may change between versions.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::scenario::{EventMatch, FaultAction, Hint, Remedy, Scenario};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub seed: u64,
    /// In the scenario's order.
    pub faults: Vec<PlannedFault>,
    /// Hints with `{service}` filled from the first fault's variant.
    pub hints: Vec<Hint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedFault {
    pub id: String,
    pub title: String,
    pub root: bool,
    /// Start, after the drill's start.
    #[serde(with = "crate::scenario::secs")]
    pub at: Duration,
    /// Index of the variant drawn.
    pub variant: usize,
    pub action: FaultAction,
    pub remedies: Vec<Remedy>,
}

/// SplitMix64 (Steele, Lea, Flood 2014).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, n)`; `n` > 0.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `[lo, hi]` at millisecond resolution.
    pub fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let (lo_ms, hi_ms) = (lo.as_millis() as u64, hi.as_millis() as u64);
        if hi_ms <= lo_ms {
            return lo;
        }
        Duration::from_millis(lo_ms + self.below(hi_ms - lo_ms + 1))
    }
}

fn fill(s: &str, service: Option<&str>) -> String {
    match service {
        Some(svc) => s.replace("{service}", svc),
        None => s.to_string(),
    }
}

fn fill_match(m: &EventMatch, service: Option<&str>) -> EventMatch {
    let mut m = m.clone();
    m.kind = fill(&m.kind, service);
    m.subject = m.subject.as_deref().map(|s| fill(s, service));
    m
}

/// The plan of `scenario` (already scaled) for `seed`.
pub fn plan(scenario: &Scenario, seed: u64) -> Plan {
    let mut rng = Rng::new(seed);
    let mut faults = Vec::new();
    for f in &scenario.faults {
        let at = rng.between(f.after_min, f.after_max);
        let variant = rng.below(f.variants.len() as u64) as usize;
        let action = f.variants[variant.min(f.variants.len().saturating_sub(1))].clone();
        let svc = action.service().map(str::to_string);
        let svc = svc.as_deref();
        let remedies = f
            .remedies
            .iter()
            .map(|r| Remedy {
                when: r.when.iter().map(|m| fill_match(m, svc)).collect(),
                effect: r.effect.clone(),
                note: fill(&r.note, svc),
            })
            .collect();
        faults.push(PlannedFault {
            id: f.id.clone(),
            title: fill(&f.title, svc),
            root: f.root,
            at,
            variant,
            action,
            remedies,
        });
    }
    let first = faults
        .first()
        .and_then(|f| f.action.service().map(str::to_string));
    let hints = scenario
        .hints
        .iter()
        .map(|h| Hint {
            text: fill(&h.text, first.as_deref()),
            cost: h.cost,
        })
        .collect();
    Plan {
        seed,
        faults,
        hints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_the_reference_stream() {
        // First outputs of SplitMix64 seeded with 0 (reference implementation).
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn between_stays_inside() {
        let mut r = Rng::new(42);
        for _ in 0..1000 {
            let d = r.between(Duration::from_secs(30), Duration::from_secs(120));
            assert!(d >= Duration::from_secs(30) && d <= Duration::from_secs(120));
        }
    }
}
