use thiserror::Error;

/// Why a lab operation failed.
#[derive(Debug, Error)]
pub enum SupervisorError {
    #[error(
        "port {port} for {who} is in use (another lab or program?): stop it, or choose other ports with --base-port"
    )]
    PortInUse {
        port: u16,
        who: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no free loopback ports left")]
    NoPorts,
    #[error("unknown service {0:?}")]
    UnknownService(String),
    #[error("service {service:?} has no instance {index} (it has {count})")]
    UnknownInstance {
        service: String,
        index: u32,
        count: usize,
    },
    #[error("service {service:?} has no version {version:?} (known: {known})")]
    UnknownVersion {
        service: String,
        version: String,
        known: String,
    },
    #[error("service {0:?} has no earlier version to roll back to")]
    NothingToRollBack(String),
    #[error("instance count {0} is out of range (0..=32)")]
    BadScale(u32),
    #[error("could not start {who}: {source}")]
    Spawn {
        who: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{who} did not become healthy within {secs}s (see its log in the data dir)")]
    NotReady { who: String, secs: u64 },
    #[error("{who}: admin request failed: {reason}")]
    Admin { who: String, reason: String },
    #[error("the lab is shutting down")]
    ShuttingDown,
    /// The change was made but could not be journaled.
    #[error("{0}")]
    Journal(#[from] wire::SinkError),
}
