//! One set of migrations for both backends, applied at start in order, each
//! in a transaction, recorded in `schema_migrations`.

use sqlx::Row;

use crate::StoreError;
use crate::db::{Backend, Db};

/// (version, name, SQL); `{id}` becomes the backend's auto-increment key.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "event journal",
    "CREATE TABLE events (
        id {id},
        time_ms BIGINT NOT NULL,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        subject TEXT NOT NULL,
        attributes TEXT NOT NULL
    );
    CREATE INDEX events_time ON events (time_ms);
    CREATE INDEX events_kind ON events (kind);
    CREATE INDEX events_subject ON events (subject)",
)];

fn dialect(sql: &str, backend: Backend) -> String {
    let id = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    sql.replace("{id}", id)
}

pub async fn apply(db: &Db) -> Result<(), StoreError> {
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)")
        .execute(&db.pool)
        .await?;
    let done: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        let mut tx = db.pool.begin().await?;
        for stmt in dialect(sql, db.backend)
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            sqlx::query(stmt)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Migration(*version, e.to_string()))?;
        }
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)",
        )
        .bind(*version)
        .bind(*name)
        .bind(chrono::Utc::now().timestamp_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(version, name, "migration applied");
    }
    Ok(())
}
