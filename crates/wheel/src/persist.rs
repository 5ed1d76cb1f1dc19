//! The `wheel_sessions` and `wheel_cards` tables (migration 6): a session
//! is a seed and its cards; a card row holds the drawn card (truth
//! included) as JSON plus the columns boards and histories filter on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use store::Db;

use crate::WheelError;
use crate::card::Card;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: i64,
    pub seed: u64,
    pub started: DateTime<Utc>,
    pub started_by: String,
}

/// `open` until answered or escalated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardState {
    Open,
    Answered,
    Escalated,
}

impl CardState {
    pub fn as_str(self) -> &'static str {
        match self {
            CardState::Open => "open",
            CardState::Answered => "answered",
            CardState::Escalated => "escalated",
        }
    }

    fn parse(s: &str) -> CardState {
        match s {
            "answered" => CardState::Answered,
            "escalated" => CardState::Escalated,
            _ => CardState::Open,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardRow {
    pub id: i64,
    pub session: i64,
    /// Its number in the session (0 first): with the seed, what drew it.
    pub n: i64,
    pub player: String,
    pub spun: DateTime<Utc>,
    pub closed: Option<DateTime<Utc>>,
    pub state: CardState,
    /// What the player answered, or whom they escalated to.
    pub given: Option<String>,
    pub correct: Option<bool>,
    pub card: Card,
}

impl CardRow {
    /// Seconds from the spin to the answer (or until now while open).
    pub fn seconds(&self) -> f64 {
        let end = self.closed.unwrap_or_else(Utc::now);
        (end - self.spun).num_milliseconds().max(0) as f64 / 1000.0
    }
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub async fn new_session(db: &Db, seed: u64, by: &str) -> Result<Session, WheelError> {
    let now = Utc::now();
    let id: i64 = sqlx::query(
        "INSERT INTO wheel_sessions (seed, started_ms, started_by) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(seed as i64)
    .bind(now.timestamp_millis())
    .bind(by)
    .fetch_one(&db.pool)
    .await?
    .try_get(0)?;
    Ok(Session {
        id,
        seed,
        started: time(now.timestamp_millis()),
        started_by: by.into(),
    })
}

fn session_of(r: &sqlx::any::AnyRow) -> Result<Session, WheelError> {
    Ok(Session {
        id: r.try_get("id")?,
        seed: r.try_get::<i64, _>("seed")? as u64,
        started: time(r.try_get("started_ms")?),
        started_by: r.try_get("started_by")?,
    })
}

/// The latest session, or the one numbered `id`.
pub async fn session(db: &Db, id: Option<i64>) -> Result<Option<Session>, WheelError> {
    let row = match id {
        Some(id) => {
            sqlx::query("SELECT id, seed, started_ms, started_by FROM wheel_sessions WHERE id = $1")
                .bind(id)
                .fetch_optional(&db.pool)
                .await?
        }
        None => sqlx::query(
            "SELECT id, seed, started_ms, started_by FROM wheel_sessions ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&db.pool)
        .await?,
    };
    row.as_ref().map(session_of).transpose()
}

pub async fn insert_card(
    db: &Db,
    session: i64,
    n: i64,
    player: &str,
    card: &Card,
    spun: DateTime<Utc>,
) -> Result<i64, WheelError> {
    let text = serde_json::to_string(card).map_err(|e| WheelError::Invalid(e.to_string()))?;
    let id: i64 = sqlx::query(
        "INSERT INTO wheel_cards (session_id, n, player, template, category, spun_ms, state, card) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) RETURNING id",
    )
    .bind(session)
    .bind(n)
    .bind(player)
    .bind(&card.template)
    .bind(card.category.as_str())
    .bind(spun.timestamp_millis())
    .bind(text)
    .fetch_one(&db.pool)
    .await?
    .try_get(0)?;
    Ok(id)
}

/// Closes an open card; `false` when it was no longer open.
pub async fn close_card(
    db: &Db,
    id: i64,
    state: CardState,
    given: &str,
    correct: bool,
    at: DateTime<Utc>,
) -> Result<bool, WheelError> {
    let done = sqlx::query(
        "UPDATE wheel_cards SET state = $1, given = $2, correct = $3, closed_ms = $4 WHERE id = $5 AND state = 'open'",
    )
    .bind(state.as_str())
    .bind(given)
    .bind(i64::from(correct))
    .bind(at.timestamp_millis())
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

const CARD_COLUMNS: &str =
    "id, session_id, n, player, spun_ms, closed_ms, state, given, correct, card";

fn card_of(r: &sqlx::any::AnyRow) -> Result<CardRow, WheelError> {
    let id: i64 = r.try_get("id")?;
    let text: String = r.try_get("card")?;
    let card: Card = serde_json::from_str(&text).map_err(|e| {
        WheelError::Invalid(format!("card #{id} in the database is unreadable: {e}"))
    })?;
    let state: String = r.try_get("state")?;
    Ok(CardRow {
        id,
        session: r.try_get("session_id")?,
        n: r.try_get("n")?,
        player: r.try_get("player")?,
        spun: time(r.try_get("spun_ms")?),
        closed: r.try_get::<Option<i64>, _>("closed_ms")?.map(time),
        state: CardState::parse(&state),
        given: r.try_get("given")?,
        correct: r.try_get::<Option<i64>, _>("correct")?.map(|c| c != 0),
        card,
    })
}

pub async fn card(db: &Db, id: i64) -> Result<CardRow, WheelError> {
    let row = sqlx::query(&format!(
        "SELECT {CARD_COLUMNS} FROM wheel_cards WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    match row {
        Some(r) => card_of(&r),
        None => Err(WheelError::NoCard(id)),
    }
}

/// What to list: every field narrows; oldest first.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardFilter {
    pub session: Option<i64>,
    pub player: Option<String>,
    /// Only cards still open.
    #[serde(default)]
    pub open: bool,
    pub limit: Option<i64>,
}

pub async fn cards(db: &Db, f: &CardFilter) -> Result<Vec<CardRow>, WheelError> {
    let mut sql = format!("SELECT {CARD_COLUMNS} FROM wheel_cards WHERE 1=1");
    let mut n = 0;
    if f.session.is_some() {
        n += 1;
        sql += &format!(" AND session_id = ${n}");
    }
    if f.player.is_some() {
        n += 1;
        sql += &format!(" AND player = ${n}");
    }
    if f.open {
        sql += " AND state = 'open'";
    }
    n += 1;
    // The newest `limit`, shown oldest first.
    sql = format!("SELECT * FROM ({sql} ORDER BY id DESC LIMIT ${n}) AS newest ORDER BY id");
    let mut q = sqlx::query(&sql);
    if let Some(s) = f.session {
        q = q.bind(s);
    }
    if let Some(p) = &f.player {
        q = q.bind(p.clone());
    }
    q = q.bind(f.limit.unwrap_or(500).clamp(1, 10_000));
    let rows = q.fetch_all(&db.pool).await?;
    rows.iter().map(card_of).collect()
}

/// How many cards a session has drawn (the next card's number).
pub async fn count(db: &Db, session: i64) -> Result<i64, WheelError> {
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM wheel_cards WHERE session_id = $1")
        .bind(session)
        .fetch_one(&db.pool)
        .await?
        .try_get(0)?;
    Ok(n)
}
