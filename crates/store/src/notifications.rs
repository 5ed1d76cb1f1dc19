//! The notification log: one row per delivery (a notification to one
//! receiver integration), inserted before its first attempt and updated
//! after each one; its body is stored once, whatever the attempts. Read in
//! pages (newest first by id), pruned by age and row count; a pending
//! delivery is never pruned (it is still being sent).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::StoreError;
use crate::db::Db;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Pending,
    Sent,
    Failed,
}

impl DeliveryState {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "pending" => Ok(DeliveryState::Pending),
            "sent" => Ok(DeliveryState::Sent),
            "failed" => Ok(DeliveryState::Failed),
            other => Err(StoreError::Invalid(format!(
                "notification row with unknown state {other:?}"
            ))),
        }
    }
}

/// One notification to one receiver integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub created: DateTime<Utc>,
    pub receiver: String,
    /// `webhook`, `slack`, `pagerduty`, `email`, `pager`, `log`, ...
    pub integration: String,
    /// Where it goes (a URL, an address, `on-call`).
    pub url: String,
    pub body: serde_json::Value,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub updated: DateTime<Utc>,
}

/// How long finished deliveries are kept, and how many rows at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_age: Duration,
    pub max_rows: i64,
}

impl Default for Retention {
    /// A week, and 10,000 deliveries.
    fn default() -> Self {
        Retention {
            max_age: Duration::from_secs(7 * 24 * 3600),
            max_rows: 10_000,
        }
    }
}

/// A page of the log: the newest `limit` deliveries with an id below `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageQuery {
    pub limit: i64,
    pub before: Option<i64>,
}

/// The largest page served at once.
pub const MAX_PAGE: i64 = 1000;
/// The page served when no `limit` is given.
pub const DEFAULT_PAGE: i64 = 100;

impl Default for PageQuery {
    fn default() -> Self {
        PageQuery {
            limit: DEFAULT_PAGE,
            before: None,
        }
    }
}

impl PageQuery {
    /// From the API's `limit` and `before` parameters, as given; an error
    /// names the parameter and the allowed range.
    pub fn parse(limit: Option<&str>, before: Option<&str>) -> Result<PageQuery, StoreError> {
        let limit = match limit {
            None => DEFAULT_PAGE,
            Some(s) => match s.trim().parse::<i64>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
                _ => {
                    return Err(StoreError::Invalid(format!(
                        "invalid parameter \"limit\": {s:?} is not a whole number from 1 to {MAX_PAGE}"
                    )));
                }
            },
        };
        let before = match before {
            None => None,
            Some(s) => match s.trim().parse::<i64>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    return Err(StoreError::Invalid(format!(
                        "invalid parameter \"before\": {s:?} is not a delivery id (a whole number from 1)"
                    )));
                }
            },
        };
        Ok(PageQuery { limit, before })
    }
}

/// The notification log in the database.
#[derive(Clone, Debug)]
pub struct NotificationLog {
    db: Db,
    retention: Retention,
}

const COLUMNS: &str =
    "id, created_ms, receiver, integration, target, body, state, attempts, last_error, updated_ms";

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn row(r: &sqlx::any::AnyRow) -> Result<Delivery, StoreError> {
    let body: String = r.try_get(5)?;
    let state: String = r.try_get(6)?;
    let attempts: i64 = r.try_get(7)?;
    Ok(Delivery {
        id: r.try_get(0)?,
        created: time(r.try_get(1)?),
        receiver: r.try_get(2)?,
        integration: r.try_get(3)?,
        url: r.try_get(4)?,
        body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        state: DeliveryState::parse(&state)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_error: r.try_get(8)?,
        updated: time(r.try_get(9)?),
    })
}

impl NotificationLog {
    pub fn new(db: Db, retention: Retention) -> NotificationLog {
        NotificationLog { db, retention }
    }

    /// The log in a SQLite database of its own in `dir` (created), with the
    /// default retention: for tests and benchmarks.
    pub async fn open_sqlite(dir: &std::path::Path) -> Result<NotificationLog, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Config(format!("{}: {e}", dir.display())))?;
        let db = Db::open(&Db::sqlite_url(dir)).await?;
        Ok(NotificationLog::new(db, Retention::default()))
    }

    pub fn retention(&self) -> Retention {
        self.retention
    }

    /// Stores a new delivery in `state` (pending unless it needs no
    /// sending); when this returns, the row is committed.
    pub async fn record(
        &self,
        receiver: &str,
        integration: &str,
        target: &str,
        body: &serde_json::Value,
        state: DeliveryState,
    ) -> Result<Delivery, StoreError> {
        let now = Utc::now();
        let ms = now.timestamp_millis();
        let r = sqlx::query(
            "INSERT INTO notifications (created_ms, receiver, integration, target, body, state, attempts, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7) RETURNING id",
        )
        .bind(ms)
        .bind(receiver)
        .bind(integration)
        .bind(target)
        .bind(body.to_string())
        .bind(state.as_str())
        .bind(ms)
        .fetch_one(&self.db.pool)
        .await?;
        Ok(Delivery {
            id: r.try_get(0)?,
            created: time(ms),
            receiver: receiver.into(),
            integration: integration.into(),
            url: target.into(),
            body: body.clone(),
            state,
            attempts: 0,
            last_error: None,
            updated: time(ms),
        })
    }

    /// Records an attempt's outcome (an unknown id changes nothing).
    pub async fn update(
        &self,
        id: i64,
        state: DeliveryState,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE notifications SET state = $1, attempts = attempts + 1, last_error = $2, updated_ms = $3 WHERE id = $4",
        )
        .bind(state.as_str())
        .bind(error)
        .bind(Utc::now().timestamp_millis())
        .bind(id)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Gives a delivery up without an attempt (`attempts` is unchanged).
    pub async fn abandon(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE notifications SET state = 'failed', last_error = $1, updated_ms = $2 WHERE id = $3",
        )
        .bind(reason)
        .bind(Utc::now().timestamp_millis())
        .bind(id)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// One delivery by id.
    pub async fn get(&self, id: i64) -> Result<Option<Delivery>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM notifications WHERE id = $1");
        let r = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        r.as_ref().map(row).transpose()
    }

    /// A page: the newest `q.limit` deliveries below `q.before`, oldest
    /// first (the next page is `before` = the first one's id).
    pub async fn page(&self, q: PageQuery) -> Result<Vec<Delivery>, StoreError> {
        let limit = q.limit.clamp(1, MAX_PAGE);
        let sql =
            format!("SELECT {COLUMNS} FROM notifications WHERE id < $1 ORDER BY id DESC LIMIT $2");
        let rows = sqlx::query(&sql)
            .bind(q.before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(&self.db.pool)
            .await?;
        let mut out = rows.iter().map(row).collect::<Result<Vec<_>, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// Deliveries still pending (to resume after a restart), oldest first.
    pub async fn pending(&self) -> Result<Vec<Delivery>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM notifications WHERE state = 'pending' ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&self.db.pool).await?;
        rows.iter().map(row).collect()
    }

    /// How many deliveries the log holds.
    pub async fn count(&self) -> Result<i64, StoreError> {
        let r = sqlx::query("SELECT COUNT(*) FROM notifications")
            .fetch_one(&self.db.pool)
            .await?;
        Ok(r.try_get(0)?)
    }

    /// Deletes finished deliveries older than the retention's age (by their
    /// last change) and those beyond its row count (oldest first); returns
    /// how many went.
    pub async fn prune(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let age_ms = i64::try_from(self.retention.max_age.as_millis()).unwrap_or(i64::MAX);
        let cutoff = now.timestamp_millis().saturating_sub(age_ms);
        let old =
            sqlx::query("DELETE FROM notifications WHERE state <> 'pending' AND updated_ms < $1")
                .bind(cutoff)
                .execute(&self.db.pool)
                .await?
                .rows_affected();
        // The id of the newest row past the count, if any: it and older go.
        let keep = self.retention.max_rows.max(0);
        let over = sqlx::query(
            "DELETE FROM notifications WHERE state <> 'pending' AND id <= \
             (SELECT id FROM notifications ORDER BY id DESC LIMIT 1 OFFSET $1)",
        )
        .bind(keep)
        .execute(&self.db.pool)
        .await?
        .rows_affected();
        Ok(old + over)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_parameters_are_checked_with_their_range() {
        assert_eq!(PageQuery::parse(None, None).unwrap(), PageQuery::default());
        assert_eq!(
            PageQuery::parse(Some("5"), Some("40")).unwrap(),
            PageQuery {
                limit: 5,
                before: Some(40)
            }
        );
        for bad in ["0", "-1", "1001", "abc", "1e3", "99999999999999999999"] {
            let e = PageQuery::parse(Some(bad), None).unwrap_err().to_string();
            assert!(e.contains("\"limit\"") && e.contains("1 to 1000"), "{e}");
        }
        for bad in ["0", "-5", "x", ""] {
            let e = PageQuery::parse(None, Some(bad)).unwrap_err().to_string();
            assert!(e.contains("\"before\""), "{e}");
        }
    }
}
