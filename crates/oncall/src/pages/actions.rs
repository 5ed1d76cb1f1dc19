//! What people do to a page: acknowledge, resolve, snooze, reassign, note.
//! Each change is stored, then journaled, before the call returns.

use serde_json::json;

use super::OnCall;
use super::row::{self, Page, ms};
use crate::error::OnCallError;

impl OnCall {
    /// The acting person: `by`, or the page's assignee when nobody is named.
    fn actor(&self, by: Option<&str>, page: &Page) -> Result<String, OnCallError> {
        let who = by
            .filter(|s| !s.is_empty())
            .unwrap_or(&page.assignee)
            .to_string();
        if who == "alerting" {
            return Ok(who);
        }
        self.person(&who)?;
        Ok(who)
    }

    /// A shadow learns alongside: may add notes, not take responsibility.
    fn responsible(&self, who: &str, page: &Page, what: &str) -> Result<(), OnCallError> {
        let roles: Vec<&str> = page
            .recipients
            .iter()
            .filter(|r| r.person == who)
            .map(|r| r.role.as_str())
            .collect();
        let only_shadow = if roles.is_empty() {
            self.config.is_apprentice(who)
        } else {
            roles.iter().all(|r| *r == "shadow")
        };
        if only_shadow {
            return Err(OnCallError::Forbidden(format!(
                "{who} shadows page {} and may add notes, not {what} it",
                page.id
            )));
        }
        Ok(())
    }

    async fn open_page(&self, id: i64, what: &str) -> Result<Page, OnCallError> {
        let p = self.page(id).await?;
        if p.status == "resolved" {
            return Err(OnCallError::Conflict(format!(
                "page {id} is resolved: nothing to {what}"
            )));
        }
        Ok(p)
    }

    /// Stops the escalation: the person takes it. Acknowledging twice is
    /// not an error (the first acknowledgement stands).
    pub async fn acknowledge(&self, id: i64, by: Option<&str>) -> Result<Page, OnCallError> {
        let _guard = self.lock.lock().await;
        let p = self.open_page(id, "acknowledge").await?;
        let who = self.actor(by, &p)?;
        self.responsible(&who, &p, "acknowledge")?;
        if p.status == "acknowledged" && p.snoozed_until.is_none() {
            return Ok(p);
        }
        let now = self.now();
        sqlx::query("UPDATE pages SET status = 'acknowledged', acknowledged_ms = COALESCE(acknowledged_ms, $1), acknowledged_by = COALESCE(acknowledged_by, $2), assignee = $2, next_escalation_ms = NULL, snoozed_until_ms = NULL WHERE id = $3")
            .bind(ms(now))
            .bind(&who)
            .bind(id)
            .execute(&self.db.pool)
            .await?;
        let seconds = (now - p.created).num_milliseconds() as f64 / 1000.0;
        self.record(
            "page.acknowledged",
            id,
            json!({"by": who, "seconds_to_acknowledge": seconds, "step": p.step}),
        )
        .await?;
        self.page(id).await
    }

    /// Closes the page; `by = "alerting"` when its alerts resolved.
    pub async fn resolve(&self, id: i64, by: Option<&str>) -> Result<Page, OnCallError> {
        let _guard = self.lock.lock().await;
        let p = self.open_page(id, "resolve").await?;
        let who = self.actor(by, &p)?;
        if who != "alerting" {
            self.responsible(&who, &p, "resolve")?;
        }
        let now = self.now();
        sqlx::query("UPDATE pages SET status = 'resolved', resolved_ms = $1, resolved_by = $2, next_escalation_ms = NULL, snoozed_until_ms = NULL WHERE id = $3")
            .bind(ms(now))
            .bind(&who)
            .bind(id)
            .execute(&self.db.pool)
            .await?;
        self.record(
            "page.resolved",
            id,
            json!({"by": who, "automatic": who == "alerting"}),
        )
        .await?;
        self.page(id).await
    }

    /// Acknowledges for now; the page triggers again after `for_`.
    pub async fn snooze(
        &self,
        id: i64,
        by: Option<&str>,
        for_: std::time::Duration,
    ) -> Result<Page, OnCallError> {
        if for_ < std::time::Duration::from_secs(1)
            || for_ > std::time::Duration::from_secs(24 * 3600)
        {
            return Err(OnCallError::Invalid("snooze for 1s to 24h".into()));
        }
        let _guard = self.lock.lock().await;
        let p = self.open_page(id, "snooze").await?;
        let who = self.actor(by, &p)?;
        self.responsible(&who, &p, "snooze")?;
        let now = self.now();
        let until = now + chrono::Duration::from_std(for_).unwrap_or_default();
        sqlx::query("UPDATE pages SET status = 'acknowledged', acknowledged_ms = COALESCE(acknowledged_ms, $1), acknowledged_by = COALESCE(acknowledged_by, $2), snoozed_until_ms = $3, next_escalation_ms = NULL WHERE id = $4")
            .bind(ms(now))
            .bind(&who)
            .bind(ms(until))
            .bind(id)
            .execute(&self.db.pool)
            .await?;
        self.record(
            "page.snoozed",
            id,
            json!({"by": who, "until": until, "seconds": for_.as_secs()}),
        )
        .await?;
        self.page(id).await
    }

    /// Hands the page to `to`, who is paged now; the escalation timer of
    /// the current step starts over.
    pub async fn reassign(&self, id: i64, by: Option<&str>, to: &str) -> Result<Page, OnCallError> {
        let _guard = self.lock.lock().await;
        let p = self.open_page(id, "reassign").await?;
        let who = self.actor(by, &p)?;
        self.responsible(&who, &p, "reassign")?;
        let target = self.person(to)?.clone();
        if self.config.is_apprentice(to) {
            return Err(OnCallError::Forbidden(format!(
                "{to} is an apprentice: shadows receive pages through their mentor"
            )));
        }
        let now = self.now();
        let after = self
            .config
            .policy(&p.policy)
            .and_then(|pol| pol.steps.get(p.step as usize))
            .map(|s| s.escalate_after)
            .unwrap_or(std::time::Duration::from_secs(300));
        let next = now + chrono::Duration::from_std(after).unwrap_or_default();
        let mut tx = self.db.pool.begin().await?;
        sqlx::query("UPDATE pages SET status = 'triggered', assignee = $1, next_escalation_ms = $2, snoozed_until_ms = NULL WHERE id = $3")
            .bind(to)
            .bind(ms(next))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO page_recipients (page_id, person, role, step, round, time_ms) VALUES ($1, $2, 'reassigned', $3, $4, $5)")
            .bind(id)
            .bind(to)
            .bind(p.step)
            .bind(p.round)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.record(
            "page.reassigned",
            id,
            json!({"by": who, "from": p.assignee, "to": to}),
        )
        .await?;
        let page = self.page(id).await?;
        self.notifier
            .notify(&target, "reassigned", &page, "page.reassigned");
        Ok(page)
    }

    /// A note on the page's timeline; shadows may write them too.
    pub async fn note(
        &self,
        id: i64,
        by: Option<&str>,
        text: &str,
    ) -> Result<store::Event, OnCallError> {
        let text = text.trim();
        if text.is_empty() || text.len() > 4000 {
            return Err(OnCallError::Invalid(
                "a note is 1 to 4000 characters".into(),
            ));
        }
        let p = self.page(id).await?;
        let who = self.actor(by, &p)?;
        Ok(self
            .journal
            .append_at(
                self.now(),
                "page.noted",
                "oncall",
                &super::subject(id),
                json!({"by": who, "text": text}),
            )
            .await?)
    }

    /// The alerts of a group resolved: the open page resolves too when the
    /// config says so (else a note says the alerts are gone).
    pub async fn alerts_resolved(&self, group_key: &str) -> Result<Option<Page>, OnCallError> {
        let Some(p) = row::open_by_group(&self.db, group_key).await? else {
            return Ok(None);
        };
        if self.config.pager.auto_resolve {
            return self.resolve(p.id, Some("alerting")).await.map(Some);
        }
        self.record(
            "page.alerts_resolved",
            p.id,
            json!({"group_key": group_key}),
        )
        .await?;
        Ok(Some(p))
    }
}
