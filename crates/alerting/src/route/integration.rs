//! The receiver interface: anything that can be notified (e-mail here; the
//! on-call pager registers itself later). Deliveries go through the
//! notification log with retries like the HTTP receivers.

use std::future::Future;
use std::pin::Pin;

use super::dispatch::Notification;

pub type Delivery = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

pub trait Integration: Send + Sync {
    /// `email`, `pager`, ...
    fn kind(&self) -> &str;
    /// Where it goes, for the log (an address, a person).
    fn target(&self) -> String;
    /// Whether resolved notifications are sent too.
    fn send_resolved(&self) -> bool {
        true
    }
    /// One attempt at delivering `n`.
    fn notify(&self, n: &Notification) -> Delivery;
}
