//! The lab: topology model, service runtime, instance supervisor, load balancing
//! and load generator.
pub mod api;
pub mod faults;
pub mod loadgen;
pub mod placeholders;
pub mod runtime;
pub mod supervisor;
pub mod topology;
