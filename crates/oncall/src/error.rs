//! What can go wrong in on-call operations; the API maps each to a status.

#[derive(Debug, thiserror::Error)]
pub enum OnCallError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("no page {0}")]
    NoPage(i64),
    #[error("no ticket {0}")]
    NoTicket(i64),
    #[error("no person with handle {0:?} in the on-call config")]
    UnknownPerson(String),
    /// Allowed for someone, not for this person (a shadow acknowledging).
    #[error("{0}")]
    Forbidden(String),
    /// Not in this state (acknowledging a resolved page).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
}
