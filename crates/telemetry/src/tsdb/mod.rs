//! The time-series store: Gorilla-compressed chunks in memory, a postings
//! index, a write-ahead log and snapshots on disk, retention and backfill.
//!
//! * [`chunk`] (+ [`bits`]): delta-of-delta / XOR sample compression;
//! * [`index`]: series ids and the inverted label index;
//! * [`head`]: [`Tsdb`], implementing [`Storage`](crate::model::Storage) and
//!   [`Appender`](crate::model::Appender);
//! * [`record`], [`wal`], [`snapshot`]: persistence;
//! * [`import`]: backfilling from an exposition file with timestamps.

pub mod bits;
pub mod chunk;
pub mod head;
pub mod import;
pub mod index;
pub mod record;
pub mod snapshot;
pub mod status;
pub mod wal;

pub use head::{OpenReport, Tsdb, TsdbOptions, TsdbStats};
pub use import::{ImportError, ImportStats, import};
pub use index::SeriesId;
