//! What can go wrong when breaking things; the API maps each to a status.

#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    /// The fault names something that is not part of the lab.
    #[error("{0}")]
    OutsideLab(String),
    #[error("{0}")]
    Invalid(String),
    #[error("no active fault {0}")]
    NoFault(String),
    #[error("could not apply the fault: {0}")]
    Apply(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("{0}")]
    Journal(#[from] wire::SinkError),
    /// Talking to the control plane failed.
    #[error("lab: {0}")]
    Lab(String),
}
