//! Scenario files: the model every part consumes (`model.rs`).

mod model;

pub use model::*;
