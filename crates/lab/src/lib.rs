//! The lab: topology model, service runtime, instance supervisor, load balancing
//! and load generator.
pub mod topology;
