//! The event journal of DESIGN.md: every change of state, appended once,
//! filtered by time, kind and subject, followed live.

use chrono::{DateTime, Utc};
use sqlx::Row;
use tokio::sync::broadcast;

use crate::StoreError;
use crate::db::Db;

pub use wire::Event;

/// What to list; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Kinds starting with this (`page.` or `instance.crashed`).
    pub kind_prefix: Option<String>,
    pub subject: Option<String>,
    /// Only events after this id (for resuming a follow).
    pub after_id: Option<i64>,
    pub limit: Option<i64>,
    /// Leave out kinds that reveal hidden state (for readers who may not
    /// see it).
    pub without_hidden: bool,
}

#[derive(Clone)]
pub struct Journal {
    db: Db,
    live: broadcast::Sender<Event>,
}

impl Journal {
    pub fn new(db: Db) -> Journal {
        let (live, _) = broadcast::channel(4096);
        Journal { db, live }
    }

    /// The database the journal lives in (shared with other parts).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Appends an event; when this returns, the event is stored.
    pub async fn append(
        &self,
        kind: &str,
        source: &str,
        subject: &str,
        attributes: serde_json::Value,
    ) -> Result<Event, StoreError> {
        self.append_at(Utc::now(), kind, source, subject, attributes)
            .await
    }

    /// Appends an event stamped `time` (a component with its own clock).
    pub async fn append_at(
        &self,
        time: DateTime<Utc>,
        kind: &str,
        source: &str,
        subject: &str,
        attributes: serde_json::Value,
    ) -> Result<Event, StoreError> {
        let row = sqlx::query("INSERT INTO events (time_ms, kind, source, subject, attributes) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(time.timestamp_millis())
            .bind(kind)
            .bind(source)
            .bind(subject)
            .bind(attributes.to_string())
            .fetch_one(&self.db.pool)
            .await?;
        let id: i64 = row.try_get(0)?;
        let ev = Event {
            id,
            time: DateTime::from_timestamp_millis(time.timestamp_millis()).unwrap_or(time),
            kind: kind.into(),
            source: source.into(),
            subject: subject.into(),
            attributes,
        };
        let _ = self.live.send(ev.clone());
        Ok(ev)
    }

    /// Events matching `f`, oldest first (the newest `limit` when limited).
    pub async fn list(&self, f: &Filter) -> Result<Vec<Event>, StoreError> {
        let mut sql = String::from(
            "SELECT id, time_ms, kind, source, subject, attributes FROM events WHERE 1=1",
        );
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if f.since.is_some() {
            sql += &format!(" AND time_ms >= {}", next());
        }
        if f.until.is_some() {
            sql += &format!(" AND time_ms <= {}", next());
        }
        if f.kind_prefix.is_some() {
            sql += &format!(" AND kind LIKE {} ESCAPE '\\'", next());
        }
        if f.subject.is_some() {
            sql += &format!(" AND subject = {}", next());
        }
        if f.after_id.is_some() {
            sql += &format!(" AND id > {}", next());
        }
        if f.without_hidden {
            for family in wire::kinds::HIDDEN_FAMILIES {
                // Families are constant lowercase words: no quoting issue.
                sql += &format!(" AND kind NOT LIKE '{family}.%'");
            }
            for kind in wire::kinds::HIDDEN_KINDS {
                // Kinds are constant `family.word` names: no quoting issue.
                sql += &format!(" AND kind <> '{kind}'");
            }
        }
        sql += " ORDER BY id DESC";
        if f.limit.is_some() {
            sql += &format!(" LIMIT {}", next());
        }
        let mut q = sqlx::query(&sql);
        if let Some(t) = f.since {
            q = q.bind(t.timestamp_millis());
        }
        if let Some(t) = f.until {
            q = q.bind(t.timestamp_millis());
        }
        if let Some(k) = &f.kind_prefix {
            let escaped = k
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q = q.bind(format!("{escaped}%"));
        }
        if let Some(s) = &f.subject {
            q = q.bind(s.clone());
        }
        if let Some(a) = f.after_id {
            q = q.bind(a);
        }
        if let Some(l) = f.limit {
            q = q.bind(l);
        }
        let rows = q.fetch_all(&self.db.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let ms: i64 = r.try_get(1)?;
            let attrs: String = r.try_get(5)?;
            out.push(Event {
                id: r.try_get(0)?,
                time: DateTime::from_timestamp_millis(ms).unwrap_or_default(),
                kind: r.try_get(2)?,
                source: r.try_get(3)?,
                subject: r.try_get(4)?,
                attributes: serde_json::from_str(&attrs).unwrap_or(serde_json::Value::Null),
            });
        }
        out.reverse();
        Ok(out)
    }

    /// Events appended from now on, in process.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.live.subscribe()
    }
}

/// The journal is the event sink of every component.
impl wire::EventSink for Journal {
    fn append(
        &self,
        e: wire::NewEvent,
    ) -> wire::sink::BoxFuture<'_, Result<Event, wire::SinkError>> {
        Box::pin(async move {
            let time = e.time.unwrap_or_else(Utc::now);
            self.append_at(time, &e.kind, &e.source, &e.subject, e.attributes)
                .await
                .map_err(|err| wire::SinkError {
                    kind: e.kind.clone(),
                    reason: err.to_string(),
                })
        })
    }
}
