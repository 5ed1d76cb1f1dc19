//! Topology: the lab described as data (services, endpoints, calls, versions, journeys).
pub mod duration;
pub mod model;

pub use model::*;
