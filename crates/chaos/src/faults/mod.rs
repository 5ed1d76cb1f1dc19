//! Faults in a running lab: what a user asks for (`request.rs`), and the
//! controller that applies, re-applies, expires and clears them
//! (`controller.rs`), with its HTTP API (`api.rs`).

pub mod api;
mod controller;
mod request;

pub use controller::{FaultController, FaultRecord};
pub use request::{InjectRequest, MAX_DURATION, Plan, Target};
