//! Notifications: stored before they are sent, sent with retries, failures
//! kept visible.

pub mod log;
pub mod send;

pub use log::{Delivery, DeliveryState, NotificationLog};
pub use send::{RetryPolicy, Sender};
