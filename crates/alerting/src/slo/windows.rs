//! The multi-window, multi-burn-rate alert windows of the SRE Workbook
//! (chapter 5), for a 30-day SLO, scaled to other periods.

use std::time::Duration;

/// One alert condition: both windows burn faster than `factor`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnWindow {
    pub long: Duration,
    pub short: Duration,
    pub factor: f64,
}

/// Page: 2 % of the budget in 1 h (14.4×) or 5 % in 6 h (6×).
/// Ticket: 10 % in 1 d (3×) or 10 % in 3 d (1×).
pub fn windows(period: Duration) -> (Vec<BurnWindow>, Vec<BurnWindow>) {
    let f = period.as_secs_f64() / (30.0 * 86400.0);
    let d = |secs: u64| Duration::from_secs(((secs as f64) * f).round().max(60.0) as u64);
    let page = vec![
        BurnWindow {
            long: d(3600),
            short: d(300),
            factor: 14.4,
        },
        BurnWindow {
            long: d(6 * 3600),
            short: d(1800),
            factor: 6.0,
        },
    ];
    let ticket = vec![
        BurnWindow {
            long: d(86400),
            short: d(7200),
            factor: 3.0,
        },
        BurnWindow {
            long: d(3 * 86400),
            short: d(6 * 3600),
            factor: 1.0,
        },
    ];
    (page, ticket)
}

/// Every window the SLI is recorded over, shortest first.
pub fn all_windows(period: Duration) -> Vec<Duration> {
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

/// A Prometheus duration: `5m`, `1h`, `4m40s`, `30d`.
pub fn prom_duration(d: Duration) -> String {
    let mut s = d.as_secs();
    if s == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, n) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= n {
            out.push_str(&format!("{}{unit}", s / n));
            s %= n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workbook_windows_for_30_days() {
        let (page, ticket) = windows(Duration::from_secs(30 * 86400));
        assert_eq!(prom_duration(page[0].long), "1h");
        assert_eq!(prom_duration(page[0].short), "5m");
        assert_eq!(prom_duration(page[1].long), "6h");
        assert_eq!(prom_duration(ticket[1].long), "3d");
        let all: Vec<String> = all_windows(Duration::from_secs(30 * 86400))
            .into_iter()
            .map(prom_duration)
            .collect();
        assert_eq!(all, ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]);
    }

    #[test]
    fn windows_scale_with_the_period() {
        let (page, _) = windows(Duration::from_secs(7 * 86400));
        assert_eq!(prom_duration(page[0].long), "14m");
        assert_eq!(prom_duration(page[0].short), "1m10s");
    }
}
