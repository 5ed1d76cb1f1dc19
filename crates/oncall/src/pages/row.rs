//! Pages as stored: reading rows of `pages` and `page_recipients`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use store::Db;

use super::PageFilter;
use crate::error::OnCallError;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Page {
    pub id: i64,
    pub group_key: String,
    pub title: String,
    pub summary: String,
    pub labels: serde_json::Value,
    /// `triggered`, `acknowledged` or `resolved`.
    pub status: String,
    pub policy: String,
    /// Index of the escalation step now paged, and how many times the
    /// policy has started over.
    pub step: i64,
    pub round: i64,
    pub next_escalation: Option<DateTime<Utc>>,
    pub snoozed_until: Option<DateTime<Utc>>,
    /// Who is responsible now.
    pub assignee: String,
    pub alerts: i64,
    pub created: DateTime<Utc>,
    pub acknowledged: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub resolved: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub recipients: Vec<Recipient>,
}

/// Someone a page was sent to, at which step and as what.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Recipient {
    pub person: String,
    /// `primary`, `secondary`, `person`, `shadow` or `reassigned`.
    pub role: String,
    pub step: i64,
    pub round: i64,
    pub time: DateTime<Utc>,
}

pub const COLUMNS: &str = "id, group_key, title, summary, labels, status, policy, step, round, next_escalation_ms, snoozed_until_ms, assignee, alerts, created_ms, acknowledged_ms, acknowledged_by, resolved_ms, resolved_by";

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn opt_time(r: &AnyRow, i: usize) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    Ok(r.try_get::<Option<i64>, _>(i)?.map(time))
}

pub fn page(r: &AnyRow) -> Result<Page, sqlx::Error> {
    let labels: String = r.try_get(4)?;
    Ok(Page {
        id: r.try_get(0)?,
        group_key: r.try_get(1)?,
        title: r.try_get(2)?,
        summary: r.try_get(3)?,
        labels: serde_json::from_str(&labels).unwrap_or_default(),
        status: r.try_get(5)?,
        policy: r.try_get(6)?,
        step: r.try_get(7)?,
        round: r.try_get(8)?,
        next_escalation: opt_time(r, 9)?,
        snoozed_until: opt_time(r, 10)?,
        assignee: r.try_get(11)?,
        alerts: r.try_get(12)?,
        created: time(r.try_get(13)?),
        acknowledged: opt_time(r, 14)?,
        acknowledged_by: r.try_get(15)?,
        resolved: opt_time(r, 16)?,
        resolved_by: r.try_get(17)?,
        recipients: Vec::new(),
    })
}

pub async fn fetch(db: &Db, id: i64) -> Result<Option<Page>, OnCallError> {
    let r = sqlx::query(&format!("SELECT {COLUMNS} FROM pages WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(r.as_ref().map(page).transpose()?)
}

pub async fn open_by_group(db: &Db, group_key: &str) -> Result<Option<Page>, OnCallError> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM pages WHERE group_key = $1 AND status <> 'resolved'"
    ))
    .bind(group_key)
    .fetch_optional(&db.pool)
    .await?;
    Ok(r.as_ref().map(page).transpose()?)
}

pub async fn recipients(db: &Db, id: i64) -> Result<Vec<Recipient>, OnCallError> {
    Ok(recipients_of(db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default())
}

/// The recipients of many pages, in a few queries rather than one per page.
pub async fn recipients_of(
    db: &Db,
    ids: &[i64],
) -> Result<std::collections::BTreeMap<i64, Vec<Recipient>>, OnCallError> {
    let mut out: std::collections::BTreeMap<i64, Vec<Recipient>> = Default::default();
    // Well under both backends' limits on bound parameters.
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT page_id, person, role, step, round, time_ms FROM page_recipients WHERE page_id IN ({}) ORDER BY time_ms, step",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&db.pool).await? {
            out.entry(r.try_get(0)?).or_default().push(Recipient {
                person: r.try_get(1)?,
                role: r.try_get(2)?,
                step: r.try_get(3)?,
                round: r.try_get(4)?,
                time: time(r.try_get(5)?),
            });
        }
    }
    Ok(out)
}

pub async fn list(db: &Db, f: &PageFilter) -> Result<Vec<Page>, OnCallError> {
    let mut sql = format!("SELECT {COLUMNS} FROM pages WHERE 1=1");
    let mut n = 0;
    let status = f.status.as_deref().filter(|s| *s != "all");
    if let Some(s) = status {
        n += 1;
        if s == "open" {
            sql += &format!(" AND status <> ${n}");
        } else {
            sql += &format!(" AND status = ${n}");
        }
    }
    if f.since.is_some() {
        n += 1;
        sql += &format!(" AND created_ms >= ${n}");
    }
    n += 1;
    sql += &format!(" ORDER BY id DESC LIMIT ${n}");
    let mut q = sqlx::query(&sql);
    if let Some(s) = status {
        q = q.bind(if s == "open" { "resolved" } else { s });
    }
    if let Some(t) = f.since {
        q = q.bind(ms(t));
    }
    q = q.bind(f.limit.unwrap_or(200).clamp(1, 10_000));
    let rows = q.fetch_all(&db.pool).await?;
    Ok(rows.iter().map(page).collect::<Result<_, _>>()?)
}
