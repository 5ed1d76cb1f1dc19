//! Durations in topology files and live config: firedrill's one grammar
//! (`500us`, `250ms`, `1.5s`, `1h30m`, `0`), see [`diag::duration`].

pub use diag::duration::{format as format_duration, parse as parse_duration};
