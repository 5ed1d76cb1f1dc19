//! The numbers of a finished drill, from the journal.

use wire::Event;

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
