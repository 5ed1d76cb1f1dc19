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

/// The drill engine's view of on call: the trainee (and shadow) take every
/// primary role through the engine's drill override.
pub struct DrillRoster(pub Arc<OnCall>);

impl drills::roster::Roster for DrillRoster {
    fn knows(&self, person: &str) -> bool {
        self.0.config.person(person).is_some()
    }

    fn put_on_call(
        &self,
        trainee: &str,
        shadow: Option<&str>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), String> {
        self.0
            .set_override(trainee, shadow, until)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn release(&self) {
        self.0.clear_override();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drills::roster::Roster;

    /// Reaches nobody: this test pages no one.
    struct Nobody;
    impl oncall::Notifier for Nobody {
        fn notify(&self, _: &oncall::config::Person, _: &str, _: &oncall::Page, _: &str) {}
    }

    #[tokio::test]
    async fn the_drill_roster_puts_the_trainee_on_call_and_releases_them() {
        let dir = tempfile::tempdir().unwrap();
        let db = store::Db::open(&store::Db::sqlite_url(dir.path()))
            .await
            .unwrap();
        let cfg = load(None).unwrap();
        let trainee = cfg.people[0].handle.clone();
        let engine = Arc::new(OnCall::new(
            cfg,
            db.clone(),
            store::Journal::new(db.clone()),
            Arc::new(SystemClock),
            Arc::new(Nobody),
        ));
        let roster = DrillRoster(engine.clone());
        assert!(roster.knows(&trainee));
        assert!(!roster.knows("nobody"));
        let until = chrono::Utc::now() + chrono::Duration::minutes(30);
        let e = roster.put_on_call("nobody", None, until).unwrap_err();
        assert!(e.contains("nobody"), "{e}");
        roster.put_on_call(&trainee, None, until).unwrap();
        let o = engine.override_at(engine.now()).expect("on call");
        assert_eq!((o.primary.as_str(), o.until), (trainee.as_str(), until));
        roster.release();
        assert_eq!(engine.override_at(engine.now()), None);
        db.close().await;
    }
}
