//! Backfilling from an exposition file whose samples carry timestamps (the
//! input `promtool tsdb create-blocks-from openmetrics` takes). Samples are
//! sorted by series and time first, so out-of-order input still imports.

use super::head::Tsdb;
use crate::exposition::{self, ParseError};
use crate::model::{Appender, Labels, Sample, StorageError};

/// Samples are appended in batches of this size.
const BATCH: usize = 10_000;

/// How far past the current time a sample may be dated (clock skew between
/// the host that wrote the file and this one). Later samples are refused,
/// as Prometheus refuses samples out of its head's bounds: one sample dated
/// in the far future would otherwise be the store's newest for good.
pub const MAX_FUTURE: std::time::Duration = std::time::Duration::from_secs(3600);

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportStats {
    /// Samples read from the file.
    pub samples_read: usize,
    /// Samples stored.
    pub appended: usize,
    /// Samples dropped: duplicates in the file, or not newer than data the
    /// store already had for that series.
    pub out_of_order: usize,
    /// Distinct series in the file.
    pub series: usize,
    pub min_t: Option<i64>,
    pub max_t: Option<i64>,
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Parse(ParseError),
    #[error("no samples: nothing to import")]
    Empty,
    #[error("line {line}: sample has no timestamp (backfill needs one on every sample)")]
    MissingTimestamp { line: usize },
    #[error(
        "line {line}: sample at {} is out of bounds: more than {}s after the current time",
        rfc3339(*t),
        MAX_FUTURE.as_secs()
    )]
    OutOfBounds { line: usize, t: i64 },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<ParseError> for ImportError {
    fn from(e: ParseError) -> Self {
        ImportError::Parse(e)
    }
}

impl ImportError {
    /// The line of the file the error is about, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            ImportError::Parse(p) => Some(p.line),
            ImportError::MissingTimestamp { line } | ImportError::OutOfBounds { line, .. } => {
                Some(*line)
            }
            _ => None,
        }
    }
}

/// A time in ms as RFC 3339 (or in ms when chrono cannot show it).
fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| format!("{t} ms"))
}

/// Parses `text` (OpenMetrics when it ends with `# EOF`, else the text
/// format) and appends every sample to `tsdb`. Every sample needs a
/// timestamp, at most [`MAX_FUTURE`] after the current time. Nothing is
/// appended when the input does not parse or a sample is refused.
pub fn import(tsdb: &Tsdb, text: &str) -> Result<ImportStats, ImportError> {
    let parsed = exposition::parse_auto(text)?;
    if parsed.samples.is_empty() {
        return Err(ImportError::Empty);
    }
    let latest = chrono::Utc::now()
        .timestamp_millis()
        .saturating_add(MAX_FUTURE.as_millis() as i64);
    let mut samples: Vec<(Labels, Sample)> = Vec::with_capacity(parsed.samples.len());
    for s in parsed.samples {
        let t = s
            .timestamp_ms
            .ok_or(ImportError::MissingTimestamp { line: s.line })?;
        if t > latest {
            return Err(ImportError::OutOfBounds { line: s.line, t });
        }
        samples.push((s.labels, Sample { t, v: s.value }));
    }
    let mut stats = ImportStats {
        samples_read: samples.len(),
        ..ImportStats::default()
    };
    // Stable sort: for equal (series, time) the first line wins.
    samples.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.t.cmp(&b.1.t)));
    for (i, (l, s)) in samples.iter().enumerate() {
        if i == 0 || samples[i - 1].0 != *l {
            stats.series += 1;
        }
        stats.min_t = Some(stats.min_t.map_or(s.t, |m| m.min(s.t)));
        stats.max_t = Some(stats.max_t.map_or(s.t, |m| m.max(s.t)));
    }
    for batch in samples.chunks(BATCH) {
        let st = tsdb.append(batch)?;
        stats.appended += st.appended;
        stats.out_of_order += st.out_of_order;
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MatchOp, Matcher, Storage};
    use crate::tsdb::TsdbOptions;

    fn db() -> Tsdb {
        Tsdb::in_memory(TsdbOptions {
            background: false,
            ..TsdbOptions::default()
        })
    }

    #[test]
    fn imports_out_of_order_openmetrics() {
        let text = "\
# HELP http_requests Requests.
# TYPE http_requests counter
http_requests_total{code=\"200\"} 3 1700000030
http_requests_total{code=\"500\"} 1 1700000000
http_requests_total{code=\"200\"} 1 1700000000
http_requests_total{code=\"200\"} 2 1700000015.5
http_requests_total{code=\"200\"} 9 1700000015.5
# TYPE temp gauge
temp 21.5 1700000000
# EOF
";
        let db = db();
        let st = import(&db, text).unwrap();
        assert_eq!(st.samples_read, 6);
        assert_eq!(st.appended, 5);
        assert_eq!(st.out_of_order, 1);
        assert_eq!(st.series, 3);
        assert_eq!(st.min_t, Some(1_700_000_000_000));
        assert_eq!(st.max_t, Some(1_700_000_030_000));
        let m = Matcher::new(MatchOp::Equal, "code", "200").unwrap();
        let r = db.select(&[m], i64::MIN, i64::MAX).unwrap();
        let got: Vec<(i64, f64)> = r[0].samples.iter().map(|s| (s.t, s.v)).collect();
        assert_eq!(
            got,
            vec![
                (1_700_000_000_000, 1.0),
                (1_700_000_015_500, 2.0),
                (1_700_000_030_000, 3.0)
            ]
        );
    }

    #[test]
    fn text_format_and_errors() {
        let db = db();
        let st = import(&db, "a 1 1000\na 2 2000\n").unwrap();
        assert_eq!(st.appended, 2);
        // Older than what is stored: dropped and counted.
        let st = import(&db, "a 0 500\na 3 3000\n").unwrap();
        assert_eq!((st.appended, st.out_of_order), (1, 1));
        match import(&db, "a 1 1000\nb 2\n") {
            Err(ImportError::MissingTimestamp { line: 2 }) => {}
            other => panic!("{other:?}"),
        }
        match import(&db, "a 1 1000\n# EOF\nb 2 1\n") {
            Err(ImportError::Parse(e)) => assert_eq!(e.line, 3),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn samples_far_in_the_future_are_refused() {
        let db = db();
        // 9999-12-31T00:00:00Z (ms in the text format).
        match import(&db, "a 1 1000\na 2 253402214400000\n") {
            Err(e @ ImportError::OutOfBounds { line: 2, .. }) => assert_eq!(
                e.to_string(),
                "line 2: sample at 9999-12-31T00:00:00.000Z is out of bounds: more than 3600s after the current time"
            ),
            other => panic!("{other:?}"),
        }
        // Nothing of the file was appended.
        assert!(db.max_time().is_none());
        // Within the allowed skew: accepted.
        let soon = chrono::Utc::now().timestamp_millis() + 600_000;
        let st = import(&db, &format!("a 1 1000\na 2 {soon}\n")).unwrap();
        assert_eq!(st.appended, 2);
        // OpenMetrics has seconds.
        let om = "a 1 1000\na 2 253402214400\n# EOF\n";
        assert!(matches!(
            import(&db, om),
            Err(ImportError::OutOfBounds { line: 2, .. })
        ));
    }
}
