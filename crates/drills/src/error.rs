use thiserror::Error;

#[derive(Debug, Error)]
pub enum DrillError {
    #[error("{0}")]
    Scenario(#[from] diag::Problems),
    #[error("no scenario {0:?} (see `firedrill drill list`)")]
    UnknownScenario(String),
    #[error("scenario {scenario} is for the {wanted} lab; this lab runs {running}")]
    WrongTopology {
        scenario: String,
        wanted: String,
        running: String,
    },
    #[error("a drill is already running (#{0}); end it first with `firedrill drill end`")]
    AlreadyRunning(i64),
    #[error("no drill is running")]
    NotRunning,
    #[error("no drill #{0}")]
    NoDrill(i64),
    #[error("{0}")]
    Invalid(String),
    #[error("no more hints")]
    NoMoreHints,
    #[error("lab operation failed: {0}")]
    Lab(String),
    #[error("fault: {0}")]
    Chaos(#[from] chaos::ChaosError),
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    #[error("journal: {0}")]
    Journal(#[from] wire::SinkError),
    #[error("query: {0}")]
    Query(String),
}
