//! Diagnostics shared by firedrill's file loaders and command-line flags.
//!
//! - [`Problem`]: one mistake, shown as `file:line:column: field: message`
//!   (parts that are unknown are left out, never printed as `0:0` or empty);
//! - [`Problems`]: every mistake a loader found, the error type of loaders;
//! - [`Report`]: the collector a validator pushes problems into;
//! - [`yaml`]: serde-saphyr errors as problems (position, field, plain words);
//! - [`duration`]: the one duration grammar of files and flags
//!   (`250ms`, `1.5s`, `1h30m`, `7d`), documented in `docs/formats.md`.
//!
//! This crate depends on no other crate of the workspace.

pub mod duration;
mod node;
mod problem;
mod report;
pub mod yaml;

pub use node::{Node, field_at};
pub use problem::{Problem, Problems};
pub use report::Report;
