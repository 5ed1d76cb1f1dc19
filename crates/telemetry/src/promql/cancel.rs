//! Stopping a running query from elsewhere: the evaluator polls a
//! [`CancelToken`] wherever it polls its deadline (every step, every
//! subquery step, every series), so a query on a blocking thread stops soon
//! after its HTTP client went away.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A flag shared by whoever may cancel a query and the query itself.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_canceled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// A guard that cancels the token when dropped (e.g. with the future of
    /// an HTTP handler whose client disconnected).
    pub fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Cancels its token when dropped (harmless once the query has finished);
/// see [`CancelToken::cancel_on_drop`].
#[derive(Debug)]
pub struct CancelOnDrop(CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_cancels_its_token_when_dropped() {
        let t = CancelToken::new();
        let guard = t.cancel_on_drop();
        assert!(!t.is_canceled());
        drop(guard);
        assert!(t.is_canceled());
    }
}
