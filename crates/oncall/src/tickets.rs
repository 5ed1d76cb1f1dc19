//! Tickets: non-urgent alerts become work items, assigned (to whom the
//! config names, or by hand), listed and closed. One open ticket per alert
//! group.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::OnCallError;
use crate::pages::{AlertGroup, OnCall};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ticket {
    pub id: i64,
    pub group_key: String,
    pub title: String,
    pub summary: String,
    pub labels: serde_json::Value,
    /// `open` or `closed`.
    pub status: String,
    pub assignee: String,
    pub created: DateTime<Utc>,
    pub closed: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
}

const COLUMNS: &str =
    "id, group_key, title, summary, labels, status, assignee, created_ms, closed_ms, closed_by";

fn ticket(r: &AnyRow) -> Result<Ticket, sqlx::Error> {
    let labels: String = r.try_get(4)?;
    Ok(Ticket {
        id: r.try_get(0)?,
        group_key: r.try_get(1)?,
        title: r.try_get(2)?,
        summary: r.try_get(3)?,
        labels: serde_json::from_str(&labels).unwrap_or_default(),
        status: r.try_get(5)?,
        assignee: r.try_get(6)?,
        created: DateTime::from_timestamp_millis(r.try_get(7)?).unwrap_or_default(),
        closed: r
            .try_get::<Option<i64>, _>(8)?
            .and_then(DateTime::from_timestamp_millis),
        closed_by: r.try_get(9)?,
    })
}

fn subject(id: i64) -> String {
    format!("ticket-{id}")
}

impl OnCall {
    /// A ticket for an alert group (the open one of the group if any).
    pub async fn open_ticket(&self, g: &AlertGroup) -> Result<(Ticket, bool), OnCallError> {
        let _guard = self.lock_tickets().await;
        if let Some(r) = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM tickets WHERE group_key = $1 AND status = 'open'"
        ))
        .bind(&g.group_key)
        .fetch_optional(&self.db.pool)
        .await?
        {
            return Ok((ticket(&r)?, false));
        }
        let now = self.now();
        let assignee = self
            .config
            .tickets
            .assign_to
            .as_ref()
            .and_then(|t| {
                crate::pages::resolve_step(
                    &self.config,
                    std::slice::from_ref(t),
                    now,
                    self.override_at(now).as_ref(),
                )
                .into_iter()
                .find(|(_, r)| r != "shadow")
            })
            .map(|(p, _)| p)
            .unwrap_or_default();
        let id: i64 = sqlx::query("INSERT INTO tickets (group_key, title, summary, labels, status, assignee, created_ms) VALUES ($1, $2, $3, $4, 'open', $5, $6) RETURNING id")
            .bind(&g.group_key)
            .bind(&g.title)
            .bind(&g.summary)
            .bind(g.labels.to_string())
            .bind(&assignee)
            .bind(now.timestamp_millis())
            .fetch_one(&self.db.pool)
            .await?
            .try_get(0)?;
        self.journal
            .append_at(
                self.now(),
                "ticket.opened",
                "oncall",
                &subject(id),
                json!({"title": g.title, "assignee": assignee, "group_key": g.group_key}),
            )
            .await?;
        Ok((self.ticket(id).await?, true))
    }

    pub async fn ticket(&self, id: i64) -> Result<Ticket, OnCallError> {
        let r = sqlx::query(&format!("SELECT {COLUMNS} FROM tickets WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or(OnCallError::NoTicket(id))?;
        Ok(ticket(&r)?)
    }

    /// Tickets, newest first; `status` is `open`, `closed` or all.
    pub async fn tickets(&self, status: Option<&str>) -> Result<Vec<Ticket>, OnCallError> {
        let rows =
            match status.filter(|s| *s != "all") {
                Some(s) => sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM tickets WHERE status = $1 ORDER BY id DESC LIMIT 1000"
                ))
                .bind(s)
                .fetch_all(&self.db.pool)
                .await?,
                None => {
                    sqlx::query(&format!(
                        "SELECT {COLUMNS} FROM tickets ORDER BY id DESC LIMIT 1000"
                    ))
                    .fetch_all(&self.db.pool)
                    .await?
                }
            };
        Ok(rows.iter().map(ticket).collect::<Result<_, _>>()?)
    }

    pub async fn assign_ticket(
        &self,
        id: i64,
        by: Option<&str>,
        to: &str,
    ) -> Result<Ticket, OnCallError> {
        let _guard = self.lock_tickets().await;
        let t = self.ticket(id).await?;
        if t.status != "open" {
            return Err(OnCallError::Conflict(format!("ticket {id} is closed")));
        }
        if self.config.person(to).is_none() {
            return Err(OnCallError::UnknownPerson(to.into()));
        }
        sqlx::query("UPDATE tickets SET assignee = $1 WHERE id = $2")
            .bind(to)
            .bind(id)
            .execute(&self.db.pool)
            .await?;
        self.journal
            .append_at(
                self.now(),
                "ticket.assigned",
                "oncall",
                &subject(id),
                json!({"by": by, "from": t.assignee, "to": to}),
            )
            .await?;
        self.ticket(id).await
    }

    pub async fn close_ticket(&self, id: i64, by: Option<&str>) -> Result<Ticket, OnCallError> {
        let _guard = self.lock_tickets().await;
        let t = self.ticket(id).await?;
        if t.status != "open" {
            return Err(OnCallError::Conflict(format!(
                "ticket {id} is already closed"
            )));
        }
        let who = by.map(str::to_string).unwrap_or(t.assignee.clone());
        sqlx::query(
            "UPDATE tickets SET status = 'closed', closed_ms = $1, closed_by = $2 WHERE id = $3",
        )
        .bind(self.now().timestamp_millis())
        .bind(&who)
        .bind(id)
        .execute(&self.db.pool)
        .await?;
        self.journal
            .append_at(
                self.now(),
                "ticket.closed",
                "oncall",
                &subject(id),
                json!({"by": who}),
            )
            .await?;
        self.ticket(id).await
    }
}
