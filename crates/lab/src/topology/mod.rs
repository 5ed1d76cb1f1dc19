//! Topology: the lab described as data (services, endpoints, calls, versions, journeys).
//!
//! The file format is documented in `docs/topology.md`; [`resolve`] loads a
//! bundled topology by name or a YAML file, reporting every problem with
//! `file:line:column` and the field at fault.
pub mod duration;
pub mod loader;
pub mod model;
pub mod raw;
pub mod redact;
pub mod tree;
pub mod validate;

/// Every problem found in a topology file (see [`diag::Problems`]).
pub use diag::{Problem, Problems as TopologyError};
pub use loader::{bundled_names, bundled_source, load_file, load_str, resolve};
pub use model::*;
pub use redact::without_version_profiles;
pub use tree::render_tree;
pub use validate::route_matches;
