//! The store: one database (SQLite in the data dir by default, PostgreSQL
//! with `--database-url`), one set of migrations, the event journal, the
//! notification log and named tokens.

pub mod api;
pub mod db;
pub mod journal;
pub mod migrate;
pub mod notifications;
pub mod tokens;

pub use db::{Backend, Db};
pub use journal::{Event, Filter, Journal};
pub use notifications::NotificationLog;
pub use tokens::Tokens;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database configuration: {0}")]
    Config(String),
    #[error("cannot connect to {0}: {1}")]
    Connect(String, String),
    #[error("migration {0} failed: {1}")]
    Migration(i64, String),
    #[error("{0}")]
    Invalid(String),
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
}
