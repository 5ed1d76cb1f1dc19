//! The evaluator: walks the `promql-parser` AST at one timestamp at a time,
//! with Prometheus 3 semantics.

mod aggregate;
mod binary;
mod functions;
mod histogram;
mod labels;
mod range_fns;
mod selector;
pub mod value;

pub use selector::matcher_groups;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::{Duration, Instant};

use promql_parser::parser::{AtModifier, Expr, Offset};

use super::limits::{duration_ms, system_time_ms};
use super::{CancelToken, EngineOptions, QueryError};
use crate::model::{Labels, Sample, Series, Storage};
use value::{Elem, RangeSeries, Val};

/// Default step of subqueries without one (Prometheus's default evaluation interval).
pub const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// How many deadline checks read the clock once.
const CLOCK_EVERY: u32 = 64;

pub struct Ev<'a> {
    pub storage: &'a dyn Storage,
    pub lookback: i64,
    /// Query start and end (ms): what `@ start()` and `@ end()` mean.
    pub start: i64,
    pub end: i64,
    /// Step of a range query; 0 for an instant query.
    pub step: i64,
    /// Window all selectors read from storage.
    pub window: (i64, i64),
    deadline: Instant,
    cancel: CancelToken,
    /// Calls of [`Ev::check_deadline`] so far.
    checks: Cell<u32>,
    max_samples: usize,
    loaded: Cell<usize>,
    cache: RefCell<HashMap<usize, Rc<Vec<Series>>>>,
    pub warnings: RefCell<Vec<String>>,
    pub infos: RefCell<Vec<String>>,
}

/// How far back and forward of the query range selectors can reach.
fn reach(
    e: &Expr,
    lookback: i64,
    back: &mut i64,
    fwd: &mut i64,
    ats: &mut Vec<Option<AtModifier>>,
) {
    fn off(o: &Option<Offset>) -> i64 {
        selector::offset_ms(o)
    }
    match e {
        Expr::VectorSelector(vs) => {
            *back = back
                .saturating_add(lookback)
                .saturating_add(off(&vs.offset).max(0));
            *fwd = fwd.saturating_add((-off(&vs.offset)).max(0));
            ats.push(vs.at.clone());
        }
        Expr::MatrixSelector(ms) => {
            *back = back
                .saturating_add(duration_ms(&ms.range))
                .saturating_add(off(&ms.vs.offset).max(0));
            *fwd = fwd.saturating_add((-off(&ms.vs.offset)).max(0));
            ats.push(ms.vs.at.clone());
        }
        Expr::Subquery(sq) => {
            *back = back
                .saturating_add(duration_ms(&sq.range))
                .saturating_add(off(&sq.offset).max(0))
                .saturating_add(
                    sq.step
                        .as_ref()
                        .map(duration_ms)
                        .unwrap_or(DEFAULT_SUBQUERY_STEP_MS),
                );
            *fwd = fwd.saturating_add((-off(&sq.offset)).max(0));
            ats.push(sq.at.clone());
            reach(&sq.expr, lookback, back, fwd, ats);
        }
        Expr::Aggregate(a) => {
            reach(&a.expr, lookback, back, fwd, ats);
            if let Some(p) = &a.param {
                reach(p, lookback, back, fwd, ats);
            }
        }
        Expr::Unary(u) => reach(&u.expr, lookback, back, fwd, ats),
        Expr::Paren(p) => reach(&p.expr, lookback, back, fwd, ats),
        Expr::Binary(b) => {
            reach(&b.lhs, lookback, back, fwd, ats);
            reach(&b.rhs, lookback, back, fwd, ats);
        }
        Expr::Call(c) => {
            for a in &c.args.args {
                reach(a, lookback, back, fwd, ats);
            }
        }
        _ => {}
    }
}

impl<'a> Ev<'a> {
    /// An evaluator of `expr`, which [`super::parse`] checked (depth, times
    /// and durations within bounds: time arithmetic cannot overflow).
    pub fn new(
        storage: &'a dyn Storage,
        opts: &EngineOptions,
        cancel: &CancelToken,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Self, QueryError> {
        let lookback = duration_ms(&opts.lookback_delta);
        let (mut back, mut fwd, mut ats) = (0, 0, Vec::new());
        reach(expr, lookback, &mut back, &mut fwd, &mut ats);
        let mut lo = start;
        let mut hi = end;
        for at in ats.into_iter().flatten() {
            if let AtModifier::At(st) = at {
                let Some(ms) = system_time_ms(&st) else {
                    return Err(super::limits::at_out_of_bounds(f64::NAN));
                };
                lo = lo.min(ms);
                hi = hi.max(ms);
            }
        }
        Ok(Ev {
            storage,
            lookback,
            start,
            end,
            step,
            window: (lo.saturating_sub(back), hi.saturating_add(fwd)),
            deadline: Instant::now()
                .checked_add(opts.timeout)
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 86_400)),
            cancel: cancel.clone(),
            checks: Cell::new(0),
            max_samples: opts.max_samples,
            loaded: Cell::new(0),
            cache: RefCell::new(HashMap::new()),
            warnings: RefCell::new(Vec::new()),
            infos: RefCell::new(Vec::new()),
        })
    }

    /// Whether the range-query sort warning was already given.
    pub fn sort_warned(&self) -> bool {
        self.warnings
            .borrow()
            .iter()
            .any(|w| w.starts_with("PromQL warning: sort is ineffective"))
    }

    /// Fails once the query's deadline has passed or it was canceled;
    /// called every step, every subquery step and every series (the clock
    /// is read every [`CLOCK_EVERY`] calls).
    pub fn check_deadline(&self) -> Result<(), QueryError> {
        let n = self.checks.get().wrapping_add(1);
        self.checks.set(n);
        if self.cancel.is_canceled() {
            Err(QueryError::Canceled)
        } else if n.is_multiple_of(CLOCK_EVERY) && Instant::now() > self.deadline {
            Err(QueryError::Timeout)
        } else {
            Ok(())
        }
    }

    pub fn add_samples(&self, n: usize) -> Result<(), QueryError> {
        let total = self.loaded.get() + n;
        self.loaded.set(total);
        if total > self.max_samples {
            Err(QueryError::TooManySamples)
        } else {
            Ok(())
        }
    }

    pub fn warn(&self, msg: String) {
        let mut w = self.warnings.borrow_mut();
        if !w.contains(&msg) {
            w.push(msg);
        }
    }

    pub fn info(&self, msg: String) {
        let mut w = self.infos.borrow_mut();
        if !w.contains(&msg) {
            w.push(msg);
        }
    }

    /// Evaluates `e` at `t` (ms).
    pub fn eval(&self, e: &Expr, t: i64) -> Result<Val, QueryError> {
        match e {
            Expr::NumberLiteral(n) => Ok(Val::Scalar(n.val)),
            Expr::StringLiteral(s) => Ok(Val::Str(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, t),
            Expr::Unary(u) => match self.eval(&u.expr, t)? {
                Val::Scalar(v) => Ok(Val::Scalar(-v)),
                Val::Vector(v) => Ok(Val::Vector(
                    v.into_iter()
                        .map(|mut s| {
                            s.v = -s.v;
                            s.labels = s.labels.without_name();
                            s
                        })
                        .collect(),
                )),
                other => Err(QueryError::BadData(format!(
                    "unary minus on {}",
                    other.type_name()
                ))),
            },
            Expr::VectorSelector(vs) => Ok(Val::Vector(self.select_instant(vs, t)?)),
            Expr::MatrixSelector(ms) => Ok(Val::Matrix(self.select_range(
                &ms.vs,
                duration_ms(&ms.range),
                t,
            )?)),
            Expr::Subquery(sq) => {
                let r = self.ref_time(&sq.at, &sq.offset, t);
                let range = duration_ms(&sq.range);
                let step = sq
                    .step
                    .as_ref()
                    .map(duration_ms)
                    .unwrap_or(DEFAULT_SUBQUERY_STEP_MS)
                    .max(1);
                let mut ts = (r - range).div_euclid(step) * step;
                if ts <= r - range {
                    ts += step;
                }
                let mut series: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
                while ts <= r {
                    self.check_deadline()?;
                    // Counted as they come: a subquery of many steps hits
                    // the samples limit before it fills the memory.
                    match self.eval(&sq.expr, ts)? {
                        Val::Scalar(v) => {
                            self.add_samples(1)?;
                            series
                                .entry(Labels::default())
                                .or_default()
                                .push(Sample { t: ts, v })
                        }
                        Val::Vector(vec) => {
                            self.add_samples(vec.len())?;
                            for el in vec {
                                series
                                    .entry(el.labels)
                                    .or_default()
                                    .push(Sample { t: ts, v: el.v });
                            }
                        }
                        other => {
                            return Err(QueryError::BadData(format!(
                                "subquery of {} is not allowed",
                                other.type_name()
                            )));
                        }
                    }
                    ts += step;
                }
                Ok(Val::Matrix(
                    series
                        .into_iter()
                        .map(|(labels, points)| RangeSeries { labels, points })
                        .collect(),
                ))
            }
            Expr::Aggregate(a) => self.aggregate(a, t),
            Expr::Binary(b) => self.binary(b, t),
            Expr::Call(c) => {
                let v = self.call(c, t)?;
                if let Val::Vector(vec) = &v {
                    check_unique(vec)?;
                }
                Ok(v)
            }
            Expr::Extension(_) => Err(QueryError::BadData(
                "extension expressions are not supported".into(),
            )),
        }
    }

    pub fn eval_vector(&self, e: &Expr, t: i64) -> Result<Vec<Elem>, QueryError> {
        match self.eval(e, t)? {
            Val::Vector(v) => Ok(v),
            other => Err(QueryError::BadData(format!(
                "expected instant vector, got {}",
                other.type_name()
            ))),
        }
    }

    pub fn eval_scalar(&self, e: &Expr, t: i64) -> Result<f64, QueryError> {
        match self.eval(e, t)? {
            Val::Scalar(v) => Ok(v),
            other => Err(QueryError::BadData(format!(
                "expected scalar, got {}",
                other.type_name()
            ))),
        }
    }

    pub fn eval_matrix(&self, e: &Expr, t: i64) -> Result<Vec<RangeSeries>, QueryError> {
        match self.eval(e, t)? {
            Val::Matrix(m) => Ok(m),
            other => Err(QueryError::BadData(format!(
                "expected range vector, got {}",
                other.type_name()
            ))),
        }
    }
}

/// Prometheus refuses vectors with two elements of one label set.
pub fn check_unique(v: &[Elem]) -> Result<(), QueryError> {
    if v.len() < 2 {
        return Ok(());
    }
    let mut seen = std::collections::HashSet::with_capacity(v.len());
    for e in v {
        if !seen.insert(&e.labels) {
            return Err(QueryError::Execution(
                "vector cannot contain metrics with the same labelset".into(),
            ));
        }
    }
    Ok(())
}
