//! Write-ahead log: numbered segment files under `<dir>/wal/` holding framed,
//! checksummed records (see [`super::record`]): series records (id + labels)
//! and sample batches. Every commit flushes to the OS; `fsync` runs at most
//! once per `fsync_interval` (a machine crash may lose the last seconds, a
//! process crash loses nothing). A torn or corrupt tail is ignored at replay.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::index::SeriesId;
use super::record::{Dec, DecodeError, Enc, RecordReader, write_record};
use crate::model::{Labels, Sample};

const KIND_SERIES: u8 = 1;
const KIND_SAMPLES: u8 = 2;

/// One decoded WAL record.
#[derive(Debug, Clone, PartialEq)]
pub enum WalRecord {
    Series { id: SeriesId, labels: Labels },
    Samples(Vec<(SeriesId, Sample)>),
}

/// What a replay found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplayStats {
    pub segments: usize,
    pub records: usize,
    /// Segments whose tail was torn or corrupt (and was cut off).
    pub damaged_segments: usize,
}

/// The WAL writer.
#[derive(Debug)]
pub struct Wal {
    dir: PathBuf,
    segment: u64,
    file: BufWriter<File>,
    buf: Vec<u8>,
    enc: Enc,
    fsync_interval: Duration,
    last_sync: Instant,
    dirty: bool,
}

/// `<dir>/wal`.
pub fn wal_dir(dir: &Path) -> PathBuf {
    dir.join("wal")
}

fn segment_path(wal_dir: &Path, n: u64) -> PathBuf {
    wal_dir.join(format!("{n:08}"))
}

/// Segment numbers present in `wal_dir`, ascending.
pub fn list_segments(wal_dir: &Path) -> io::Result<Vec<u64>> {
    let mut out = Vec::new();
    match fs::read_dir(wal_dir) {
        Ok(rd) => {
            for e in rd {
                let e = e?;
                if let Some(n) = e.file_name().to_str().and_then(|s| s.parse::<u64>().ok()) {
                    out.push(n);
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    out.sort_unstable();
    Ok(out)
}

/// Deletes segments numbered below `n`.
pub fn remove_segments_before(wal_dir: &Path, n: u64) -> io::Result<()> {
    for s in list_segments(wal_dir)? {
        if s < n {
            fs::remove_file(segment_path(wal_dir, s))?;
        }
    }
    Ok(())
}

/// Replays segments numbered `from` and above, in order, calling `f` per
/// record. A damaged tail ends its segment (and is truncated away so later
/// appends stay readable); replay continues with the next segment.
pub fn replay(wal_dir: &Path, from: u64, mut f: impl FnMut(WalRecord)) -> io::Result<ReplayStats> {
    let mut stats = ReplayStats::default();
    for n in list_segments(wal_dir)? {
        if n < from {
            continue;
        }
        let path = segment_path(wal_dir, n);
        let data = fs::read(&path)?;
        stats.segments += 1;
        let mut r = RecordReader::new(&data);
        for (kind, payload) in &mut r {
            match decode(kind, payload) {
                Ok(Some(rec)) => {
                    stats.records += 1;
                    f(rec);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(segment = n, error = %e, "skipping undecodable WAL record");
                }
            }
        }
        if r.damaged() {
            stats.damaged_segments += 1;
            tracing::warn!(
                segment = n,
                valid = r.valid_len(),
                size = data.len(),
                "WAL segment has a torn or corrupt tail; ignoring it"
            );
            let f = OpenOptions::new().write(true).open(&path)?;
            f.set_len(r.valid_len() as u64)?;
            f.sync_all()?;
        }
    }
    Ok(stats)
}

fn decode(kind: u8, payload: &[u8]) -> Result<Option<WalRecord>, DecodeError> {
    let mut d = Dec::new(payload);
    match kind {
        KIND_SERIES => {
            let id = SeriesId::try_from(d.uvarint()?).map_err(|_| DecodeError("series id"))?;
            let labels = d.labels()?;
            Ok(Some(WalRecord::Series { id, labels }))
        }
        KIND_SAMPLES => {
            let n = d.uvarint()? as usize;
            let base = d.varint()?;
            let mut out = Vec::with_capacity(n.min(1 << 20));
            for _ in 0..n {
                let id = SeriesId::try_from(d.uvarint()?).map_err(|_| DecodeError("series id"))?;
                let t = base.wrapping_add(d.varint()?);
                let v = f64::from_bits(d.u64_le()?);
                out.push((id, Sample { t, v }));
            }
            Ok(Some(WalRecord::Samples(out)))
        }
        _ => Ok(None),
    }
}

impl Wal {
    /// Starts a new segment after the existing ones in `<dir>/wal`.
    pub fn create(dir: &Path, fsync_interval: Duration) -> io::Result<Wal> {
        let wdir = wal_dir(dir);
        fs::create_dir_all(&wdir)?;
        let next = list_segments(&wdir)?.last().map_or(1, |n| n + 1);
        let file = open_segment(&wdir, next)?;
        Ok(Wal {
            dir: wdir,
            segment: next,
            file: BufWriter::with_capacity(1 << 16, file),
            buf: Vec::new(),
            enc: Enc::new(),
            fsync_interval,
            last_sync: Instant::now(),
            dirty: false,
        })
    }

    /// Number of the segment being written.
    pub fn segment(&self) -> u64 {
        self.segment
    }

    /// Queues a series record (written at the next commit).
    pub fn log_series(&mut self, id: SeriesId, labels: &Labels) {
        self.enc.clear();
        self.enc.uvarint(u64::from(id));
        self.enc.labels(labels);
        write_record(&mut self.buf, KIND_SERIES, &self.enc.0);
    }

    /// Queues a batch of samples (written at the next commit).
    pub fn log_samples(&mut self, samples: &[(SeriesId, Sample)]) {
        if samples.is_empty() {
            return;
        }
        self.enc.clear();
        self.enc.uvarint(samples.len() as u64);
        let base = samples[0].1.t;
        self.enc.varint(base);
        for (id, s) in samples {
            self.enc.uvarint(u64::from(*id));
            self.enc.varint(s.t.wrapping_sub(base));
            self.enc.u64_le(s.v.to_bits());
        }
        write_record(&mut self.buf, KIND_SAMPLES, &self.enc.0);
    }

    /// Writes queued records and flushes them to the OS; fsyncs when the
    /// last fsync is at least `fsync_interval` old.
    pub fn commit(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let r = self.file.write_all(&self.buf);
            self.buf.clear();
            r?;
            self.file.flush()?;
            self.dirty = true;
        }
        if self.dirty && self.last_sync.elapsed() >= self.fsync_interval {
            self.sync()?;
        }
        Ok(())
    }

    /// fsyncs if there are unsynced writes older than the interval.
    pub fn sync_if_due(&mut self) -> io::Result<()> {
        if self.dirty && self.last_sync.elapsed() >= self.fsync_interval {
            self.sync()?;
        }
        Ok(())
    }

    /// Flushes and fsyncs now.
    pub fn sync(&mut self) -> io::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_data()?;
        self.dirty = false;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Closes the current segment (synced) and starts the next one; returns
    /// the new segment's number. Records before it are in older segments.
    pub fn cut_segment(&mut self) -> io::Result<u64> {
        self.commit()?;
        self.sync()?;
        let next = self.segment + 1;
        let file = open_segment(&self.dir, next)?;
        self.file = BufWriter::with_capacity(1 << 16, file);
        self.segment = next;
        Ok(next)
    }

    /// Directory of the segments.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn open_segment(wal_dir: &Path, n: u64) -> io::Result<File> {
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(segment_path(wal_dir, n))?;
    // Make the new file's directory entry durable.
    if let Ok(d) = File::open(wal_dir) {
        let _ = d.sync_all();
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_and_replay() {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = Wal::create(tmp.path(), Duration::from_secs(1)).unwrap();
        let l = Labels::new([("__name__", "up"), ("job", "x")]);
        w.log_series(7, &l);
        let samples = vec![
            (7, Sample { t: 1000, v: 1.0 }),
            (
                7,
                Sample {
                    t: 2000,
                    v: crate::model::stale_nan(),
                },
            ),
        ];
        w.log_samples(&samples);
        w.commit().unwrap();
        let seg = w.cut_segment().unwrap();
        assert_eq!(seg, 2);
        w.log_samples(&[(7, Sample { t: 3000, v: 3.0 })]);
        w.commit().unwrap();
        drop(w);

        let mut got = Vec::new();
        let st = replay(&wal_dir(tmp.path()), 0, |r| got.push(r)).unwrap();
        assert_eq!(st.segments, 2);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], WalRecord::Series { id: 7, labels: l });
        let WalRecord::Samples(s) = &got[1] else {
            panic!()
        };
        assert!(crate::model::is_stale_nan(s[1].1.v));

        let mut later = Vec::new();
        replay(&wal_dir(tmp.path()), 2, |r| later.push(r)).unwrap();
        assert_eq!(later.len(), 1);

        remove_segments_before(&wal_dir(tmp.path()), 2).unwrap();
        assert_eq!(list_segments(&wal_dir(tmp.path())).unwrap(), vec![2]);
        // A new writer continues after the last segment.
        let w = Wal::create(tmp.path(), Duration::from_secs(1)).unwrap();
        assert_eq!(w.segment(), 3);
    }

    #[test]
    fn torn_tail_is_cut_off() {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = Wal::create(tmp.path(), Duration::ZERO).unwrap();
        w.log_series(1, &Labels::new([("__name__", "a")]));
        w.log_samples(&[(1, Sample { t: 1, v: 1.0 })]);
        w.commit().unwrap();
        w.log_samples(&[(1, Sample { t: 2, v: 2.0 })]);
        w.commit().unwrap();
        drop(w);
        let path = segment_path(&wal_dir(tmp.path()), 1);
        let len = fs::metadata(&path).unwrap().len();
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len - 3).unwrap();
        drop(f);
        let mut n = 0;
        let st = replay(&wal_dir(tmp.path()), 0, |_| n += 1).unwrap();
        assert_eq!(n, 2);
        assert_eq!(st.damaged_segments, 1);
        // The tail was truncated, so a second replay is clean.
        let st = replay(&wal_dir(tmp.path()), 0, |_| {}).unwrap();
        assert_eq!(st.damaged_segments, 0);
    }
}
