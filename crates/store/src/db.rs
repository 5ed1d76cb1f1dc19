//! The database handle: SQLite (a file in the data dir, WAL) or PostgreSQL,
//! through sqlx's `Any` driver so one code path serves both.

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({:?})", self.backend)
    }
}

impl Db {
    /// The SQLite database of a data dir.
    pub fn sqlite_url(dir: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", dir.join("firedrill.db").display())
    }

    /// Connects and applies the migrations.
    pub async fn open(url: &str) -> Result<Db, StoreError> {
        let db = Self::connect(url).await?;
        crate::migrate::apply(&db).await?;
        Ok(db)
    }

    /// Connects without touching the schema (administration of other
    /// databases on the same server).
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database URL {url:?}: use sqlite://PATH or postgres://…"
            )));
        };
        let opts = AnyConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("{url:?}: {e}")))?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .acquire_timeout(std::time::Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL: readers do not block the writer; a crashed
                        // process loses nothing that was committed.
                        conn.execute("PRAGMA journal_mode=WAL").await?;
                        conn.execute("PRAGMA synchronous=NORMAL").await?;
                        conn.execute("PRAGMA busy_timeout=5000").await?;
                        conn.execute("PRAGMA foreign_keys=ON").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| StoreError::Connect(url_without_password(url), e.to_string()))?;
        Ok(Db { pool, backend })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates database `name` next to the one `base` (a PostgreSQL URL)
/// names, dropping a leftover of the same name first, and returns its URL.
/// For tests and benchmarks that need a database of their own.
pub async fn fresh_postgres(base: &str, name: &str) -> Result<String, StoreError> {
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Config(format!(
            "{name:?} is not a plain database name"
        )));
    }
    // The base database is only a way in: its schema is not ours to change
    // (tests running at once would race to migrate it).
    let admin = Db::connect(base).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&admin.pool)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin.pool)
        .await?;
    admin.close().await;
    let at = base.rfind('/').ok_or_else(|| {
        StoreError::Config(format!(
            "{:?} names no database",
            url_without_password(base)
        ))
    })?;
    Ok(format!("{}/{name}", &base[..at]))
}

/// Drops database `name` next to `base` (best effort).
pub async fn drop_postgres(base: &str, name: &str) {
    if let Ok(admin) = Db::connect(base).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&admin.pool)
            .await;
        admin.close().await;
    }
}

/// A URL safe to print: the password replaced by `***`.
pub fn url_without_password(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
