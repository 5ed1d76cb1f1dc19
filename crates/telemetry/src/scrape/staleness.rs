//! Which series a target exposed at its last scrape, to mark the ones that
//! disappear with a staleness marker.

use std::collections::HashSet;

use crate::model::{Labels, Sample, stale_nan};

#[derive(Debug, Default)]
pub struct SeenSeries {
    last: HashSet<Labels>,
}

impl SeenSeries {
    /// Records this scrape's series; returns stale markers at `t` for the
    /// series of the previous scrape that are missing now.
    pub fn update(&mut self, now: HashSet<Labels>, t: i64) -> Vec<(Labels, Sample)> {
        let stale = self
            .last
            .difference(&now)
            .map(|l| (l.clone(), Sample { t, v: stale_nan() }))
            .collect();
        self.last = now;
        stale
    }

    /// Everything seen becomes stale (the target failed or went away).
    pub fn all_stale(&mut self, t: i64) -> Vec<(Labels, Sample)> {
        self.update(HashSet::new(), t)
    }

    /// How many of `now` were not in the last scrape.
    pub fn count_new(&self, now: &HashSet<Labels>) -> usize {
        now.iter().filter(|l| !self.last.contains(*l)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::is_stale_nan;

    fn l(name: &str) -> Labels {
        Labels::new([("__name__", name)])
    }

    #[test]
    fn disappearing_series_get_markers() {
        let mut s = SeenSeries::default();
        assert!(
            s.update([l("a"), l("b")].into_iter().collect(), 1000)
                .is_empty()
        );
        let stale = s.update([l("a")].into_iter().collect(), 2000);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].0, l("b"));
        assert!(is_stale_nan(stale[0].1.v));
        assert_eq!(stale[0].1.t, 2000);
        assert_eq!(s.all_stale(3000).len(), 1);
        assert!(s.all_stale(4000).is_empty());
    }
}
