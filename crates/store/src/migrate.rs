//! One set of migrations for both backends, applied at start in order, each
//! in a transaction, recorded in `schema_migrations`.

use sqlx::Row;

use crate::StoreError;
use crate::db::{Backend, Db};

/// (version, name, SQL); `{id}` becomes the backend's auto-increment key.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
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
    ),
    (
        2,
        "pages and tickets",
        "CREATE TABLE pages (
        id {id},
        group_key TEXT NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        labels TEXT NOT NULL,
        status TEXT NOT NULL,
        policy TEXT NOT NULL,
        step BIGINT NOT NULL,
        round BIGINT NOT NULL,
        next_escalation_ms BIGINT,
        snoozed_until_ms BIGINT,
        assignee TEXT NOT NULL,
        alerts BIGINT NOT NULL,
        created_ms BIGINT NOT NULL,
        acknowledged_ms BIGINT,
        acknowledged_by TEXT,
        resolved_ms BIGINT,
        resolved_by TEXT
    );
    CREATE UNIQUE INDEX pages_open_group ON pages (group_key) WHERE status <> 'resolved';
    CREATE INDEX pages_due ON pages (status, next_escalation_ms);
    CREATE INDEX pages_created ON pages (created_ms);
    CREATE TABLE page_recipients (
        page_id BIGINT NOT NULL,
        person TEXT NOT NULL,
        role TEXT NOT NULL,
        step BIGINT NOT NULL,
        round BIGINT NOT NULL,
        time_ms BIGINT NOT NULL
    );
    CREATE INDEX page_recipients_page ON page_recipients (page_id);
    CREATE INDEX page_recipients_person ON page_recipients (person, time_ms);
    CREATE TABLE tickets (
        id {id},
        group_key TEXT NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        labels TEXT NOT NULL,
        status TEXT NOT NULL,
        assignee TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        closed_ms BIGINT,
        closed_by TEXT
    );
    CREATE UNIQUE INDEX tickets_open_group ON tickets (group_key) WHERE status <> 'closed'",
    ),
    (
        3,
        "named tokens",
        "CREATE TABLE tokens (
        id {id},
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        hash TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        revoked_ms BIGINT
    );
    CREATE UNIQUE INDEX tokens_hash ON tokens (hash);
    CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked_ms IS NULL",
    ),
    (
        4,
        "drills",
        "CREATE TABLE drills (
        id {id},
        scenario TEXT NOT NULL,
        trainee TEXT NOT NULL,
        shadow TEXT,
        seed BIGINT NOT NULL,
        started_ms BIGINT NOT NULL,
        ended_ms BIGINT,
        outcome TEXT,
        score DOUBLE PRECISION,
        record TEXT NOT NULL
    );
    CREATE INDEX drills_trainee ON drills (trainee, started_ms);
    CREATE INDEX drills_scenario ON drills (scenario, started_ms);
    CREATE INDEX drills_running ON drills (ended_ms)",
    ),
    (
        5,
        "notification log",
        "CREATE TABLE notifications (
        id {id},
        created_ms BIGINT NOT NULL,
        receiver TEXT NOT NULL,
        integration TEXT NOT NULL,
        target TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        last_error TEXT,
        updated_ms BIGINT NOT NULL
    );
    CREATE INDEX notifications_state ON notifications (state);
    CREATE INDEX notifications_updated ON notifications (updated_ms)",
    ),
    (
        6,
        "wheel of expertise",
        "CREATE TABLE wheel_sessions (
        id {id},
        seed BIGINT NOT NULL,
        started_ms BIGINT NOT NULL,
        started_by TEXT NOT NULL
    );
    CREATE TABLE wheel_cards (
        id {id},
        session_id BIGINT NOT NULL,
        n BIGINT NOT NULL,
        player TEXT NOT NULL,
        template TEXT NOT NULL,
        category TEXT NOT NULL,
        spun_ms BIGINT NOT NULL,
        closed_ms BIGINT,
        state TEXT NOT NULL,
        given TEXT,
        correct BIGINT,
        card TEXT NOT NULL
    );
    CREATE INDEX wheel_cards_session ON wheel_cards (session_id, id);
    CREATE INDEX wheel_cards_player ON wheel_cards (player, spun_ms);
    CREATE INDEX wheel_cards_state ON wheel_cards (state)",
    ),
];

fn dialect(sql: &str, backend: Backend) -> String {
    let id = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    sql.replace("{id}", id)
}

/// Key of the advisory lock that serializes migrations on PostgreSQL.
const MIGRATION_LOCK: i64 = 0x6669_7265_6472_696c; // "firedril"

/// Applies the migrations not yet applied. On PostgreSQL the whole run
/// holds an advisory lock on one connection, so two labs starting at once
/// on one database do not race to create the same tables; SQLite's own
/// write lock serializes its transactions.
pub async fn apply(db: &Db) -> Result<(), StoreError> {
    let mut conn = db.pool.acquire().await?;
    let locked = db.backend == Backend::Postgres;
    if locked {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply_on(&mut conn, db.backend).await;
    if locked {
        // Also released when the connection closes.
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await;
    }
    result
}

async fn apply_on(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<(), StoreError> {
    use sqlx::Connection;
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)")
        .execute(&mut *conn)
        .await?;
    let done: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        let mut tx = conn.begin().await?;
        for stmt in dialect(sql, backend)
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
