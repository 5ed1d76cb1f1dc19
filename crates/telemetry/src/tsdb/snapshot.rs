//! Snapshot (checkpoint) of every series and its chunks, written to
//! `<dir>/snapshot` atomically (temp file, fsync, rename). It records the
//! first WAL segment not covered, so older segments can be deleted.
//!
//! Layout: the magic `FDTSNAP1`, then framed records (see [`super::record`]):
//! a header (WAL segment, next series id), one record per series (id, labels,
//! chunks as sample count + encoded bytes) and an end record with the series
//! count, which tells a complete snapshot from a cut-off one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::chunk::Chunk;
use super::index::SeriesId;
use super::record::{Dec, DecodeError, Enc, RecordReader, write_record};
use crate::model::{Labels, StorageError};

const MAGIC: &[u8; 8] = b"FDTSNAP1";
const KIND_HEADER: u8 = 1;
const KIND_SERIES: u8 = 2;
const KIND_END: u8 = 3;

/// One series as stored in a snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotSeries {
    pub id: SeriesId,
    pub labels: Labels,
    pub chunks: Vec<Chunk>,
}

/// A decoded snapshot.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// First WAL segment whose records are not in the snapshot.
    pub wal_segment: u64,
    pub next_id: SeriesId,
    pub series: Vec<SnapshotSeries>,
}

/// `<dir>/snapshot`.
pub fn snapshot_path(dir: &Path) -> PathBuf {
    dir.join("snapshot")
}

/// Builds a snapshot file's bytes in memory.
#[derive(Debug)]
pub struct SnapshotEncoder {
    buf: Vec<u8>,
    enc: Enc,
    count: u64,
}

impl SnapshotEncoder {
    pub fn new(wal_segment: u64, next_id: SeriesId) -> Self {
        let mut buf = MAGIC.to_vec();
        let mut enc = Enc::new();
        enc.uvarint(wal_segment);
        enc.uvarint(u64::from(next_id));
        write_record(&mut buf, KIND_HEADER, &enc.0);
        SnapshotEncoder { buf, enc, count: 0 }
    }

    /// Adds one series with its chunks (oldest first; empty chunks are skipped).
    pub fn series<'a>(
        &mut self,
        id: SeriesId,
        labels: &Labels,
        chunks: impl Iterator<Item = &'a Chunk>,
    ) {
        let chunks: Vec<&Chunk> = chunks.filter(|c| !c.is_empty()).collect();
        self.enc.clear();
        self.enc.uvarint(u64::from(id));
        self.enc.labels(labels);
        self.enc.uvarint(chunks.len() as u64);
        for c in chunks {
            self.enc.uvarint(c.len() as u64);
            self.enc.bytes(c.bytes());
        }
        write_record(&mut self.buf, KIND_SERIES, &self.enc.0);
        self.count += 1;
    }

    /// Finishes the file contents.
    pub fn finish(mut self) -> Vec<u8> {
        self.enc.clear();
        self.enc.uvarint(self.count);
        write_record(&mut self.buf, KIND_END, &self.enc.0);
        self.buf
    }
}

/// Writes snapshot bytes atomically to `<dir>/snapshot`.
pub fn write_file(dir: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join("snapshot.tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, snapshot_path(dir))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn corrupt(msg: impl std::fmt::Display) -> StorageError {
    StorageError::Other(format!("corrupt snapshot: {msg}"))
}

/// Reads `<dir>/snapshot`; `Ok(None)` when there is none. A damaged
/// snapshot is an error (the WAL it replaced is gone).
pub fn read(dir: &Path) -> Result<Option<Snapshot>, StorageError> {
    let data = match fs::read(snapshot_path(dir)) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    decode(&data).map(Some)
}

/// Decodes snapshot bytes.
pub fn decode(data: &[u8]) -> Result<Snapshot, StorageError> {
    if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
        return Err(corrupt("bad magic"));
    }
    let mut snap = Snapshot::default();
    let mut header = false;
    let mut end = None;
    let mut r = RecordReader::new(&data[MAGIC.len()..]);
    for (kind, payload) in &mut r {
        let mut d = Dec::new(payload);
        let res: Result<(), DecodeError> = (|| {
            match kind {
                KIND_HEADER => {
                    snap.wal_segment = d.uvarint()?;
                    snap.next_id =
                        SeriesId::try_from(d.uvarint()?).map_err(|_| DecodeError("next id"))?;
                    header = true;
                }
                KIND_SERIES => {
                    let id =
                        SeriesId::try_from(d.uvarint()?).map_err(|_| DecodeError("series id"))?;
                    let labels = d.labels()?;
                    let n = d.uvarint()? as usize;
                    let mut chunks = Vec::with_capacity(n.min(4096));
                    for _ in 0..n {
                        let count =
                            u16::try_from(d.uvarint()?).map_err(|_| DecodeError("chunk count"))?;
                        let bytes = d.bytes()?;
                        let c =
                            Chunk::from_bytes(bytes, count).map_err(|_| DecodeError("chunk"))?;
                        chunks.push(c);
                    }
                    snap.series.push(SnapshotSeries { id, labels, chunks });
                }
                KIND_END => end = Some(d.uvarint()?),
                _ => {}
            }
            Ok(())
        })();
        res.map_err(corrupt)?;
    }
    if r.damaged() || !header {
        return Err(corrupt("damaged record"));
    }
    match end {
        Some(n) if n == snap.series.len() as u64 => Ok(snap),
        _ => Err(corrupt("missing end record")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut c1 = Chunk::new();
        let mut c2 = Chunk::new();
        for i in 0..120 {
            c1.append(i * 1000, i as f64);
        }
        c2.append(200_000, crate::model::stale_nan());
        let l = Labels::new([("__name__", "x"), ("a", "b")]);
        let mut e = SnapshotEncoder::new(5, 42);
        e.series(3, &l, [&c1, &c2, &Chunk::new()].into_iter());
        let bytes = e.finish();
        let tmp = tempfile::tempdir().unwrap();
        write_file(tmp.path(), &bytes).unwrap();
        let s = read(tmp.path()).unwrap().unwrap();
        assert_eq!(s.wal_segment, 5);
        assert_eq!(s.next_id, 42);
        assert_eq!(s.series.len(), 1);
        assert_eq!(s.series[0].labels, l);
        assert_eq!(s.series[0].chunks.len(), 2);
        assert_eq!(s.series[0].chunks[0].len(), 120);
        assert!(crate::model::is_stale_nan(
            s.series[0].chunks[1].iter().next().unwrap().v
        ));
        // Cut-off snapshots are rejected.
        assert!(decode(&bytes[..bytes.len() - 2]).is_err());
        assert!(read(&tmp.path().join("nope")).unwrap().is_none());
    }
}
