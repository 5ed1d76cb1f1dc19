//! Bit-level writer and reader used by the chunk encoding (most significant bit first).

/// Appends bits to a byte buffer, most significant bit first.
#[derive(Debug, Clone, Default)]
pub struct BitWriter {
    buf: Vec<u8>,
    /// Free (unwritten) low bits in the last byte of `buf`; 0 when a new byte is needed.
    free: u8,
}

impl BitWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes one bit.
    #[inline]
    pub fn write_bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.buf.push(0);
            self.free = 8;
        }
        self.free -= 1;
        if bit {
            let last = self.buf.len() - 1;
            self.buf[last] |= 1 << self.free;
        }
    }

    /// Writes the low `n` bits of `v` (n <= 64), most significant first.
    #[inline]
    pub fn write_bits(&mut self, v: u64, mut n: u32) {
        debug_assert!(n <= 64);
        while n > 0 {
            if self.free == 0 {
                self.buf.push(0);
                self.free = 8;
            }
            let take = n.min(u32::from(self.free));
            let shift = n - take;
            let bits = ((v >> shift) & ((1u64 << take) - 1)) as u8;
            let last = self.buf.len() - 1;
            self.free -= take as u8;
            self.buf[last] |= bits << self.free;
            n -= take;
        }
    }

    /// The bytes written so far (the last one may be partly filled).
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Number of bits written.
    pub fn len_bits(&self) -> usize {
        self.buf.len() * 8 - usize::from(self.free)
    }

    /// Heap bytes held.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Releases spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }
}

/// Reads bits written by [`BitWriter`].
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        BitReader { buf, pos: 0 }
    }

    /// Reads one bit; `None` past the end.
    #[inline]
    pub fn read_bit(&mut self) -> Option<bool> {
        let byte = *self.buf.get(self.pos / 8)?;
        let bit = (byte >> (7 - (self.pos % 8))) & 1 == 1;
        self.pos += 1;
        Some(bit)
    }

    /// Reads `n` bits (n <= 64) into the low bits of the result; `None` past the end.
    #[inline]
    pub fn read_bits(&mut self, n: u32) -> Option<u64> {
        debug_assert!(n <= 64);
        if self.pos + n as usize > self.buf.len() * 8 {
            return None;
        }
        let mut v = 0u64;
        let mut n = n;
        while n > 0 {
            let byte = self.buf[self.pos / 8];
            let avail = 8 - (self.pos % 8) as u32;
            let take = n.min(avail);
            let bits = (u32::from(byte) >> (avail - take)) & ((1u32 << take) - 1);
            v = if take == 64 { 0 } else { v << take } | u64::from(bits);
            self.pos += take as usize;
            n -= take;
        }
        Some(v)
    }

    /// Bits consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_mixed_widths() {
        let mut w = BitWriter::new();
        let items: Vec<(u64, u32)> = (0..500u64)
            .map(|i| {
                let n = (i * 7 % 64 + 1) as u32;
                let v = i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    & if n == 64 { u64::MAX } else { (1 << n) - 1 };
                (v, n)
            })
            .collect();
        for &(v, n) in &items {
            w.write_bits(v, n);
            w.write_bit(v & 1 == 1);
        }
        let total: usize = items.iter().map(|&(_, n)| n as usize + 1).sum();
        assert_eq!(w.len_bits(), total);
        let mut r = BitReader::new(w.bytes());
        for &(v, n) in &items {
            assert_eq!(r.read_bits(n), Some(v));
            assert_eq!(r.read_bit(), Some(v & 1 == 1));
        }
        assert_eq!(r.position(), total);
    }

    #[test]
    fn reading_past_end_fails() {
        let mut w = BitWriter::new();
        w.write_bits(0b101, 3);
        let mut r = BitReader::new(w.bytes());
        assert_eq!(r.read_bits(3), Some(0b101));
        assert_eq!(r.read_bits(5), Some(0));
        assert_eq!(r.read_bit(), None);
        assert_eq!(r.read_bits(1), None);
    }
}
