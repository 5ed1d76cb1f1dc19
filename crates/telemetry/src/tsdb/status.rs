//! The `data` of `/api/v1/status/tsdb` for a store: Prometheus's
//! `headStats` and empty cardinality lists, plus our own figures under
//! `firedrill` (samples, chunk bytes, bytes per sample, memory).

use std::sync::Arc;

use serde_json::json;

use super::Tsdb;
use crate::api::StatusFn;

/// The status answer of `db`, computed on each call.
pub fn status_fn(db: Arc<Tsdb>) -> StatusFn {
    Arc::new(move || {
        let s = db.stats();
        json!({
            "headStats": {
                "numSeries": s.series,
                "chunkCount": s.chunks,
                "minTime": s.min_t.unwrap_or(0),
                "maxTime": s.max_t.unwrap_or(0),
            },
            "seriesCountByMetricName": [],
            "labelValueCountByLabelName": [],
            "memoryInBytesByLabelName": [],
            "seriesCountByLabelValuePair": [],
            "firedrill": {
                "samples": s.samples,
                "chunkBytes": s.chunk_bytes,
                "bytesPerSample": s.bytes_per_sample,
                "memoryBytes": db.memory_bytes(),
            },
        })
    })
}
