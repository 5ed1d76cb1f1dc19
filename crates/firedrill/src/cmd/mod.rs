//! One module per command (or family of commands).
pub mod events;
pub mod instance;
pub mod load;
pub mod ops;
pub mod status;
pub mod topology;
pub mod trace;
pub mod up;
