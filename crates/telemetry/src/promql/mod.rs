//! PromQL engine: parses with `promql-parser`, evaluates instant and range
//! queries against a [`Storage`] with Prometheus 3 semantics.
//!
//! Every query is bounded before it runs ([`limits`]: text size, nesting
//! depth, times, points) and while it runs (a deadline and a
//! [`CancelToken`], polled per step and per series); deep trees are
//! evaluated on a thread whose stack fits them ([`stack`]).

use std::time::Duration;

use crate::model::{Labels, Series, Storage, StorageError};

mod cancel;
mod ev;
pub mod limits;
mod stack;

pub use cancel::{CancelOnDrop, CancelToken};

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    pub labels: Labels,
    /// Evaluation timestamp (ms).
    pub t: i64,
    pub v: f64,
}

/// A query's value, in Prometheus's four result types.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, v: String },
    Vector(Vec<VectorSample>),
    Matrix(Vec<Series>),
}

impl Value {
    /// `resultType` as the Prometheus HTTP API names it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar { .. } => "scalar",
            Value::String { .. } => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

/// A result with the annotations Prometheus returns beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub value: Value,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

/// Why a query failed; `error_type` gives Prometheus's `errorType`.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Parse(String),
    #[error("{0}")]
    BadData(String),
    #[error("{0}")]
    Execution(String),
    #[error("query processing would load too many samples into memory in query execution")]
    TooManySamples,
    #[error("query timed out in expression evaluation")]
    Timeout,
    #[error("query was canceled in expression evaluation")]
    Canceled,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl QueryError {
    pub fn error_type(&self) -> &'static str {
        match self {
            QueryError::Parse(_) | QueryError::BadData(_) => "bad_data",
            QueryError::Timeout => "timeout",
            QueryError::Canceled => "canceled",
            QueryError::Execution(_) | QueryError::TooManySamples | QueryError::Storage(_) => {
                "execution"
            }
        }
    }
}

/// Limits and defaults of the engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (default 5m).
    pub lookback_delta: Duration,
    /// Most samples a query may hold in memory at once.
    pub max_samples: usize,
    /// Wall-clock limit of one query (default 2 min, as Prometheus's
    /// `--query.timeout`); the evaluator stops at the first check past it.
    pub timeout: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta: Duration::from_secs(300),
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
        }
    }
}

/// The PromQL engine.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    pub opts: EngineOptions,
}

impl Engine {
    pub fn new(opts: EngineOptions) -> Self {
        Engine { opts }
    }

    /// Evaluates `query` at `t` (ms).
    pub fn instant_query(
        &self,
        storage: &dyn Storage,
        query: &str,
        t: i64,
    ) -> Result<QueryResult, QueryError> {
        self.instant_query_with(storage, query, t, &CancelToken::new())
    }

    /// [`Engine::instant_query`] that stops early once `cancel` is canceled.
    pub fn instant_query_with(
        &self,
        storage: &dyn Storage,
        query: &str,
        t: i64,
        cancel: &CancelToken,
    ) -> Result<QueryResult, QueryError> {
        check_time(t)?;
        let expr = parse(query)?;
        stack::with_stack_for(limits::ast_depth(&expr), || {
            self.eval_instant(storage, &expr, t, cancel)
        })
    }

    fn eval_instant(
        &self,
        storage: &dyn Storage,
        expr: &promql_parser::parser::Expr,
        t: i64,
        cancel: &CancelToken,
    ) -> Result<QueryResult, QueryError> {
        let ev = ev::Ev::new(storage, &self.opts, cancel, expr, t, t, 0)?;
        let value = match ev.eval(expr, t)? {
            ev::value::Val::Scalar(v) => Value::Scalar { t, v },
            ev::value::Val::Str(v) => Value::String { t, v },
            ev::value::Val::Vector(v) => {
                ev::check_unique(&v)?;
                Value::Vector(
                    v.into_iter()
                        .map(|e| VectorSample {
                            labels: e.labels,
                            t,
                            v: e.v,
                        })
                        .collect(),
                )
            }
            ev::value::Val::Matrix(m) => {
                let mut m: Vec<Series> = m
                    .into_iter()
                    .map(|s| Series {
                        labels: s.labels,
                        samples: s.points,
                    })
                    .collect();
                m.sort_by(|a, b| a.labels.cmp(&b.labels));
                Value::Matrix(m)
            }
        };
        Ok(QueryResult {
            value,
            warnings: ev.warnings.take(),
            infos: ev.infos.take(),
        })
    }

    /// Evaluates `query` from `start` to `end` (ms, inclusive) every `step`
    /// ms; at most [`limits::MAX_POINTS`] steps.
    pub fn range_query(
        &self,
        storage: &dyn Storage,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, QueryError> {
        self.range_query_with(storage, query, start, end, step, &CancelToken::new())
    }

    /// [`Engine::range_query`] that stops early once `cancel` is canceled.
    pub fn range_query_with(
        &self,
        storage: &dyn Storage,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
        cancel: &CancelToken,
    ) -> Result<QueryResult, QueryError> {
        check_time(start)?;
        check_time(end)?;
        limits::check_resolution(start, end, step)?;
        let expr = parse(query)?;
        use promql_parser::parser::value::ValueType;
        match expr.value_type() {
            ValueType::Vector | ValueType::Scalar => {}
            other => {
                let name = match other {
                    ValueType::Matrix => "range vector",
                    ValueType::String => "string",
                    _ => "unknown",
                };
                return Err(QueryError::BadData(format!(
                    "invalid expression type \"{name}\" for range query, must be Scalar or instant Vector"
                )));
            }
        }
        stack::with_stack_for(limits::ast_depth(&expr), || {
            self.eval_range(storage, &expr, (start, end, step), cancel)
        })
    }

    fn eval_range(
        &self,
        storage: &dyn Storage,
        expr: &promql_parser::parser::Expr,
        (start, end, step): (i64, i64, i64),
        cancel: &CancelToken,
    ) -> Result<QueryResult, QueryError> {
        let ev = ev::Ev::new(storage, &self.opts, cancel, expr, start, end, step)?;
        let mut series: std::collections::BTreeMap<Labels, Vec<crate::model::Sample>> =
            Default::default();
        let mut t = start;
        while t <= end {
            ev.check_deadline()?;
            match ev.eval(expr, t)? {
                ev::value::Val::Scalar(v) => series
                    .entry(Labels::default())
                    .or_default()
                    .push(crate::model::Sample { t, v }),
                ev::value::Val::Vector(v) => {
                    ev::check_unique(&v)?;
                    for e in v {
                        series
                            .entry(e.labels)
                            .or_default()
                            .push(crate::model::Sample { t, v: e.v });
                    }
                }
                other => {
                    return Err(QueryError::BadData(format!(
                        "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                        other.type_name()
                    )));
                }
            }
            let Some(next) = t.checked_add(step) else {
                break;
            };
            t = next;
        }
        Ok(QueryResult {
            value: Value::Matrix(
                series
                    .into_iter()
                    .map(|(labels, samples)| Series { labels, samples })
                    .collect(),
            ),
            warnings: ev.warnings.take(),
            infos: ev.infos.take(),
        })
    }
}

/// Refuses an evaluation time outside what Prometheus can represent.
fn check_time(t: i64) -> Result<(), QueryError> {
    if (limits::MIN_TIME_MS..=limits::MAX_TIME_MS).contains(&t) {
        Ok(())
    } else {
        Err(QueryError::BadData(format!(
            "timestamp out of bounds: {t} ms"
        )))
    }
}

/// The matcher groups of every series selector in `query` (for tools that
/// need to know which series a query reads).
pub fn selectors_in(query: &str) -> Result<Vec<Vec<crate::model::Matcher>>, QueryError> {
    use promql_parser::parser::Expr;
    fn walk(e: &Expr, out: &mut Vec<Vec<crate::model::Matcher>>) -> Result<(), QueryError> {
        match e {
            Expr::VectorSelector(vs) => out.extend(ev::matcher_groups(vs)?),
            Expr::MatrixSelector(ms) => out.extend(ev::matcher_groups(&ms.vs)?),
            Expr::Subquery(sq) => walk(&sq.expr, out)?,
            Expr::Aggregate(a) => {
                walk(&a.expr, out)?;
                if let Some(p) = &a.param {
                    walk(p, out)?;
                }
            }
            Expr::Unary(u) => walk(&u.expr, out)?,
            Expr::Paren(p) => walk(&p.expr, out)?,
            Expr::Binary(b) => {
                walk(&b.lhs, out)?;
                walk(&b.rhs, out)?;
            }
            Expr::Call(c) => {
                for a in &c.args.args {
                    walk(a, out)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
    let expr = parse(query)?;
    let mut out = Vec::new();
    walk(&expr, &mut out)?;
    Ok(out)
}

/// Parses with `promql-parser` after checking the text's size and nesting
/// ([`limits::check_text`]: the parser recurses), then checks the tree's
/// depth, times and durations; errors are Prometheus's `bad_data`. The only
/// way into the parser for untrusted text.
pub fn parse(query: &str) -> Result<promql_parser::parser::Expr, QueryError> {
    limits::check_text(query)?;
    // The parser panics on some input (check_text refuses what is known);
    // a panic left over is a parse error, not the end of the process.
    let parsed =
        std::panic::catch_unwind(|| promql_parser::parser::parse(query)).map_err(|_| {
            tracing::warn!(query, "promql-parser panicked");
            QueryError::Parse("invalid parameter \"query\": the parser failed on this query".into())
        })?;
    let expr =
        parsed.map_err(|e| QueryError::Parse(format!("invalid parameter \"query\": {e}")))?;
    limits::check_tree(&expr)?;
    Ok(expr)
}
