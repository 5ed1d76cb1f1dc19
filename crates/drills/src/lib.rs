//! Drills: scored, reproducible incidents run against a live lab.
//!
//! - [`scenario`]: scenario files (model, loading with file:line:column,
//!   the bundled catalogue);
//! - [`plan`]: the seed's choices (fault start times, variants);
//! - [`record`]: a drill as stored, with the engine's state;
//! - [`matcher`]: journal events against a scenario's patterns;
//! - [`timings`], [`score`]: a drill's timings from the journal and the
//!   score computed from them;
//! - [`debrief`]: the debrief (text, JSON, one-file HTML with SVG charts);
//! - [`history`]: past drills as a table and a score trend;
//! - [`engine`]: runs one drill at a time per lab, journals every step,
//!   resumes after a restart.

pub mod api;
pub mod debrief;
pub mod engine;
pub mod error;
#[cfg(test)]
mod fixture;
pub mod history;
pub mod matcher;
pub mod plan;
pub mod record;
pub mod report;
pub mod roster;
pub mod scenario;
pub mod score;
pub mod timings;

pub use error::DrillError;
pub use record::{DrillRecord, DrillState, Outcome};
