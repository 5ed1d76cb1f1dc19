//! Pages: opened from routed alerts (one per alert group while open), sent
//! to the people an escalation policy names, escalated on timers stored in
//! the database (so they survive a restart), acknowledged, snoozed,
//! reassigned, annotated and resolved. Every change is a journal event.

mod actions;
mod escalate;
mod row;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use store::{Db, Journal};

use crate::clock::Clock;
use crate::config::{Config, Person};
use crate::error::OnCallError;

pub use escalate::resolve_step;
pub use row::{Page, Recipient};

/// An alert group as the pager sees it.
#[derive(Debug, Clone, Serialize)]
pub struct AlertGroup {
    pub group_key: String,
    pub title: String,
    pub summary: String,
    pub labels: serde_json::Value,
    /// Firing alerts in the group.
    pub firing: i64,
}

/// Reaches people: the contact methods of the on-call file.
pub trait Notifier: Send + Sync {
    /// `event` is the journal kind (`page.triggered`, `page.escalated`, ...);
    /// `role` is how the person is paged (`primary`, `shadow`, ...).
    fn notify(&self, person: &Person, role: &str, page: &Page, event: &str);
}

/// The on-call engine over the store.
pub struct OnCall {
    pub config: Arc<Config>,
    pub db: Db,
    pub journal: Journal,
    pub clock: Arc<dyn Clock>,
    notifier: Arc<dyn Notifier>,
    /// One state change at a time: an acknowledgement and an escalation of
    /// the same page never interleave.
    lock: tokio::sync::Mutex<()>,
    /// A drill's trainee on call (`crate::drill`).
    pub(crate) drill: std::sync::Mutex<Option<crate::drill::DrillOverride>>,
}

/// Which pages to list.
#[derive(Debug, Clone, Default)]
pub struct PageFilter {
    /// `open` (not resolved), or one status.
    pub status: Option<String>,
    pub person: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
}

impl OnCall {
    pub fn new(
        config: Arc<Config>,
        db: Db,
        journal: Journal,
        clock: Arc<dyn Clock>,
        notifier: Arc<dyn Notifier>,
    ) -> OnCall {
        OnCall {
            config,
            db,
            journal,
            clock,
            notifier,
            lock: tokio::sync::Mutex::new(()),
            drill: std::sync::Mutex::new(None),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// One page with its recipients.
    pub async fn page(&self, id: i64) -> Result<Page, OnCallError> {
        let mut p = row::fetch(&self.db, id)
            .await?
            .ok_or(OnCallError::NoPage(id))?;
        p.recipients = row::recipients(&self.db, id).await?;
        Ok(p)
    }

    /// Pages, newest first.
    pub async fn pages(&self, f: &PageFilter) -> Result<Vec<Page>, OnCallError> {
        let mut list = row::list(&self.db, f).await?;
        let ids: Vec<i64> = list.iter().map(|p| p.id).collect();
        let mut recipients = row::recipients_of(&self.db, &ids).await?;
        for p in &mut list {
            p.recipients = recipients.remove(&p.id).unwrap_or_default();
        }
        if let Some(who) = &f.person {
            list.retain(|p| p.assignee == *who || p.recipients.iter().any(|r| r.person == *who));
        }
        Ok(list)
    }

    /// The page's journal: triggers, escalations, notes, acknowledgements.
    pub async fn timeline(&self, id: i64) -> Result<Vec<store::Event>, OnCallError> {
        Ok(self
            .journal
            .list(&store::Filter {
                subject: Some(subject(id)),
                ..Default::default()
            })
            .await?)
    }

    pub(crate) async fn record(
        &self,
        kind: &str,
        id: i64,
        attributes: serde_json::Value,
    ) -> Result<(), OnCallError> {
        self.journal
            .append_at(self.now(), kind, "oncall", &subject(id), attributes)
            .await?;
        Ok(())
    }

    /// Ticket changes take the same lock as page changes: one at a time.
    pub(crate) async fn lock_tickets(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.lock.lock().await
    }

    pub(crate) fn person(&self, handle: &str) -> Result<&Person, OnCallError> {
        self.config
            .person(handle)
            .ok_or_else(|| OnCallError::UnknownPerson(handle.to_string()))
    }
}

/// The journal subject of a page.
pub fn subject(id: i64) -> String {
    format!("page-{id}")
}
