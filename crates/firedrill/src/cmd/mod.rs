//! One module per command (or family of commands).
pub mod events;
pub mod fault;
pub mod instance;
pub mod load;
pub mod oncall;
pub mod ops;
pub mod page;
pub mod pager;
pub mod promql;
pub mod query;
pub mod silence;
pub mod slo;
pub mod status;
pub mod topology;
pub mod trace;
pub mod tsdb;
pub mod up;
