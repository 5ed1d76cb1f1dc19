//! PromQL engine: parses with `promql-parser`, evaluates instant and range
//! queries against a [`Storage`] with Prometheus 3 semantics.
//!
//! (Skeleton: the public API below is fixed; the evaluator fills it in.)

use std::time::Duration;

use crate::model::{Labels, Series, Storage, StorageError};

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
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl QueryError {
    pub fn error_type(&self) -> &'static str {
        match self {
            QueryError::Parse(_) | QueryError::BadData(_) => "bad_data",
            QueryError::Timeout => "timeout",
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
    /// Wall-clock limit of one query.
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
        _storage: &dyn Storage,
        _query: &str,
        _t: i64,
    ) -> Result<QueryResult, QueryError> {
        Err(QueryError::Execution("not implemented yet".into()))
    }

    /// Evaluates `query` from `start` to `end` (ms, inclusive) every `step` ms.
    pub fn range_query(
        &self,
        _storage: &dyn Storage,
        _query: &str,
        _start: i64,
        _end: i64,
        _step: i64,
    ) -> Result<QueryResult, QueryError> {
        Err(QueryError::Execution("not implemented yet".into()))
    }
}
