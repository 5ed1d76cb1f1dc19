//! The control plane's API shape, shared by the server (every crate that
//! serves routes) and its clients (the CLI, experiments, drills):
//!
//! - [`error::ApiError`]: one error answer, Prometheus-style
//!   `{"status":"error","errorType":…,"error":…}`, and [`envelope`] for
//!   success answers `{"status":"success","data":…}`;
//! - [`role`]: who is asking (instructor, trainee, viewer) and
//!   [`access`]: what each route allows, enforced by one middleware;
//! - [`sink`]: the one interface through which every component appends to
//!   the event journal, and [`kinds`]: the catalogue of event kinds;
//! - [`lab`]: typed requests and answers of the lab operations;
//! - [`client`]: one HTTP client of the control plane.
//!
//! It depends on no crate of ours, so every crate can use it.

pub mod access;
pub mod client;
pub mod envelope;
pub mod error;
pub mod kinds;
pub mod lab;
pub mod role;
pub mod sink;

pub use access::{Access, RouteAccess};
pub use client::{Client, ClientError};
pub use envelope::{Success, success};
pub use error::{ApiError, ErrorType};
pub use role::{Principal, Role};
pub use sink::{Event, EventSink, NewEvent, SinkError};
