//! Notifications: stored before they are sent (a row of the database's
//! notification log, `store::notifications`), sent with retries from a
//! bounded queue, failures kept visible.

pub mod send;

/// The notification log lives in the database.
pub mod log {
    pub use store::notifications::{
        Delivery, DeliveryState, NotificationLog, PageQuery, Retention,
    };
}

pub use log::{Delivery, DeliveryState, NotificationLog, PageQuery, Retention};
pub use send::{Capacity, RetryPolicy, Sender};
