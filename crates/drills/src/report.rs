//! The numbers and views of a drill, from the journal (placeholder until
//! timings, score and debrief land).

use serde_json::{Value, json};
use wire::Event;

use crate::DrillError;
use crate::engine::DrillEngine;
use crate::record::DrillRecord;

/// The trainee's total score.
pub fn trainee_score(r: &DrillRecord, _events: &[Event]) -> f64 {
    let met = r
        .state
        .objectives
        .iter()
        .filter(|o| o.met.is_some())
        .count();
    let total = r.state.objectives.len().max(1);
    100.0 * met as f64 / total as f64
}

pub async fn history_row(_e: &DrillEngine, r: &DrillRecord) -> Value {
    crate::api::public_view(r)
}

pub async fn debrief(e: &DrillEngine, r: &DrillRecord) -> Result<Value, DrillError> {
    let events = e.events_of(r, None).await?;
    Ok(json!({"drill": r, "events": events, "score": trainee_score(r, &events)}))
}

pub async fn debrief_html(
    _e: &DrillEngine,
    r: &DrillRecord,
    _d: &Value,
) -> Result<String, DrillError> {
    Ok(format!("<!doctype html><title>drill {}</title>", r.id))
}

pub fn debrief_text(d: &Value) -> String {
    format!("{d:#}\n")
}

pub fn history_text(rows: &[Value]) -> String {
    rows.iter().map(|r| format!("{r}\n")).collect()
}
