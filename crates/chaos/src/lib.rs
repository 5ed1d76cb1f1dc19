//! Break it safely: faults injected into a running lab (each bounded in
//! time and reverted by itself), chaos experiments, critical-path analysis.

pub mod client;
pub mod critical;
pub mod error;
pub mod experiment;
pub mod faults;

pub use error::ChaosError;
pub use faults::{FaultController, FaultRecord, InjectRequest};
