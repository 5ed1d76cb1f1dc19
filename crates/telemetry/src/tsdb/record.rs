//! On-disk record framing shared by the WAL and the snapshot: each record is
//! `[len: u32 LE][crc32: u32 LE][kind: u8][payload]`, where `len` counts the
//! kind byte and the payload and the CRC-32 (IEEE) covers them. Also the
//! varint/label encoding helpers used inside payloads.

use crate::model::Labels;

/// Bytes before the kind byte.
pub const HEADER_LEN: usize = 8;
/// Upper bound on one record, to reject garbage lengths quickly.
pub const MAX_RECORD_LEN: usize = 1 << 30;

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static CRC_TABLE: [u32; 256] = crc_table();

/// CRC-32 (IEEE 802.3 polynomial, as zlib and `crc32fast` compute it).
pub fn crc32(data: &[u8]) -> u32 {
    crc32_update(0, data)
}

fn crc32_update(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in data {
        c = CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// Appends one framed record to `out`.
pub fn write_record(out: &mut Vec<u8>, kind: u8, payload: &[u8]) {
    let len = (payload.len() + 1) as u32;
    let crc = crc32_update(crc32(&[kind]), payload);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.push(kind);
    out.extend_from_slice(payload);
}

/// Reads framed records; stops at the first torn or corrupt one.
#[derive(Debug)]
pub struct RecordReader<'a> {
    buf: &'a [u8],
    pos: usize,
    damaged: bool,
}

impl<'a> RecordReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        RecordReader {
            buf,
            pos: 0,
            damaged: false,
        }
    }

    /// End offset of the last good record.
    pub fn valid_len(&self) -> usize {
        self.pos
    }

    /// Whether reading stopped before the end of the buffer (torn or corrupt tail).
    pub fn damaged(&self) -> bool {
        self.damaged
    }
}

impl<'a> Iterator for RecordReader<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        if self.damaged || self.pos >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        let ok = (|| {
            if rest.len() < HEADER_LEN + 1 {
                return None;
            }
            let len = u32::from_le_bytes(rest[0..4].try_into().ok()?) as usize;
            let crc = u32::from_le_bytes(rest[4..8].try_into().ok()?);
            if len == 0 || len > MAX_RECORD_LEN || rest.len() < HEADER_LEN + len {
                return None;
            }
            let body = &rest[HEADER_LEN..HEADER_LEN + len];
            if crc32(body) != crc {
                return None;
            }
            Some((body[0], &body[1..], HEADER_LEN + len))
        })();
        match ok {
            Some((kind, payload, n)) => {
                self.pos += n;
                Some((kind, payload))
            }
            None => {
                self.damaged = true;
                None
            }
        }
    }
}

/// Payload encoder.
#[derive(Debug, Default)]
pub struct Enc(pub Vec<u8>);

impl Enc {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    pub fn uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    pub fn varint(&mut self, v: i64) {
        self.uvarint(((v << 1) ^ (v >> 63)) as u64);
    }

    pub fn u64_le(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.uvarint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    pub fn labels(&mut self, l: &Labels) {
        self.uvarint(l.len() as u64);
        for l in l.iter() {
            self.bytes(l.name.as_bytes());
            self.bytes(l.value.as_bytes());
        }
    }
}

/// Payload decoder; every getter fails on truncated input.
#[derive(Debug)]
pub struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// Error for malformed payloads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed record: {0}")]
pub struct DecodeError(pub &'static str);

impl<'a> Dec<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Dec { buf, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn uvarint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or(DecodeError("truncated varint"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("varint too long"))
    }

    pub fn varint(&mut self) -> Result<i64, DecodeError> {
        let v = self.uvarint()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    pub fn u64_le(&mut self) -> Result<u64, DecodeError> {
        let b = self
            .buf
            .get(self.pos..self.pos + 8)
            .ok_or(DecodeError("truncated u64"))?;
        self.pos += 8;
        Ok(u64::from_le_bytes(
            b.try_into().map_err(|_| DecodeError("u64"))?,
        ))
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.uvarint()? as usize;
        let end = self.pos.checked_add(n).ok_or(DecodeError("length"))?;
        let b = self
            .buf
            .get(self.pos..end)
            .ok_or(DecodeError("truncated bytes"))?;
        self.pos = end;
        Ok(b)
    }

    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| DecodeError("invalid UTF-8"))
    }

    pub fn labels(&mut self) -> Result<Labels, DecodeError> {
        let n = self.uvarint()? as usize;
        let mut pairs = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let name = self.str()?;
            let value = self.str()?;
            pairs.push((name, value));
        }
        Ok(Labels::new(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_reference() {
        // The standard check value for CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn records_round_trip_and_torn_tail_is_ignored() {
        let mut buf = Vec::new();
        write_record(&mut buf, 1, b"hello");
        write_record(&mut buf, 2, b"");
        let good = buf.len();
        write_record(&mut buf, 3, b"world, a longer payload");
        for cut in good..buf.len() {
            let mut r = RecordReader::new(&buf[..cut]);
            let got: Vec<_> = (&mut r).collect();
            assert_eq!(got, vec![(1, &b"hello"[..]), (2, &b""[..])]);
            assert_eq!(r.valid_len(), good);
            assert_eq!(r.damaged(), cut > good);
        }
        let mut corrupt = buf.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 0x40;
        assert_eq!(RecordReader::new(&corrupt).count(), 2);
        assert_eq!(RecordReader::new(&buf).count(), 3);
    }

    #[test]
    fn payload_helpers_round_trip() {
        let mut e = Enc::new();
        e.uvarint(300);
        e.varint(-5);
        e.varint(i64::MIN);
        e.u64_le(0x7ff0_0000_0000_0002);
        let l = Labels::new([("__name__", "up"), ("job", "a\"b\n")]);
        e.labels(&l);
        let mut d = Dec::new(&e.0);
        assert_eq!(d.uvarint().unwrap(), 300);
        assert_eq!(d.varint().unwrap(), -5);
        assert_eq!(d.varint().unwrap(), i64::MIN);
        assert_eq!(d.u64_le().unwrap(), 0x7ff0_0000_0000_0002);
        assert_eq!(d.labels().unwrap(), l);
        assert!(d.is_empty());
        assert!(d.uvarint().is_err());
    }
}
