//! On call inside `up`: the engine on the journal's database, registered as
//! the alert router's `pager` and `tickets` receivers, its timers ticking
//! every second, its API (writes guarded by the lab token).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
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

pub struct Running {
    pub router: Router,
    pub ticker: tokio::task::JoinHandle<()>,
}

pub fn start(
    cfg: Arc<Config>,
    journal: &store::Journal,
    alerts: &alerting::route::Router,
    url: &str,
    token: &str,
) -> Running {
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
    let e = engine.clone();
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every.tick().await;
            if let Err(err) = e.tick().await {
                tracing::error!(error = %err, "on-call timers could not run; retrying");
            }
        }
    });
    let writes = crate::guard::guarded(oncall::api::write_router(engine.clone()), token);
    Running {
        router: oncall::api::read_router(engine).merge(writes),
        ticker,
    }
}
