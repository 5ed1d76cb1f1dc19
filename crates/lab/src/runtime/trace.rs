//! W3C Trace Context: `traceparent` parsing and propagation, and the ring of
//! recent spans an instance keeps so a trace can be fetched by id.

use std::collections::VecDeque;
use std::sync::Mutex;

use rand::RngExt;
use serde::Serialize;

/// The trace context of the request being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: String,
    /// The caller's span, if the request carried a `traceparent`.
    pub parent_span_id: Option<String>,
    /// This request's (server) span.
    pub span_id: String,
    pub sampled: bool,
}

fn hex_id(bytes: usize) -> String {
    let mut rng = rand::rng();
    loop {
        let s: String = (0..bytes)
            .map(|_| format!("{:02x}", rng.random::<u8>()))
            .collect();
        // All-zero ids are invalid in W3C Trace Context.
        if s.bytes().any(|b| b != b'0') {
            return s;
        }
    }
}

pub fn new_span_id() -> String {
    hex_id(8)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && s.bytes().any(|b| b != b'0')
}

impl TraceContext {
    /// Continues the trace of an incoming `traceparent`, or starts a new one
    /// when it is absent or malformed (as the spec says to).
    pub fn from_header(header: Option<&str>) -> Self {
        if let Some(h) = header {
            let parts: Vec<&str> = h.trim().split('-').collect();
            if parts.len() >= 4
                && parts[0].len() == 2
                && parts[0] != "ff"
                && is_hex(parts[1], 32)
                && is_hex(parts[2], 16)
                && parts[3].len() == 2
            {
                let flags = u8::from_str_radix(parts[3], 16).unwrap_or(0);
                return TraceContext {
                    trace_id: parts[1].to_string(),
                    parent_span_id: Some(parts[2].to_string()),
                    span_id: new_span_id(),
                    sampled: flags & 1 == 1,
                };
            }
        }
        TraceContext {
            trace_id: hex_id(16),
            parent_span_id: None,
            span_id: new_span_id(),
            sampled: true,
        }
    }

    /// The `traceparent` to send on a downstream call made from span `span_id`.
    pub fn header_for(&self, span_id: &str) -> String {
        format!(
            "00-{}-{}-{}",
            self.trace_id,
            span_id,
            if self.sampled { "01" } else { "00" }
        )
    }
}

/// One finished span.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    /// `server` for a request served, `client` for a downstream call.
    pub kind: &'static str,
    pub service: String,
    pub instance: String,
    pub name: String,
    /// Start, microseconds since the Unix epoch.
    pub start: i64,
    pub duration_ms: f64,
    /// HTTP status, or 0 when no response arrived.
    pub status: u16,
    pub error: Option<String>,
}

/// The most recent spans of this instance, oldest dropped first.
#[derive(Debug)]
pub struct SpanStore {
    spans: Mutex<VecDeque<Span>>,
    capacity: usize,
}

impl SpanStore {
    pub fn new(capacity: usize) -> Self {
        SpanStore {
            spans: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
            capacity,
        }
    }

    pub fn record(&self, span: Span) {
        let mut s = self.spans.lock().unwrap_or_else(|e| e.into_inner());
        if s.len() >= self.capacity {
            s.pop_front();
        }
        s.push_back(span);
    }

    pub fn trace(&self, trace_id: &str) -> Vec<Span> {
        let s = self.spans.lock().unwrap_or_else(|e| e.into_inner());
        s.iter()
            .filter(|sp| sp.trace_id == trace_id)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continues_a_valid_traceparent() {
        let h = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let c = TraceContext::from_header(Some(h));
        assert_eq!(c.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(c.parent_span_id.as_deref(), Some("00f067aa0ba902b7"));
        assert_ne!(c.span_id, "00f067aa0ba902b7");
        let down = c.header_for("1111111111111111");
        assert_eq!(
            down,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01"
        );
    }

    #[test]
    fn restarts_on_malformed_headers() {
        for bad in [
            "garbage",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ] {
            let c = TraceContext::from_header(Some(bad));
            assert!(c.parent_span_id.is_none(), "{bad}");
            assert_eq!(c.trace_id.len(), 32);
        }
    }

    #[test]
    fn ring_keeps_the_latest() {
        let store = SpanStore::new(2);
        for i in 0..3 {
            store.record(Span {
                trace_id: format!("t{}", i % 2),
                span_id: i.to_string(),
                parent_span_id: None,
                kind: "server",
                service: "s".into(),
                instance: "s/0".into(),
                name: "GET /".into(),
                start: i,
                duration_ms: 1.0,
                status: 200,
                error: None,
            });
        }
        assert_eq!(store.trace("t0").len(), 1);
        assert_eq!(store.trace("t0")[0].span_id, "2");
        assert_eq!(store.trace("t1").len(), 1);
    }
}
