//! Gorilla-style compressed chunk: delta-of-delta timestamps and XOR-encoded
//! float values, the scheme Prometheus's `XORChunk` uses.
//!
//! Layout of the bit stream (the sample count is kept beside it, not in it):
//! * sample 0: timestamp as a zigzag varint (bytes), value as 64 raw bits;
//! * sample 1: timestamp delta as a varint, value XOR-encoded;
//! * sample n: delta of deltas in a variable-width bucket (`0`, `10`+14 bits,
//!   `110`+17, `1110`+20, `1111`+64), value XOR-encoded against the previous one.
//!
//! Values are handled as bit patterns, so every NaN (the staleness marker
//! included) round-trips bit-exactly.

use super::bits::{BitReader, BitWriter};
use crate::model::Sample;

/// A chunk is cut after this many samples.
pub const MAX_SAMPLES_PER_CHUNK: usize = 120;
/// A chunk is cut when a sample would make it span this many milliseconds.
pub const MAX_CHUNK_RANGE_MS: i64 = 2 * 3600 * 1000;

/// Error when decoding stored chunk bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt chunk: {0}")]
pub struct ChunkError(pub String);

/// An append-only compressed chunk of samples with increasing timestamps.
#[derive(Debug, Clone)]
pub struct Chunk {
    w: BitWriter,
    count: u16,
    min_t: i64,
    max_t: i64,
    // Encoder state.
    t_delta: i64,
    last_v: u64,
    leading: u8,
    trailing: u8,
}

impl Default for Chunk {
    fn default() -> Self {
        Self::new()
    }
}

impl Chunk {
    pub fn new() -> Self {
        Chunk {
            w: BitWriter::new(),
            count: 0,
            min_t: i64::MAX,
            max_t: i64::MIN,
            t_delta: 0,
            last_v: 0,
            leading: 0xff,
            trailing: 0,
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Timestamp of the first sample (`i64::MAX` when empty).
    pub fn min_t(&self) -> i64 {
        self.min_t
    }

    /// Timestamp of the last sample (`i64::MIN` when empty).
    pub fn max_t(&self) -> i64 {
        self.max_t
    }

    /// Whether a sample at `t` belongs in a new chunk (count or time span reached).
    pub fn is_full(&self, t: i64) -> bool {
        self.len() >= MAX_SAMPLES_PER_CHUNK
            || (self.count > 0 && t.saturating_sub(self.min_t) >= MAX_CHUNK_RANGE_MS)
    }

    /// The encoded bit stream.
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    /// Encoded size in bytes.
    pub fn size_bytes(&self) -> usize {
        self.w.bytes().len()
    }

    /// Heap plus inline bytes held by this chunk.
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.w.capacity()
    }

    /// Releases spare buffer capacity (for chunks that are complete).
    pub fn shrink_to_fit(&mut self) {
        self.w.shrink_to_fit();
    }

    /// Appends a sample. Timestamps must increase; returns false (and stores
    /// nothing) when `t` is not after the last sample or the chunk holds
    /// `u16::MAX` samples. Cutting at [`Chunk::is_full`] is the caller's job.
    pub fn append(&mut self, t: i64, v: f64) -> bool {
        if self.count == u16::MAX || (self.count > 0 && t <= self.max_t) {
            return false;
        }
        self.append_unchecked(t, v);
        true
    }

    fn append_unchecked(&mut self, t: i64, v: f64) {
        let vb = v.to_bits();
        match self.count {
            0 => {
                write_varint_bytes(&mut self.w, zigzag(t));
                self.w.write_bits(vb, 64);
                self.min_t = t;
                self.last_v = vb;
            }
            1 => {
                let delta = t.wrapping_sub(self.max_t);
                write_varint_bytes(&mut self.w, delta as u64);
                self.t_delta = delta;
                self.write_value(vb);
            }
            _ => {
                let delta = t.wrapping_sub(self.max_t);
                let dod = delta.wrapping_sub(self.t_delta);
                write_dod(&mut self.w, dod);
                self.t_delta = delta;
                self.write_value(vb);
            }
        }
        self.max_t = t;
        self.count += 1;
    }

    fn write_value(&mut self, vb: u64) {
        let delta = vb ^ self.last_v;
        self.last_v = vb;
        if delta == 0 {
            self.w.write_bit(false);
            return;
        }
        self.w.write_bit(true);
        let lead = (delta.leading_zeros() as u8).min(31);
        let trail = delta.trailing_zeros() as u8;
        if self.leading != 0xff && lead >= self.leading && trail >= self.trailing {
            self.w.write_bit(false);
            let sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
            self.w.write_bits(delta >> self.trailing, sig);
        } else {
            self.leading = lead;
            self.trailing = trail;
            self.w.write_bit(true);
            self.w.write_bits(u64::from(lead), 5);
            let sig = 64 - u32::from(lead) - u32::from(trail);
            // 64 significant bits are written as 0 (6 bits hold 0..=63).
            self.w.write_bits(u64::from(sig) & 0x3f, 6);
            self.w.write_bits(delta >> trail, sig);
        }
    }

    /// Iterates over the samples in time order.
    pub fn iter(&self) -> ChunkIter<'_> {
        ChunkIter::new(self.w.bytes(), self.count)
    }

    /// Rebuilds a chunk from stored bytes and sample count (as written by
    /// [`Chunk::bytes`]), verifying that it decodes.
    pub fn from_bytes(bytes: &[u8], count: u16) -> Result<Chunk, ChunkError> {
        let mut c = Chunk::new();
        let mut it = ChunkIter::new(bytes, count);
        for s in &mut it {
            if c.count > 0 && s.t <= c.max_t {
                return Err(ChunkError("timestamps not increasing".into()));
            }
            c.append_unchecked(s.t, s.v);
        }
        if c.count != count || it.failed {
            return Err(ChunkError(format!(
                "decoded {} of {count} samples",
                c.count
            )));
        }
        if c.bytes() != bytes {
            return Err(ChunkError("re-encoding differs".into()));
        }
        Ok(c)
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn write_varint_bytes(w: &mut BitWriter, mut v: u64) {
    while v >= 0x80 {
        w.write_bits((v & 0x7f) | 0x80, 8);
        v >>= 7;
    }
    w.write_bits(v, 8);
}

fn read_varint_bytes(r: &mut BitReader<'_>) -> Option<u64> {
    let mut v = 0u64;
    for i in 0..10 {
        let b = r.read_bits(8)?;
        v |= (b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Whether `x` fits the `nbits` bucket: -(2^(n-1)-1) ..= 2^(n-1).
fn bit_range(x: i64, nbits: u32) -> bool {
    -((1i64 << (nbits - 1)) - 1) <= x && x <= 1i64 << (nbits - 1)
}

fn write_dod(w: &mut BitWriter, dod: i64) {
    if dod == 0 {
        w.write_bit(false);
    } else if bit_range(dod, 14) {
        w.write_bits(0b10, 2);
        w.write_bits(dod as u64, 14);
    } else if bit_range(dod, 17) {
        w.write_bits(0b110, 3);
        w.write_bits(dod as u64, 17);
    } else if bit_range(dod, 20) {
        w.write_bits(0b1110, 4);
        w.write_bits(dod as u64, 20);
    } else {
        w.write_bits(0b1111, 4);
        w.write_bits(dod as u64, 64);
    }
}

fn read_dod(r: &mut BitReader<'_>) -> Option<i64> {
    let mut ones = 0;
    while ones < 4 {
        if !r.read_bit()? {
            break;
        }
        ones += 1;
    }
    let sz: u32 = match ones {
        0 => return Some(0),
        1 => 14,
        2 => 17,
        3 => 20,
        _ => 64,
    };
    let bits = r.read_bits(sz)?;
    if sz == 64 {
        return Some(bits as i64);
    }
    if bits > 1u64 << (sz - 1) {
        Some(bits as i64 - (1i64 << sz))
    } else {
        Some(bits as i64)
    }
}

/// Iterator over a chunk's samples.
#[derive(Debug, Clone)]
pub struct ChunkIter<'a> {
    r: BitReader<'a>,
    total: u16,
    read: u16,
    t: i64,
    t_delta: i64,
    v: u64,
    leading: u32,
    trailing: u32,
    failed: bool,
}

impl<'a> ChunkIter<'a> {
    fn new(bytes: &'a [u8], count: u16) -> Self {
        ChunkIter {
            r: BitReader::new(bytes),
            total: count,
            read: 0,
            t: 0,
            t_delta: 0,
            v: 0,
            leading: 0,
            trailing: 0,
            failed: false,
        }
    }

    fn step(&mut self) -> Option<Sample> {
        match self.read {
            0 => {
                self.t = unzigzag(read_varint_bytes(&mut self.r)?);
                self.v = self.r.read_bits(64)?;
            }
            1 => {
                self.t_delta = read_varint_bytes(&mut self.r)? as i64;
                self.t = self.t.wrapping_add(self.t_delta);
                self.read_value()?;
            }
            _ => {
                let dod = read_dod(&mut self.r)?;
                self.t_delta = self.t_delta.wrapping_add(dod);
                self.t = self.t.wrapping_add(self.t_delta);
                self.read_value()?;
            }
        }
        self.read += 1;
        Some(Sample {
            t: self.t,
            v: f64::from_bits(self.v),
        })
    }

    fn read_value(&mut self) -> Option<()> {
        if !self.r.read_bit()? {
            return Some(());
        }
        if self.r.read_bit()? {
            self.leading = self.r.read_bits(5)? as u32;
            let mut sig = self.r.read_bits(6)? as u32;
            if sig == 0 {
                sig = 64;
            }
            if self.leading + sig > 64 {
                return None;
            }
            self.trailing = 64 - self.leading - sig;
        }
        let sig = 64 - self.leading - self.trailing;
        let bits = self.r.read_bits(sig)?;
        self.v ^= bits << self.trailing;
        Some(())
    }
}

impl Iterator for ChunkIter<'_> {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        if self.read >= self.total || self.failed {
            return None;
        }
        let s = self.step();
        if s.is_none() {
            self.failed = true;
        }
        s
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.total - self.read);
        (0, Some(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{is_stale_nan, stale_nan};

    /// Small deterministic PRNG (xorshift64*), enough for property-style tests.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn encode(samples: &[Sample]) -> Chunk {
        let mut c = Chunk::new();
        for s in samples {
            assert!(c.append(s.t, s.v), "append {s:?}");
        }
        c
    }

    fn assert_round_trip(samples: &[Sample]) -> Chunk {
        let c = encode(samples);
        let got: Vec<Sample> = c.iter().collect();
        assert_eq!(got.len(), samples.len());
        for (a, b) in got.iter().zip(samples) {
            assert_eq!(a.t, b.t);
            assert_eq!(a.v.to_bits(), b.v.to_bits(), "value bits at t={}", a.t);
        }
        let again = Chunk::from_bytes(c.bytes(), c.len() as u16).expect("from_bytes");
        assert_eq!(again.iter().count(), samples.len());
        c
    }

    #[test]
    fn empty_chunk() {
        let c = Chunk::new();
        assert!(c.is_empty());
        assert_eq!(c.iter().count(), 0);
        assert!(!c.is_full(0));
    }

    #[test]
    fn stale_nan_and_specials_round_trip() {
        let vals = [
            1.0,
            stale_nan(),
            f64::NAN,
            stale_nan(),
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            stale_nan(),
            42.5,
        ];
        let samples: Vec<Sample> = vals
            .iter()
            .enumerate()
            .map(|(i, &v)| Sample {
                t: 1_700_000_000_000 + i as i64 * 15_000,
                v,
            })
            .collect();
        let c = assert_round_trip(&samples);
        let got: Vec<Sample> = c.iter().collect();
        assert!(is_stale_nan(got[1].v));
        assert!(!is_stale_nan(got[2].v) && got[2].v.is_nan());
    }

    #[test]
    fn out_of_order_rejected() {
        let mut c = Chunk::new();
        assert!(c.append(10, 1.0));
        assert!(!c.append(10, 2.0));
        assert!(!c.append(5, 2.0));
        assert!(c.append(11, 2.0));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn full_by_count_and_range() {
        let mut c = Chunk::new();
        for i in 0..MAX_SAMPLES_PER_CHUNK as i64 {
            assert!(!c.is_full(i * 1000));
            c.append(i * 1000, i as f64);
        }
        assert!(c.is_full(10_000_000));
        let mut c = Chunk::new();
        c.append(0, 1.0);
        assert!(!c.is_full(MAX_CHUNK_RANGE_MS - 1));
        assert!(c.is_full(MAX_CHUNK_RANGE_MS));
    }

    #[test]
    fn randomized_round_trips() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for case in 0..400 {
            let n = 1 + rng.below(300) as usize;
            let mut t = (rng.next() as i64) >> (rng.below(40) + 1);
            let mut samples = Vec::with_capacity(n);
            let kind = case % 5;
            let mut v = (rng.below(1000)) as f64;
            for _ in 0..n {
                samples.push(Sample { t, v });
                // Timestamp steps: regular, jittered, or wild.
                let step = match rng.below(4) {
                    0 => 15_000,
                    1 => 15_000 + rng.below(2000) as i64 - 1000,
                    2 => 1 + rng.below(1 << 20) as i64,
                    _ => 1 + (rng.next() >> (rng.below(30) + 20)) as i64,
                };
                t = match t.checked_add(step) {
                    Some(x) => x,
                    None => break,
                };
                v = match kind {
                    0 => v + rng.below(10) as f64,
                    1 => f64::from_bits(rng.next()),
                    2 => v + (rng.below(2001) as f64 - 1000.0) / 1000.0,
                    3 => [0.0, 1.0, stale_nan(), f64::NAN, f64::INFINITY][rng.below(5) as usize],
                    _ => (rng.next() % 1_000_000) as f64 * 0.001,
                };
            }
            assert_round_trip(&samples);
        }
    }

    #[test]
    fn extreme_timestamps_round_trip() {
        let samples = vec![
            Sample {
                t: i64::MIN,
                v: 1.0,
            },
            Sample { t: -1, v: 2.0 },
            Sample { t: 0, v: 3.0 },
            Sample {
                t: i64::MAX - 1,
                v: 4.0,
            },
            Sample {
                t: i64::MAX,
                v: 5.0,
            },
        ];
        let mut c = Chunk::new();
        for s in &samples {
            c.append(s.t, s.v);
        }
        let got: Vec<Sample> = c.iter().collect();
        assert_eq!(got, samples);
    }

    #[test]
    fn corrupt_bytes_are_rejected() {
        let samples: Vec<Sample> = (0..50)
            .map(|i| Sample {
                t: i * 15_000,
                v: i as f64 * 1.5,
            })
            .collect();
        let c = encode(&samples);
        let bytes = c.bytes();
        assert!(Chunk::from_bytes(&bytes[..bytes.len() / 2], 50).is_err());
        assert!(Chunk::from_bytes(bytes, 60).is_err());
    }

    #[test]
    fn bytes_per_sample_figures() {
        let mut rng = Rng(99);
        // A counter scraped every 15s with a little jitter.
        let mut counter = Vec::new();
        let mut v = 1000.0;
        for i in 0..120 {
            counter.push(Sample {
                t: 1_700_000_000_000 + i * 15_000 + rng.below(3) as i64,
                v,
            });
            v += rng.below(20) as f64;
        }
        // A gauge with noise in the low digits.
        let mut gauge = Vec::new();
        for i in 0..120 {
            gauge.push(Sample {
                t: 1_700_000_000_000 + i * 15_000,
                v: 0.25 + rng.below(1000) as f64 / 100_000.0,
            });
        }
        // A constant (e.g. `up`).
        let constant: Vec<Sample> = (0..120)
            .map(|i| Sample {
                t: 1_700_000_000_000 + i * 15_000,
                v: 1.0,
            })
            .collect();
        let bps = |s: &[Sample]| assert_round_trip(s).size_bytes() as f64 / s.len() as f64;
        let (c, g, k) = (bps(&counter), bps(&gauge), bps(&constant));
        println!("bytes/sample: counter {c:.2}, noisy gauge {g:.2}, constant {k:.2}");
        assert!(k < 0.5, "constant {k}");
        assert!(c < 4.0, "counter {c}");
        assert!(g < 8.0, "gauge {g}");
    }
}
