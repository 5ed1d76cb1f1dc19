//! The multi-window, multi-burn-rate alert windows of the SRE Workbook
//! (chapter 5), as Sloth ships them: the same windows for 28- and 30-day
//! SLO periods, with burn-rate factors scaled to the period so that each
//! alert still means the same share of the error budget.

use std::time::Duration;

const MINUTE: u64 = 60;
const HOUR: u64 = 3600;
const DAY: u64 = 86400;

/// An SLO period with a window set (Sloth's `google-28d` and `google-30d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Period {
    Days28,
    #[default]
    Days30,
}

impl Period {
    /// The period of that length, if it has a window set.
    pub fn from_duration(d: Duration) -> Option<Period> {
        match d.as_secs() {
            s if s == 28 * DAY && d.subsec_nanos() == 0 => Some(Period::Days28),
            s if s == 30 * DAY && d.subsec_nanos() == 0 => Some(Period::Days30),
            _ => None,
        }
    }

    /// Parses `28d`, `4w`, `30d` (any Prometheus duration of that length).
    pub fn parse(s: &str) -> Result<Period, String> {
        telemetry::promql::limits::parse_duration(s.trim())
            .ok()
            .and_then(Period::from_duration)
            .ok_or_else(|| {
                format!(
                    "SLO period {s:?} is not supported: alert windows exist for 28d (4w) and 30d, as in Sloth"
                )
            })
    }

    pub fn duration(self) -> Duration {
        match self {
            Period::Days28 => Duration::from_secs(28 * DAY),
            Period::Days30 => Duration::from_secs(30 * DAY),
        }
    }

    pub fn days(self) -> u64 {
        self.duration().as_secs() / DAY
    }
}

/// One alert condition: both windows burn faster than `factor`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnWindow {
    pub long: Duration,
    pub short: Duration,
    pub factor: f64,
}

/// Share of the budget (percent) spent within the long window, short and
/// long windows in seconds: page quick, page slow, ticket quick, ticket slow.
const GOOGLE: [(f64, u64, u64); 4] = [
    (2.0, 5 * MINUTE, HOUR),
    (5.0, 30 * MINUTE, 6 * HOUR),
    (10.0, 2 * HOUR, DAY),
    (10.0, 6 * HOUR, 3 * DAY),
];

/// The factor by which the SLI must exceed the error budget ratio so that
/// `budget_percent` of the period's budget is spent within `long`.
/// Computed in the same order of operations as Sloth, so the factors print
/// the same (13.44, 5.6000000000000005, ... for 28 days).
fn burn_factor(period: Duration, budget_percent: f64, long: Duration) -> f64 {
    let hours = |d: Duration| d.as_secs_f64() / 3600.0;
    (budget_percent * hours(period) / 100.0) / hours(long)
}

/// Page: 2 % of the budget in 1 h or 5 % in 6 h.
/// Ticket: 10 % in 1 d or 10 % in 3 d.
pub fn windows(period: Period) -> (Vec<BurnWindow>, Vec<BurnWindow>) {
    let p = period.duration();
    let all: Vec<BurnWindow> = GOOGLE
        .iter()
        .map(|&(pct, short, long)| {
            let long = Duration::from_secs(long);
            BurnWindow {
                long,
                short: Duration::from_secs(short),
                factor: burn_factor(p, pct, long),
            }
        })
        .collect();
    (all[..2].to_vec(), all[2..].to_vec())
}

/// Every window the SLI is recorded over, shortest first (the period is
/// recorded separately, from the shortest window).
pub fn all_windows(period: Period) -> Vec<Duration> {
    let (p, t) = windows(period);
    let mut v: Vec<Duration> = p
        .iter()
        .chain(t.iter())
        .flat_map(|w| [w.short, w.long])
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A Prometheus duration as Prometheus prints it: `5m`, `1h`, `30d`, and
/// years and weeks only when exact (`4w`, not `3w7d`).
pub fn prom_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let units: [(&str, u128, bool); 7] = [
        ("y", 365 * 86_400_000, true),
        ("w", 7 * 86_400_000, true),
        ("d", 86_400_000, false),
        ("h", 3_600_000, false),
        ("m", 60_000, false),
        ("s", 1000, false),
        ("ms", 1, false),
    ];
    for (unit, n, exact) in units {
        if exact && !ms.is_multiple_of(n) {
            continue;
        }
        if ms >= n {
            out.push_str(&format!("{}{unit}", ms / n));
            ms %= n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: Period) -> Vec<String> {
        all_windows(p).into_iter().map(prom_duration).collect()
    }

    #[test]
    fn workbook_windows_for_30_days() {
        let (page, ticket) = windows(Period::Days30);
        let f: Vec<f64> = page.iter().chain(&ticket).map(|w| w.factor).collect();
        assert_eq!(f, [14.4, 6.0, 3.0, 1.0]);
        assert_eq!(
            names(Period::Days30),
            ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
        );
    }

    // Factors of Sloth's test/integration/prometheus/testdata/out-base-28d.yaml.tpl.
    #[test]
    fn same_windows_and_scaled_factors_for_28_days() {
        let (page, ticket) = windows(Period::Days28);
        let f: Vec<String> = page
            .iter()
            .chain(&ticket)
            .map(|w| w.factor.to_string())
            .collect();
        assert_eq!(
            f,
            [
                "13.44",
                "5.6000000000000005",
                "2.8000000000000003",
                "0.9333333333333333"
            ]
        );
        assert_eq!(names(Period::Days28), names(Period::Days30));
        assert_eq!(prom_duration(Period::Days28.duration()), "4w");
        assert_eq!(prom_duration(Period::Days30.duration()), "30d");
    }

    #[test]
    fn only_periods_with_a_window_set() {
        assert_eq!(Period::parse("28d"), Ok(Period::Days28));
        assert_eq!(Period::parse("4w"), Ok(Period::Days28));
        assert_eq!(Period::parse("30d"), Ok(Period::Days30));
        for bad in ["7d", "1d", "0s", "30", "100000d", "-1d"] {
            let e = Period::parse(bad).unwrap_err();
            assert!(e.contains("28d (4w) and 30d"), "{bad}: {e}");
        }
    }

    #[test]
    fn durations_print_like_prometheus() {
        for (secs, s) in [
            (300, "5m"),
            (5400, "1h30m"),
            (86400, "1d"),
            (7 * 86400, "1w"),
            (8 * 86400, "8d"),
            (365 * 86400, "1y"),
        ] {
            assert_eq!(prom_duration(Duration::from_secs(secs)), s);
        }
    }
}
