//! What can go wrong with the wheel.

#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    /// The request is wrong (unknown category, template, empty answer).
    #[error("{0}")]
    Invalid(String),
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{player} has an open card (#{id}): answer it or escalate first")]
    OpenCard { player: String, id: i64 },
    #[error("no card #{0}")]
    NoCard(i64),
    #[error(
        "{0} has no open card: spin one first (`firedrill wheel spin`), or name the player (--player) or the card (--card)"
    )]
    NoOpenCard(String),
    #[error("card #{id} is already {state}: spin another")]
    Closed { id: i64, state: String },
    #[error("no question could be drawn from this lab{0}")]
    NothingToAsk(String),
    /// The lab's facts could not be read.
    #[error("cannot read the lab's facts: {0}")]
    Facts(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Journal(#[from] wire::SinkError),
}

impl From<sqlx::Error> for WheelError {
    fn from(e: sqlx::Error) -> Self {
        WheelError::Store(store::StoreError::from(e))
    }
}
