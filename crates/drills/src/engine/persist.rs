//! The `drills` table: one row per drill, the whole record as JSON (the
//! engine's cache of what the journal says) plus the columns history
//! filters and sorts on.

use sqlx::Row;
use store::Db;

use crate::DrillError;
use crate::record::DrillRecord;

fn record_json(r: &DrillRecord) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

/// Stores a new drill and returns its id.
pub async fn insert(db: &Db, r: &DrillRecord) -> Result<i64, DrillError> {
    let id: i64 = sqlx::query(
        "INSERT INTO drills (scenario, trainee, shadow, seed, started_ms, record) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&r.scenario.id)
    .bind(&r.trainee)
    .bind(r.shadow.clone())
    .bind(r.seed as i64)
    .bind(r.started.timestamp_millis())
    .bind(record_json(r))
    .fetch_one(&db.pool)
    .await
    .map_err(store::StoreError::from)?
    .try_get(0)
    .map_err(store::StoreError::from)?;
    Ok(id)
}

/// Writes the record's current state (and its end, once ended).
pub async fn save(db: &Db, r: &DrillRecord, score: Option<f64>) -> Result<(), DrillError> {
    sqlx::query(
        "UPDATE drills SET ended_ms = $1, outcome = $2, score = $3, record = $4 WHERE id = $5",
    )
    .bind(r.ended.map(|t| t.timestamp_millis()))
    .bind(r.outcome.map(|o| o.as_str().to_string()))
    .bind(score)
    .bind(record_json(r))
    .bind(r.id)
    .execute(&db.pool)
    .await
    .map_err(store::StoreError::from)?;
    Ok(())
}

fn decode(row: &sqlx::any::AnyRow) -> Result<DrillRecord, DrillError> {
    let text: String = row.try_get("record").map_err(store::StoreError::from)?;
    let id: i64 = row.try_get("id").map_err(store::StoreError::from)?;
    let mut r: DrillRecord = serde_json::from_str(&text).map_err(|e| {
        DrillError::Invalid(format!("drill #{id} in the database is unreadable: {e}"))
    })?;
    r.id = id;
    Ok(r)
}

/// The drill still running (not ended), if any.
pub async fn running(db: &Db) -> Result<Option<DrillRecord>, DrillError> {
    let row = sqlx::query(
        "SELECT id, record FROM drills WHERE ended_ms IS NULL ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await
    .map_err(store::StoreError::from)?;
    row.as_ref().map(decode).transpose()
}

pub async fn get(db: &Db, id: i64) -> Result<DrillRecord, DrillError> {
    let row = sqlx::query("SELECT id, record FROM drills WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await
        .map_err(store::StoreError::from)?;
    match row {
        Some(r) => decode(&r),
        None => Err(DrillError::NoDrill(id)),
    }
}

/// What history lists: newest first, optionally one trainee or scenario.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub trainee: Option<String>,
    pub scenario: Option<String>,
    pub limit: Option<i64>,
}

pub async fn list(db: &Db, f: &HistoryFilter) -> Result<Vec<DrillRecord>, DrillError> {
    let mut sql = String::from("SELECT id, record FROM drills WHERE 1=1");
    let mut n = 0;
    if f.trainee.is_some() {
        n += 1;
        sql += &format!(" AND (trainee = ${n} OR shadow = ${n})");
    }
    if f.scenario.is_some() {
        n += 1;
        sql += &format!(" AND scenario = ${n}");
    }
    sql += " ORDER BY started_ms DESC, id DESC";
    n += 1;
    sql += &format!(" LIMIT ${n}");
    let mut q = sqlx::query(&sql);
    if let Some(t) = &f.trainee {
        q = q.bind(t.clone());
    }
    if let Some(s) = &f.scenario {
        q = q.bind(s.clone());
    }
    q = q.bind(f.limit.unwrap_or(200).clamp(1, 10_000));
    let rows = q
        .fetch_all(&db.pool)
        .await
        .map_err(store::StoreError::from)?;
    rows.iter().map(decode).collect()
}
