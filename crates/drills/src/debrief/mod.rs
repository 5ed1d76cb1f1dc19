pub mod fmt;
