//! On call: people, schedules (rotations, restrictions, overrides, time
//! zones), shadows, escalation policies, pages and tickets, on the store's
//! database and journal.

pub mod clock;
pub mod config;
pub mod drill;
pub mod error;
pub mod pages;
pub mod schedule;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use drill::DrillOverride;
pub use error::OnCallError;
pub use pages::{AlertGroup, Notifier, OnCall, Page, PageFilter};
pub mod api;
pub mod ics;
pub mod integration;
pub mod notify;
pub mod report;
pub mod roster;
pub mod tickets;
pub use chrono_tz;
