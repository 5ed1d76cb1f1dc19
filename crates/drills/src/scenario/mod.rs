//! Scenario files: the model every part consumes (`model.rs`).

pub mod bundled;
mod model;

pub use model::*;
