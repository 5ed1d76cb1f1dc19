//! The way into the PromQL parser for expressions read from rule files and
//! SLO specs: [`telemetry::promql::parse`] checks size and nesting first
//! (the parser recurses) and turns a parser panic into an error.
use promql_parser::parser::Expr;

/// Parses `text`; the error is a sentence without the HTTP API's
/// `invalid parameter "query"` prefix, for a located file diagnostic.
pub fn parse(text: &str) -> Result<Expr, String> {
    telemetry::promql::parse(text).map_err(|e| {
        let m = e.to_string();
        m.strip_prefix("invalid parameter \"query\": ")
            .map(str::to_string)
            .unwrap_or(m)
    })
}
