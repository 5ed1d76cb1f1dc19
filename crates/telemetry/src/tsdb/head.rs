//! The in-memory store ([`Tsdb`]): per-series compressed chunks, the postings
//! index, optional persistence (WAL + snapshot) and retention.
//!
//! Concurrency: appends, retention and snapshots are serialized by one writer
//! mutex (which also keeps the WAL in the same order as memory); queries only
//! take read locks on the index and on the 16 series shards, so they run
//! alongside appends.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::chunk::Chunk;
use super::index::{Index, SeriesId};
use super::snapshot::{self, SnapshotEncoder};
use super::wal::{self, Wal, WalRecord};
use crate::model::{AppendStats, Appender, Labels, Matcher, Sample, Series, Storage, StorageError};

const SHARDS: usize = 16;

/// The current time in ms since the Unix epoch.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Store settings.
#[derive(Debug, Clone)]
pub struct TsdbOptions {
    /// How long samples are kept, measured back from the current time (not
    /// from the newest sample: one sample dated in the far future must not
    /// wipe the real history). Default 24h.
    pub retention: Duration,
    /// Longest time between WAL fsyncs while appending. Default 1s.
    pub wal_fsync_interval: Duration,
    /// How often a snapshot is written (lets the WAL be truncated). Default 10 min.
    pub snapshot_interval: Duration,
    /// How often retention runs. Default 1 min.
    pub retention_interval: Duration,
    /// Run fsync, retention and snapshots on a background thread. Default true.
    pub background: bool,
}

impl Default for TsdbOptions {
    fn default() -> Self {
        TsdbOptions {
            retention: Duration::from_secs(24 * 3600),
            wal_fsync_interval: Duration::from_secs(1),
            snapshot_interval: Duration::from_secs(600),
            retention_interval: Duration::from_secs(60),
            background: true,
        }
    }
}

/// Figures about the store's contents.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TsdbStats {
    pub series: usize,
    pub samples: u64,
    pub chunks: usize,
    /// Encoded chunk bytes.
    pub chunk_bytes: u64,
    /// `chunk_bytes / samples` (0 when empty).
    pub bytes_per_sample: f64,
    pub min_t: Option<i64>,
    pub max_t: Option<i64>,
}

/// What opening a store on disk found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenReport {
    pub snapshot_series: usize,
    pub wal_segments: usize,
    pub wal_records: usize,
    pub wal_samples: usize,
    /// WAL segments with a torn or corrupt tail (the tail was ignored).
    pub damaged_segments: usize,
}

#[derive(Debug)]
struct MemSeries {
    labels: Arc<Labels>,
    closed: Vec<Chunk>,
    head: Chunk,
}

impl MemSeries {
    fn new(labels: Arc<Labels>) -> Self {
        MemSeries {
            labels,
            closed: Vec::new(),
            head: Chunk::new(),
        }
    }

    fn min_t(&self) -> i64 {
        self.closed.first().map_or(self.head.min_t(), |c| c.min_t())
    }

    fn max_t(&self) -> i64 {
        if self.head.is_empty() {
            self.closed.last().map_or(i64::MIN, |c| c.max_t())
        } else {
            self.head.max_t()
        }
    }

    fn append(&mut self, t: i64, v: f64) -> bool {
        if t <= self.max_t() {
            return false;
        }
        if self.head.is_full(t) {
            let mut full = std::mem::take(&mut self.head);
            full.shrink_to_fit();
            self.closed.push(full);
        }
        self.head.append(t, v)
    }

    fn chunks(&self) -> impl Iterator<Item = &Chunk> {
        self.closed.iter().chain(std::iter::once(&self.head))
    }

    fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        (!self.head.is_empty() || !self.closed.is_empty())
            && self.min_t() <= maxt
            && self.max_t() >= mint
    }

    /// Whether at least one sample lies in `[mint, maxt]`.
    fn has_sample_in(&self, mint: i64, maxt: i64) -> bool {
        self.overlaps(mint, maxt)
            && self.chunks().any(|c| {
                !c.is_empty()
                    && c.max_t() >= mint
                    && c.min_t() <= maxt
                    && c.iter().find(|s| s.t >= mint).is_some_and(|s| s.t <= maxt)
            })
    }

    fn samples_in(&self, mint: i64, maxt: i64) -> Vec<Sample> {
        let mut out = Vec::new();
        for c in self.chunks() {
            if c.is_empty() || c.max_t() < mint || c.min_t() > maxt {
                continue;
            }
            for s in c.iter() {
                if s.t > maxt {
                    break;
                }
                if s.t >= mint {
                    out.push(s);
                }
            }
        }
        out
    }

    fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.closed.capacity() * std::mem::size_of::<Chunk>()
            + self
                .closed
                .iter()
                .map(|c| c.memory_bytes() - std::mem::size_of::<Chunk>())
                .sum::<usize>()
            + (self.head.memory_bytes() - std::mem::size_of::<Chunk>())
    }
}

type Shard = RwLock<HashMap<SeriesId, MemSeries>>;

struct Writer {
    wal: Option<Wal>,
    /// Per-append scratch: samples accepted, for the WAL.
    accepted: Vec<(SeriesId, Sample)>,
}

struct Inner {
    opts: TsdbOptions,
    dir: Option<PathBuf>,
    index: RwLock<Index>,
    shards: Box<[Shard]>,
    writer: Mutex<Writer>,
    snapshot_lock: Mutex<()>,
    max_t: AtomicI64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}

fn shard_of(id: SeriesId) -> usize {
    id as usize % SHARDS
}

/// The time-series store. Cheap to share behind an `Arc`; `Send + Sync`.
pub struct Tsdb {
    inner: Arc<Inner>,
    stop: Mutex<Option<mpsc::Sender<()>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    report: OpenReport,
}

impl std::fmt::Debug for Tsdb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tsdb")
            .field("dir", &self.inner.dir)
            .field("series", &read(&self.inner.index).len())
            .finish()
    }
}

impl Tsdb {
    /// A store without persistence.
    pub fn in_memory(opts: TsdbOptions) -> Tsdb {
        let inner = Arc::new(Inner::new(opts, None, None));
        Tsdb::start(inner, OpenReport::default())
    }

    /// Opens (creating if needed) a store in `dir`: loads the snapshot, replays
    /// the WAL after it, and starts a new WAL segment.
    pub fn open(dir: &Path, opts: TsdbOptions) -> Result<Tsdb, StorageError> {
        std::fs::create_dir_all(dir)?;
        let wal_dir = wal::wal_dir(dir);
        std::fs::create_dir_all(&wal_dir)?;
        let inner = Inner::new(opts.clone(), Some(dir.to_path_buf()), None);
        let mut report = OpenReport::default();
        let mut from_segment = 0;
        if let Some(snap) = snapshot::read(dir)? {
            from_segment = snap.wal_segment;
            report.snapshot_series = snap.series.len();
            let mut idx = write(&inner.index);
            for s in snap.series {
                let labels = Arc::new(s.labels);
                idx.insert_with_id(s.id, labels.clone())
                    .map_err(|e| StorageError::Other(format!("corrupt snapshot: {e}")))?;
                let mut ms = MemSeries::new(labels);
                let mut chunks = s.chunks;
                if let Some(last) = chunks.pop() {
                    ms.head = last;
                }
                for c in &mut chunks {
                    c.shrink_to_fit();
                }
                ms.closed = chunks;
                inner.max_t.fetch_max(ms.max_t(), Ordering::Relaxed);
                write(&inner.shards[shard_of(s.id)]).insert(s.id, ms);
            }
            idx.reserve_ids_below(snap.next_id);
        }
        // WAL ids map to live ids; ids not introduced in the replayed WAL refer
        // to series from the snapshot.
        let mut id_map: HashMap<SeriesId, SeriesId> = HashMap::new();
        let mut samples = 0usize;
        let st = wal::replay(&wal_dir, from_segment, |rec| match rec {
            WalRecord::Series { id, labels } => {
                let mut idx = write(&inner.index);
                let live = match idx.get(&labels) {
                    Some(live) => live,
                    None if idx.labels(id).is_none() && id >= idx.next_id() => {
                        let l = Arc::new(labels);
                        // Cannot fail: neither labels nor id are present.
                        let _ = idx.insert_with_id(id, l.clone());
                        write(&inner.shards[shard_of(id)]).insert(id, MemSeries::new(l));
                        id
                    }
                    None => {
                        let (live, l, _) = idx.get_or_create(&labels);
                        write(&inner.shards[shard_of(live)]).insert(live, MemSeries::new(l));
                        live
                    }
                };
                id_map.insert(id, live);
            }
            WalRecord::Samples(batch) => {
                for (id, s) in batch {
                    let live = id_map.get(&id).copied().unwrap_or(id);
                    if let Some(ms) = write(&inner.shards[shard_of(live)]).get_mut(&live)
                        && ms.append(s.t, s.v)
                    {
                        samples += 1;
                        inner.max_t.fetch_max(s.t, Ordering::Relaxed);
                    }
                }
            }
        })?;
        report.wal_segments = st.segments;
        report.wal_records = st.records;
        report.wal_samples = samples;
        report.damaged_segments = st.damaged_segments;
        wal::remove_segments_before(&wal_dir, from_segment)?;
        lock(&inner.writer).wal = Some(Wal::create(dir, opts.wal_fsync_interval)?);
        let tsdb = Tsdb::start(Arc::new(inner), report);
        tracing::info!(dir = %dir.display(), ?report, "opened tsdb");
        Ok(tsdb)
    }

    fn start(inner: Arc<Inner>, report: OpenReport) -> Tsdb {
        let (stop, worker) = if inner.opts.background {
            let (tx, rx) = mpsc::channel::<()>();
            let weak = Arc::downgrade(&inner);
            let h = std::thread::Builder::new()
                .name("tsdb-maintenance".into())
                .spawn(move || maintenance_loop(weak, rx))
                .ok();
            (Some(tx), h)
        } else {
            (None, None)
        };
        Tsdb {
            inner,
            stop: Mutex::new(stop),
            worker: Mutex::new(worker),
            report,
        }
    }

    /// What [`Tsdb::open`] loaded.
    pub fn open_report(&self) -> OpenReport {
        self.report
    }

    /// The store's directory (`None` in memory).
    pub fn dir(&self) -> Option<&Path> {
        self.inner.dir.as_deref()
    }

    pub fn options(&self) -> &TsdbOptions {
        &self.inner.opts
    }

    /// Stops the background thread, writes a snapshot (which truncates the
    /// WAL) and syncs. The store stays usable afterwards.
    pub fn close(&self) -> Result<(), StorageError> {
        self.stop_worker();
        self.inner.snapshot()?;
        self.inner.sync()
    }

    fn stop_worker(&self) {
        drop(lock(&self.stop).take());
        if let Some(h) = lock(&self.worker).take() {
            let _ = h.join();
        }
    }

    /// Writes a snapshot now and deletes the WAL segments it covers.
    pub fn snapshot(&self) -> Result<(), StorageError> {
        self.inner.snapshot()
    }

    /// fsyncs the WAL now.
    pub fn sync(&self) -> Result<(), StorageError> {
        self.inner.sync()
    }

    /// Drops chunks whose samples are all before `t`, and series left empty.
    /// Returns the number of series removed.
    pub fn truncate_before(&self, t: i64) -> usize {
        self.inner.truncate_before(t)
    }

    /// Applies retention relative to the current time; returns series removed.
    pub fn enforce_retention(&self) -> usize {
        self.inner.enforce_retention(now_ms())
    }

    /// Applies retention as if the time were `now` (ms); returns series removed.
    pub fn enforce_retention_at(&self, now: i64) -> usize {
        self.inner.enforce_retention(now)
    }

    /// Label names of series matching `matchers` (all series when empty) with
    /// data overlapping `[mint, maxt]`, sorted.
    pub fn label_names(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<String> {
        let ids = self.inner.ids_in_range(matchers, mint, maxt);
        read(&self.inner.index).label_names_of(&ids)
    }

    /// Values of label `name` among series matching `matchers` with data
    /// overlapping `[mint, maxt]`, sorted.
    pub fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Vec<String> {
        let ids = self.inner.ids_in_range(matchers, mint, maxt);
        read(&self.inner.index).label_values_of(name, &ids)
    }

    /// Counts of series, samples and chunk bytes.
    pub fn stats(&self) -> TsdbStats {
        let mut st = TsdbStats::default();
        let (mut min_t, mut max_t) = (i64::MAX, i64::MIN);
        for shard in self.inner.shards.iter() {
            let g = read(shard);
            st.series += g.len();
            for s in g.values() {
                for c in s.chunks().filter(|c| !c.is_empty()) {
                    st.chunks += 1;
                    st.samples += c.len() as u64;
                    st.chunk_bytes += c.size_bytes() as u64;
                }
                if s.max_t() != i64::MIN {
                    min_t = min_t.min(s.min_t());
                    max_t = max_t.max(s.max_t());
                }
            }
        }
        if st.samples > 0 {
            st.bytes_per_sample = st.chunk_bytes as f64 / st.samples as f64;
            st.min_t = Some(min_t);
            st.max_t = Some(max_t);
        }
        st
    }

    /// Estimated heap bytes held by series, chunks and the index.
    pub fn memory_bytes(&self) -> usize {
        let mut n = read(&self.inner.index).memory_bytes();
        for shard in self.inner.shards.iter() {
            let g = read(shard);
            n += g.capacity() * (std::mem::size_of::<(SeriesId, MemSeries)>() + 1);
            n += g
                .values()
                .map(|s| s.memory_bytes() - std::mem::size_of::<MemSeries>())
                .sum::<usize>();
        }
        n
    }

    /// Newest sample timestamp in the store.
    pub fn max_time(&self) -> Option<i64> {
        let t = self.inner.max_t.load(Ordering::Relaxed);
        (t != i64::MIN).then_some(t)
    }
}

impl Drop for Tsdb {
    fn drop(&mut self) {
        self.stop_worker();
        let _ = self.inner.sync();
    }
}

fn maintenance_loop(inner: Weak<Inner>, stop: mpsc::Receiver<()>) {
    let mut last_retention = Instant::now();
    let mut last_snapshot = Instant::now();
    loop {
        let tick = match inner.upgrade() {
            Some(i) => i
                .opts
                .wal_fsync_interval
                .clamp(Duration::from_millis(100), Duration::from_secs(1)),
            None => return,
        };
        match stop.recv_timeout(tick) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        let Some(inner) = inner.upgrade() else { return };
        if let Some(w) = lock(&inner.writer).wal.as_mut()
            && let Err(e) = w.sync_if_due()
        {
            tracing::warn!(error = %e, "WAL fsync failed");
        }
        if last_retention.elapsed() >= inner.opts.retention_interval {
            last_retention = Instant::now();
            let n = inner.enforce_retention(now_ms());
            if n > 0 {
                tracing::debug!(removed = n, "retention removed series");
            }
        }
        if inner.dir.is_some() && last_snapshot.elapsed() >= inner.opts.snapshot_interval {
            last_snapshot = Instant::now();
            if let Err(e) = inner.snapshot() {
                tracing::warn!(error = %e, "tsdb snapshot failed");
            }
        }
    }
}

impl Inner {
    fn new(opts: TsdbOptions, dir: Option<PathBuf>, wal: Option<Wal>) -> Inner {
        Inner {
            opts,
            dir,
            index: RwLock::new(Index::new()),
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            writer: Mutex::new(Writer {
                wal,
                accepted: Vec::new(),
            }),
            snapshot_lock: Mutex::new(()),
            max_t: AtomicI64::new(i64::MIN),
        }
    }

    fn append(&self, batch: &[(Labels, Sample)]) -> Result<AppendStats, StorageError> {
        let mut stats = AppendStats::default();
        if batch.is_empty() {
            return Ok(stats);
        }
        let mut w = lock(&self.writer);
        let w = &mut *w;
        // Resolve series ids, creating missing series (logged to the WAL first).
        let mut ids: Vec<Option<SeriesId>> = {
            let idx = read(&self.index);
            batch.iter().map(|(l, _)| idx.get(l)).collect()
        };
        if ids.iter().any(Option::is_none) {
            let mut idx = write(&self.index);
            for (slot, (l, _)) in ids.iter_mut().zip(batch) {
                if slot.is_none() {
                    let (id, arc, created) = idx.get_or_create(l);
                    if created {
                        write(&self.shards[shard_of(id)]).insert(id, MemSeries::new(arc));
                        if let Some(wal) = w.wal.as_mut() {
                            wal.log_series(id, l);
                        }
                    }
                    *slot = Some(id);
                }
            }
        }
        // Append shard by shard, keeping batch order within each shard.
        let mut by_shard: [Vec<u32>; SHARDS] = Default::default();
        for (i, id) in ids.iter().enumerate() {
            if let Some(id) = id {
                by_shard[shard_of(*id)].push(i as u32);
            }
        }
        w.accepted.clear();
        let mut max_t = i64::MIN;
        for (sh, members) in by_shard.iter().enumerate() {
            if members.is_empty() {
                continue;
            }
            let mut g = write(&self.shards[sh]);
            for &i in members {
                let i = i as usize;
                let id = ids[i].unwrap_or_default();
                let s = batch[i].1;
                let ok = g.get_mut(&id).is_some_and(|ms| ms.append(s.t, s.v));
                if ok {
                    stats.appended += 1;
                    max_t = max_t.max(s.t);
                    if w.wal.is_some() {
                        w.accepted.push((id, s));
                    }
                } else {
                    stats.out_of_order += 1;
                }
            }
        }
        self.max_t.fetch_max(max_t, Ordering::Relaxed);
        if let Some(wal) = w.wal.as_mut() {
            wal.log_samples(&w.accepted);
            wal.commit()?;
        }
        Ok(stats)
    }

    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Series> {
        if mint > maxt {
            return Vec::new();
        }
        let ids = read(&self.index).postings_for_matchers(matchers);
        let mut out = Vec::new();
        for id in ids {
            let g = read(&self.shards[shard_of(id)]);
            if let Some(s) = g.get(&id) {
                if !s.overlaps(mint, maxt) {
                    continue;
                }
                let samples = s.samples_in(mint, maxt);
                if !samples.is_empty() {
                    out.push(Series {
                        labels: (*s.labels).clone(),
                        samples,
                    });
                }
            }
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }

    fn ids_in_range(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<SeriesId> {
        let ids = read(&self.index).postings_for_matchers(matchers);
        ids.into_iter()
            .filter(|&id| {
                read(&self.shards[shard_of(id)])
                    .get(&id)
                    .is_some_and(|s| s.has_sample_in(mint, maxt))
            })
            .collect()
    }

    fn truncate_before(&self, t: i64) -> usize {
        let _w = lock(&self.writer);
        let mut removed = Vec::new();
        for shard in self.shards.iter() {
            let mut g = write(shard);
            g.retain(|&id, s| {
                if s.max_t() < t {
                    removed.push(id);
                    return false;
                }
                s.closed.retain(|c| c.max_t() >= t);
                true
            });
        }
        if !removed.is_empty() {
            removed.sort_unstable();
            write(&self.index).remove(&removed);
        }
        removed.len()
    }

    fn enforce_retention(&self, now: i64) -> usize {
        if self.max_t.load(Ordering::Relaxed) == i64::MIN {
            return 0;
        }
        let ret = i64::try_from(self.opts.retention.as_millis()).unwrap_or(i64::MAX);
        self.truncate_before(now.saturating_sub(ret))
    }

    fn sync(&self) -> Result<(), StorageError> {
        if let Some(w) = lock(&self.writer).wal.as_mut() {
            w.sync()?;
        }
        Ok(())
    }

    fn snapshot(&self) -> Result<(), StorageError> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let _one_at_a_time = lock(&self.snapshot_lock);
        let (bytes, segment) = {
            let mut w = lock(&self.writer);
            let segment = match w.wal.as_mut() {
                Some(wal) => wal.cut_segment()?,
                None => 0,
            };
            let next_id = read(&self.index).next_id();
            let mut enc = SnapshotEncoder::new(segment, next_id);
            for shard in self.shards.iter() {
                let g = read(shard);
                for (&id, s) in g.iter() {
                    enc.series(id, &s.labels, s.chunks());
                }
            }
            (enc.finish(), segment)
        };
        snapshot::write_file(dir, &bytes)?;
        wal::remove_segments_before(&wal::wal_dir(dir), segment)?;
        tracing::debug!(bytes = bytes.len(), segment, "wrote tsdb snapshot");
        Ok(())
    }
}

impl Storage for Tsdb {
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Series>, StorageError> {
        Ok(self.inner.select(matchers, mint, maxt))
    }

    fn series(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Labels>, StorageError> {
        let ids = self.inner.ids_in_range(matchers, mint, maxt);
        let idx = read(&self.inner.index);
        let mut out: Vec<Labels> = ids
            .iter()
            .filter_map(|id| idx.labels(*id).map(|l| (**l).clone()))
            .collect();
        out.sort();
        Ok(out)
    }
}

impl Appender for Tsdb {
    fn append(&self, batch: &[(Labels, Sample)]) -> Result<AppendStats, StorageError> {
        self.inner.append(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MatchOp, is_stale_nan, stale_nan};

    fn opts() -> TsdbOptions {
        TsdbOptions {
            background: false,
            ..TsdbOptions::default()
        }
    }

    fn l(name: &str, job: &str) -> Labels {
        Labels::new([("__name__", name), ("job", job)])
    }

    fn eq(n: &str, v: &str) -> Matcher {
        Matcher::new(MatchOp::Equal, n, v).unwrap()
    }

    fn fill(db: &Tsdb, n_series: usize, n_samples: i64, step: i64) {
        for i in 0..n_samples {
            let batch: Vec<(Labels, Sample)> = (0..n_series)
                .map(|s| {
                    (
                        l("m", &format!("j{s}")),
                        Sample {
                            t: i * step,
                            v: (i * s as i64) as f64,
                        },
                    )
                })
                .collect();
            let st = db.append(&batch).unwrap();
            assert_eq!(st.appended, n_series);
        }
    }

    #[test]
    fn tsdb_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<Tsdb>();
    }

    #[test]
    fn append_select_and_out_of_order() {
        let db = Tsdb::in_memory(opts());
        fill(&db, 3, 500, 15_000);
        let st = db
            .append(&[
                (l("m", "j1"), Sample { t: 15_000, v: 9.0 }),
                (
                    l("m", "j1"),
                    Sample {
                        t: 499 * 15_000,
                        v: 9.0,
                    },
                ),
                (
                    l("m", "j1"),
                    Sample {
                        t: 500 * 15_000,
                        v: stale_nan(),
                    },
                ),
            ])
            .unwrap();
        assert_eq!(
            st,
            AppendStats {
                appended: 1,
                out_of_order: 2
            }
        );
        let r = db.select(&[eq("job", "j1")], 0, i64::MAX).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].samples.len(), 501);
        assert!(is_stale_nan(r[0].samples[500].v));
        assert_eq!(
            r[0].samples[10],
            Sample {
                t: 150_000,
                v: 10.0
            }
        );
        // Inclusive range across chunk boundaries.
        let r = db
            .select(&[eq("__name__", "m")], 15_000 * 100, 15_000 * 300)
            .unwrap();
        assert_eq!(r.len(), 3);
        assert!(r.iter().all(|s| s.samples.len() == 201));
        assert_eq!(r[0].labels, l("m", "j0"));
        assert!(
            db.select(&[eq("__name__", "nope")], 0, i64::MAX)
                .unwrap()
                .is_empty()
        );
        let st = db.stats();
        assert_eq!(st.series, 3);
        assert_eq!(st.samples, 1501);
        assert!(st.chunks >= 3 * 5);
        assert!(
            st.bytes_per_sample > 0.0 && st.bytes_per_sample < 4.0,
            "{st:?}"
        );
        assert!(db.memory_bytes() > st.chunk_bytes as usize);
    }

    #[test]
    fn label_names_values_and_series() {
        let db = Tsdb::in_memory(opts());
        db.append(&[
            (l("a", "x"), Sample { t: 1000, v: 1.0 }),
            (
                Labels::new([("__name__", "b"), ("job", "y"), ("zone", "z1")]),
                Sample { t: 5000, v: 1.0 },
            ),
        ])
        .unwrap();
        assert_eq!(
            db.label_names(&[], i64::MIN, i64::MAX),
            vec!["__name__", "job", "zone"]
        );
        assert_eq!(db.label_names(&[], 0, 2000), vec!["__name__", "job"]);
        assert_eq!(
            db.label_values("job", &[], i64::MIN, i64::MAX),
            vec!["x", "y"]
        );
        assert_eq!(
            db.label_values("job", &[eq("zone", "z1")], 0, 10_000),
            vec!["y"]
        );
        assert_eq!(
            db.series(&[eq("job", "x")], 0, 10_000).unwrap(),
            vec![l("a", "x")]
        );
        assert!(
            db.series(&[eq("job", "x")], 2000, 10_000)
                .unwrap()
                .is_empty()
        );
        // A gap in a series: overlapping the time span is not enough.
        db.append(&[(l("a", "x"), Sample { t: 9000, v: 2.0 })])
            .unwrap();
        assert!(db.series(&[eq("job", "x")], 2000, 8999).unwrap().is_empty());
        assert_eq!(db.series(&[eq("job", "x")], 2000, 9000).unwrap().len(), 1);
        assert!(db.label_values("job", &[], 2000, 4999).is_empty());
    }

    #[test]
    fn retention_drops_old_chunks_and_series() {
        let mut o = opts();
        o.retention = Duration::from_secs(3600);
        let db = Tsdb::in_memory(o);
        // 4h of data every 15s for one series, and an old series that stops early.
        for i in 0..960i64 {
            let mut batch = vec![(
                l("m", "live"),
                Sample {
                    t: i * 15_000,
                    v: i as f64,
                },
            )];
            if i < 10 {
                batch.push((
                    l("m", "old"),
                    Sample {
                        t: i * 15_000,
                        v: 1.0,
                    },
                ));
            }
            db.append(&batch).unwrap();
        }
        assert_eq!(db.stats().series, 2);
        let removed = db.enforce_retention_at(959 * 15_000);
        assert_eq!(removed, 1);
        let st = db.stats();
        assert_eq!(st.series, 1);
        let cutoff = 959 * 15_000 - 3_600_000;
        // Chunk granularity: at most one chunk (120 samples) older than the cutoff stays.
        assert!(
            st.min_t.unwrap() <= cutoff && st.min_t.unwrap() > cutoff - 120 * 15_000,
            "{st:?}"
        );
        assert_eq!(
            db.label_values("job", &[], i64::MIN, i64::MAX),
            vec!["live"]
        );
        // A removed series can come back with new data.
        let st = db
            .append(&[(
                l("m", "old"),
                Sample {
                    t: 960 * 15_000,
                    v: 2.0,
                },
            )])
            .unwrap();
        assert_eq!(st.appended, 1);
        assert_eq!(db.stats().series, 2);
    }

    #[test]
    fn retention_counts_back_from_the_clock_not_the_newest_sample() {
        let mut o = opts();
        o.retention = Duration::from_secs(24 * 3600);
        let db = Tsdb::in_memory(o);
        let now = now_ms();
        for i in 0..240i64 {
            let t = now - 3_600_000 + i * 15_000;
            db.append(&[(l("m", "live"), Sample { t, v: i as f64 })])
                .unwrap();
        }
        // One sample dated 9999-12-31 (imported before imports refused it).
        db.append(&[(
            l("m", "future"),
            Sample {
                t: 253_402_214_400_000,
                v: 1.0,
            },
        )])
        .unwrap();
        assert_eq!(db.enforce_retention(), 0);
        assert_eq!(
            db.label_values("job", &[], i64::MIN, i64::MAX),
            vec!["future", "live"]
        );
        assert_eq!(db.stats().samples, 241);
        // A day later the last hour has aged out; the future sample has not.
        assert_eq!(db.enforce_retention_at(now + 25 * 3_600_000), 1);
        assert_eq!(
            db.label_values("job", &[], i64::MIN, i64::MAX),
            vec!["future"]
        );
    }

    #[test]
    fn reopen_restores_data_from_wal_and_snapshot() {
        let tmp = tempfile::tempdir().unwrap();
        let expected;
        {
            let db = Tsdb::open(tmp.path(), opts()).unwrap();
            fill(&db, 5, 300, 10_000);
            expected = db.select(&[], i64::MIN, i64::MAX).unwrap();
            // No close: the WAL alone must restore everything.
        }
        {
            let db = Tsdb::open(tmp.path(), opts()).unwrap();
            assert_eq!(db.open_report().wal_samples, 1500);
            assert_eq!(db.select(&[], i64::MIN, i64::MAX).unwrap(), expected);
            // Snapshot, then more data in the WAL after it.
            db.snapshot().unwrap();
            db.append(&[(
                l("m", "j0"),
                Sample {
                    t: 10_000_000,
                    v: stale_nan(),
                },
            )])
            .unwrap();
            db.append(&[(
                l("new", "x"),
                Sample {
                    t: 10_000_000,
                    v: 7.0,
                },
            )])
            .unwrap();
        }
        {
            let db = Tsdb::open(tmp.path(), opts()).unwrap();
            let rep = db.open_report();
            assert_eq!(rep.snapshot_series, 5);
            assert_eq!(rep.wal_samples, 2);
            let r = db.select(&[eq("job", "j0")], 0, i64::MAX).unwrap();
            assert_eq!(r[0].samples.len(), 301);
            assert!(is_stale_nan(r[0].samples[300].v));
            assert_eq!(
                db.select(&[eq("__name__", "new")], 0, i64::MAX)
                    .unwrap()
                    .len(),
                1
            );
            db.close().unwrap();
            // New series ids keep increasing after reopen.
            db.append(&[(l("newer", "x"), Sample { t: 1, v: 1.0 })])
                .unwrap();
        }
        {
            let db = Tsdb::open(tmp.path(), opts()).unwrap();
            assert_eq!(db.stats().series, 7);
            assert_eq!(db.stats().samples, 1503);
            // close() left only the segment written after the snapshot.
            assert!(wal::list_segments(&wal::wal_dir(tmp.path())).unwrap().len() <= 3);
            db.close().unwrap();
        }
        let db = Tsdb::open(tmp.path(), opts()).unwrap();
        assert_eq!(db.open_report().wal_samples, 0);
        assert_eq!(db.stats().samples, 1503);
    }

    #[test]
    fn truncated_wal_tail_is_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        {
            let db = Tsdb::open(tmp.path(), opts()).unwrap();
            fill(&db, 2, 10, 1000);
        }
        let segs = wal::list_segments(&wal::wal_dir(tmp.path())).unwrap();
        let path = wal::wal_dir(tmp.path()).join(format!("{:08}", segs[0]));
        let len = std::fs::metadata(&path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len - 5).unwrap();
        drop(f);
        let db = Tsdb::open(tmp.path(), opts()).unwrap();
        let rep = db.open_report();
        assert_eq!(rep.damaged_segments, 1);
        // The last batch (2 samples) was torn away; everything before survives.
        assert_eq!(db.stats().samples, 18);
        fill_more(&db);
        drop(db);
        let db = Tsdb::open(tmp.path(), opts()).unwrap();
        assert_eq!(db.open_report().damaged_segments, 0);
        assert_eq!(db.stats().samples, 19);
    }

    fn fill_more(db: &Tsdb) {
        let st = db
            .append(&[(l("m", "j0"), Sample { t: 100_000, v: 1.0 })])
            .unwrap();
        assert_eq!(st.appended, 1);
    }

    #[test]
    fn background_thread_stops_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let o = TsdbOptions {
            snapshot_interval: Duration::from_millis(1),
            ..TsdbOptions::default()
        };
        let db = Tsdb::open(tmp.path(), o).unwrap();
        fill(&db, 2, 10, 1000);
        std::thread::sleep(Duration::from_millis(1300));
        assert!(snapshot::snapshot_path(tmp.path()).exists());
        drop(db);
        let db = Tsdb::open(tmp.path(), opts()).unwrap();
        assert_eq!(db.stats().samples, 20);
    }

    #[test]
    fn concurrent_appends_and_queries() {
        let db = Arc::new(Tsdb::in_memory(opts()));
        let mut hs = Vec::new();
        for w in 0..4 {
            let db = db.clone();
            hs.push(std::thread::spawn(move || {
                for i in 0..200i64 {
                    let batch: Vec<_> = (0..10)
                        .map(|s| (l("c", &format!("w{w}s{s}")), Sample { t: i, v: i as f64 }))
                        .collect();
                    db.append(&batch).unwrap();
                    let _ = db.select(&[eq("__name__", "c")], 0, i).unwrap();
                }
            }));
        }
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(db.stats().samples, 4 * 10 * 200);
    }
}
