//! Opening pages and moving them along their escalation policy.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;

use super::row::{self, Page, ms};
use super::{AlertGroup, OnCall};
use crate::config::{Role, Target};
use crate::drill::DrillOverride;
use crate::error::OnCallError;

/// Who a step pages at an instant: (person, role), shadows included. A
/// drill's override holding at `at` puts its trainee in every primary
/// target, with its shadow beside them.
pub fn resolve_step(
    cfg: &crate::config::Config,
    targets: &[Target],
    at: DateTime<Utc>,
    drill: Option<&DrillOverride>,
) -> Vec<(String, String)> {
    let drill = drill.filter(|d| d.covers(at));
    let mut out: Vec<(String, String)> = Vec::new();
    let add = |p: &str, role: &str, out: &mut Vec<(String, String)>| {
        if !out.iter().any(|(q, _)| q == p) {
            out.push((p.to_string(), role.to_string()));
        }
    };
    for t in targets {
        match t {
            Target::OnCall { schedule, role } => match drill {
                Some(d) if *role == Role::Primary && cfg.schedule(schedule).is_some() => {
                    add(&d.primary, role.as_str(), &mut out)
                }
                _ => {
                    if let Some((p, _)) = cfg.schedule(schedule).and_then(|s| s.on_call(*role, at))
                    {
                        add(p, role.as_str(), &mut out);
                    }
                }
            },
            Target::Person { person } => add(person, "person", &mut out),
        }
    }
    let responsible: Vec<String> = out.iter().map(|(p, _)| p.clone()).collect();
    for p in &responsible {
        for a in cfg.apprentices_of(p) {
            add(a, "shadow", &mut out);
        }
    }
    if let Some(d) = drill
        && let Some(s) = &d.shadow
        && responsible.contains(&d.primary)
    {
        add(s, "shadow", &mut out);
    }
    out
}

impl OnCall {
    /// A firing alert group: opens a page, or updates the open page of the
    /// same group (deduplication). Returns the page and whether it is new.
    pub async fn trigger(&self, g: &AlertGroup) -> Result<(Page, bool), OnCallError> {
        let _guard = self.lock.lock().await;
        let now = self.now();
        if let Some(p) = row::open_by_group(&self.db, &g.group_key).await? {
            sqlx::query("UPDATE pages SET alerts = $1, title = $2, summary = $3 WHERE id = $4")
                .bind(g.firing)
                .bind(&g.title)
                .bind(&g.summary)
                .bind(p.id)
                .execute(&self.db.pool)
                .await?;
            return Ok((self.page(p.id).await?, false));
        }
        let policy = self.config.pager.policy.clone();
        let id: i64 = sqlx::query(
            "INSERT INTO pages (group_key, title, summary, labels, status, policy, step, round, assignee, alerts, created_ms) \
             VALUES ($1, $2, $3, $4, 'triggered', $5, 0, 0, '', $6, $7) RETURNING id",
        )
        .bind(&g.group_key)
        .bind(&g.title)
        .bind(&g.summary)
        .bind(g.labels.to_string())
        .bind(&policy)
        .bind(g.firing)
        .bind(ms(now))
        .fetch_one(&self.db.pool)
        .await?
        .try_get(0)?;
        self.page_step(id, 0, 0, "page.triggered", now).await?;
        Ok((self.page(id).await?, true))
    }

    /// Pages everyone step `step` names, records them, sets the assignee and
    /// the escalation timer, then notifies. Caller holds the lock.
    pub(crate) async fn page_step(
        &self,
        id: i64,
        step: i64,
        round: i64,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<(), OnCallError> {
        let page = row::fetch(&self.db, id)
            .await?
            .ok_or(OnCallError::NoPage(id))?;
        let Some(policy) = self.config.policy(&page.policy) else {
            return Err(OnCallError::Invalid(format!(
                "page {id}: no escalation policy {:?}",
                page.policy
            )));
        };
        let Some(st) = policy.steps.get(step as usize) else {
            return Err(OnCallError::Invalid(format!(
                "page {id}: policy {:?} has no step {step}",
                page.policy
            )));
        };
        let who = resolve_step(
            &self.config,
            &st.targets,
            now,
            self.override_at(now).as_ref(),
        );
        let next = now + chrono::Duration::from_std(st.escalate_after).unwrap_or_default();
        let assignee = who
            .iter()
            .find(|(_, r)| r != "shadow")
            .map(|(p, _)| p.clone())
            .unwrap_or(page.assignee.clone());
        let mut tx = self.db.pool.begin().await?;
        sqlx::query("UPDATE pages SET step = $1, round = $2, next_escalation_ms = $3, assignee = $4, status = 'triggered', snoozed_until_ms = NULL WHERE id = $5")
            .bind(step)
            .bind(round)
            // Nobody to page (a gap in every schedule): move on at once.
            .bind(if who.is_empty() { ms(now) } else { ms(next) })
            .bind(&assignee)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for (p, role) in &who {
            sqlx::query("INSERT INTO page_recipients (page_id, person, role, step, round, time_ms) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id)
                .bind(p)
                .bind(role)
                .bind(step)
                .bind(round)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        let recipients: Vec<serde_json::Value> = who
            .iter()
            .map(|(p, r)| json!({"person": p, "role": r}))
            .collect();
        self.record(
            kind,
            id,
            json!({"title": page.title, "step": step, "round": round, "assignee": assignee, "recipients": recipients, "group_key": page.group_key}),
        )
        .await?;
        let page = self.page(id).await?;
        for (p, role) in &who {
            if let Some(person) = self.config.person(p) {
                self.notifier.notify(person, role, &page, kind);
            }
        }
        Ok(())
    }

    /// Runs [`OnCall::tick`] every `every` until the task is dropped.
    pub async fn run_timers(self: std::sync::Arc<Self>, every: std::time::Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            if let Err(err) = self.tick().await {
                tracing::error!(error = %err, "on-call timers could not run; retrying");
            }
        }
    }

    /// Moves every page whose timer is due: unacknowledged pages escalate,
    /// snoozed pages wake up. Returns the ids touched. Run every second in
    /// a lab; tests call it after moving their clock.
    pub async fn tick(&self) -> Result<Vec<i64>, OnCallError> {
        let _guard = self.lock.lock().await;
        let now = self.now();
        let mut touched = Vec::new();
        let due = sqlx::query(&format!(
            "SELECT {} FROM pages WHERE status = 'triggered' AND next_escalation_ms IS NOT NULL AND next_escalation_ms <= $1 ORDER BY id",
            row::COLUMNS
        ))
        .bind(ms(now))
        .fetch_all(&self.db.pool)
        .await?;
        for r in &due {
            let p = row::page(r)?;
            let (steps, repeat) = self
                .config
                .policy(&p.policy)
                .map(|x| (x.steps.len() as i64, x.repeat as i64))
                .unwrap_or((0, 0));
            let (step, round) = if p.step + 1 < steps {
                (p.step + 1, p.round)
            } else if p.round < repeat {
                (0, p.round + 1)
            } else {
                // The policy is exhausted: the page stays with its last step.
                sqlx::query("UPDATE pages SET next_escalation_ms = NULL WHERE id = $1")
                    .bind(p.id)
                    .execute(&self.db.pool)
                    .await?;
                self.record(
                    "page.exhausted",
                    p.id,
                    json!({"step": p.step, "round": p.round}),
                )
                .await?;
                continue;
            };
            self.page_step(p.id, step, round, "page.escalated", now)
                .await?;
            touched.push(p.id);
        }
        let woken = sqlx::query(&format!(
            "SELECT {} FROM pages WHERE status = 'acknowledged' AND snoozed_until_ms IS NOT NULL AND snoozed_until_ms <= $1 ORDER BY id",
            row::COLUMNS
        ))
        .bind(ms(now))
        .fetch_all(&self.db.pool)
        .await?;
        for r in &woken {
            let p = row::page(r)?;
            self.page_step(p.id, p.step, p.round, "page.unsnoozed", now)
                .await?;
            touched.push(p.id);
        }
        Ok(touched)
    }
}
