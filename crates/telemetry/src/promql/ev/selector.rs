//! Selecting series for vector and matrix selectors, with one storage read
//! per selector per query.

use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{AtModifier, Offset, VectorSelector};

use super::Ev;
use super::value::{Elem, RangeSeries};
use crate::model::{METRIC_NAME, MatchOp, Matcher, Sample, Series, is_stale_nan};
use crate::promql::QueryError;
use crate::promql::limits::{duration_ms, system_time_ms};

pub fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        Some(Offset::Pos(d)) => duration_ms(d),
        Some(Offset::Neg(d)) => -duration_ms(d),
        None => 0,
    }
}

/// The matcher groups of a selector (more than one with `or`).
pub fn matcher_groups(vs: &VectorSelector) -> Result<Vec<Vec<Matcher>>, QueryError> {
    let conv = |m: &promql_parser::label::Matcher| -> Result<Matcher, QueryError> {
        let op = match &m.op {
            PMatchOp::Equal => MatchOp::Equal,
            PMatchOp::NotEqual => MatchOp::NotEqual,
            PMatchOp::Re(_) => MatchOp::Regex,
            PMatchOp::NotRe(_) => MatchOp::NotRegex,
        };
        Matcher::new(op, &m.name, &m.value).map_err(|e| QueryError::BadData(e.to_string()))
    };
    let name = vs
        .name
        .as_ref()
        .map(|n| {
            Matcher::new(MatchOp::Equal, METRIC_NAME, n)
                .map_err(|e| QueryError::BadData(e.to_string()))
        })
        .transpose()?;
    let mut groups = Vec::new();
    let base: Vec<&promql_parser::label::Matcher> = vs.matchers.matchers.iter().collect();
    if vs.matchers.or_matchers.is_empty() {
        let mut g: Vec<Matcher> = base.iter().map(|m| conv(m)).collect::<Result<_, _>>()?;
        g.extend(name.clone());
        groups.push(g);
    } else {
        for alt in &vs.matchers.or_matchers {
            let mut g: Vec<Matcher> = alt.iter().map(conv).collect::<Result<_, _>>()?;
            g.extend(name.clone());
            groups.push(g);
        }
    }
    Ok(groups)
}

impl Ev<'_> {
    /// The time a selector looks at when evaluated at `t`.
    pub fn ref_time(&self, at: &Option<AtModifier>, offset: &Option<Offset>, t: i64) -> i64 {
        let base = match at {
            Some(AtModifier::Start) => self.start,
            Some(AtModifier::End) => self.end,
            // In bounds: checked when the query was parsed.
            Some(AtModifier::At(st)) => system_time_ms(st).unwrap_or(t),
            None => t,
        };
        base - offset_ms(offset)
    }

    /// All series of the selector over the query's whole window (cached).
    pub fn fetch(&self, vs: &VectorSelector) -> Result<std::rc::Rc<Vec<Series>>, QueryError> {
        let key = vs as *const VectorSelector as usize;
        if let Some(s) = self.cache.borrow().get(&key) {
            return Ok(s.clone());
        }
        self.check_deadline()?;
        let (mint, maxt) = self.window;
        let mut out: Vec<Series> = Vec::new();
        for g in matcher_groups(vs)? {
            for s in self.storage.select(&g, mint, maxt)? {
                if !out.iter().any(|o| o.labels == s.labels) {
                    out.push(s);
                }
            }
        }
        let n: usize = out.iter().map(|s| s.samples.len()).sum();
        self.add_samples(n)?;
        let rc = std::rc::Rc::new(out);
        self.cache.borrow_mut().insert(key, rc.clone());
        Ok(rc)
    }

    /// Instant vector selector at `t`: each series' latest sample within the
    /// lookback window, unless that sample is a staleness marker.
    pub fn select_instant(&self, vs: &VectorSelector, t: i64) -> Result<Vec<Elem>, QueryError> {
        let r = self.ref_time(&vs.at, &vs.offset, t);
        let all = self.fetch(vs)?;
        let mut out = Vec::new();
        for s in all.iter() {
            self.check_deadline()?;
            if let Some(p) = latest(&s.samples, r, self.lookback)
                && !is_stale_nan(p.v)
            {
                out.push(Elem {
                    labels: s.labels.clone(),
                    t: p.t,
                    v: p.v,
                });
            }
        }
        Ok(out)
    }

    /// Matrix selector at `t`: samples in `(ref - range, ref]`, markers dropped.
    pub fn select_range(
        &self,
        vs: &VectorSelector,
        range: i64,
        t: i64,
    ) -> Result<Vec<RangeSeries>, QueryError> {
        let r = self.ref_time(&vs.at, &vs.offset, t);
        let all = self.fetch(vs)?;
        let mut out = Vec::new();
        let mut n = 0;
        for s in all.iter() {
            self.check_deadline()?;
            let lo = s.samples.partition_point(|p| p.t <= r - range);
            let hi = s.samples.partition_point(|p| p.t <= r);
            let points: Vec<Sample> = s.samples[lo..hi]
                .iter()
                .filter(|p| !is_stale_nan(p.v))
                .copied()
                .collect();
            if !points.is_empty() {
                n += points.len();
                out.push(RangeSeries {
                    labels: s.labels.clone(),
                    points,
                });
            }
        }
        self.add_samples(n)?;
        Ok(out)
    }
}

/// The latest sample at or before `r` and after `r - lookback`.
fn latest(samples: &[Sample], r: i64, lookback: i64) -> Option<Sample> {
    let hi = samples.partition_point(|p| p.t <= r);
    if hi == 0 {
        return None;
    }
    let p = samples[hi - 1];
    (p.t > r.saturating_sub(lookback)).then_some(p)
}
