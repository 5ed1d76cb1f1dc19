//! On call inside `up`: the engine on the journal's database, registered as
//! the alert router's `pager` and `tickets` receivers.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use oncall::{Config, OnCall, SystemClock};

/// Loads the on-call file (or the bundled example) before anything starts.
pub fn load(file: Option<&Path>) -> Result<Arc<Config>> {
    let cfg = match file {
        Some(f) => oncall::config::load(f)?,
        None => oncall::config::parse(oncall::config::BUNDLED, "bundled oncall.yaml")
            .context("the bundled on-call example is broken")?,
    };
    Ok(Arc::new(cfg))
}

/// The engine, wired to the alert router; its timers and routes are the
/// caller's to run and serve.
pub fn start(
    cfg: Arc<Config>,
    journal: &store::Journal,
    alerts: &alerting::route::Router,
    url: &str,
) -> Arc<OnCall> {
    let notifier = Arc::new(oncall::notify::Contacts {
        sender: alerts.sender(),
        smtp: cfg.smtp.clone(),
        external_url: url.to_string(),
    });
    let engine = Arc::new(OnCall::new(
        cfg,
        journal.db().clone(),
        journal.clone(),
        Arc::new(SystemClock),
        notifier,
    ));
    alerts.register(
        "pager",
        Arc::new(oncall::integration::PagerReceiver(engine.clone())),
    );
    alerts.register(
        "tickets",
        Arc::new(oncall::integration::TicketReceiver(engine.clone())),
    );
    engine
}
