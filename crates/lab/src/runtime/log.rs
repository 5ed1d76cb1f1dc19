//! The instance's JSON-lines request log (`logs/SERVICE-N.jsonl` in the data
//! dir): one line per request served or call failed, each with its trace id.
//! It rotates: past [`MAX_BYTES`] the file becomes `SERVICE-N.jsonl.1`
//! (replacing the previous one) and a new file starts, so a long run keeps
//! at most twice that per instance.

use std::fs::{File, OpenOptions};
use std::io::{LineWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Map, Value};

/// Size at which the log rotates.
pub const MAX_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug)]
struct Out {
    file: LineWriter<File>,
    written: u64,
}

#[derive(Debug)]
pub struct RequestLog {
    out: Mutex<Out>,
    path: PathBuf,
    max_bytes: u64,
    service: String,
    instance: String,
}

fn open_append(path: &Path) -> std::io::Result<(LineWriter<File>, u64)> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((LineWriter::new(file), len))
}

impl RequestLog {
    pub fn open(dir: &Path, service: &str, index: u32) -> std::io::Result<Self> {
        Self::open_with_limit(dir, service, index, MAX_BYTES)
    }

    /// As [`RequestLog::open`], rotating at `max_bytes`.
    pub fn open_with_limit(
        dir: &Path,
        service: &str,
        index: u32,
        max_bytes: u64,
    ) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{service}-{index}.jsonl"));
        let (file, written) = open_append(&path)?;
        Ok(RequestLog {
            out: Mutex::new(Out { file, written }),
            path,
            max_bytes,
            service: service.to_string(),
            instance: format!("{service}/{index}"),
        })
    }

    /// Moves the full file aside and starts a new one.
    fn rotate(&self, out: &mut Out) -> std::io::Result<()> {
        out.file.flush()?;
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        std::fs::rename(&self.path, old)?;
        let (file, written) = open_append(&self.path)?;
        *out = Out { file, written };
        Ok(())
    }

    /// Writes one line: time, level, service, instance, msg, trace_id, then `fields`.
    pub fn write(&self, level: &str, msg: &str, trace_id: &str, fields: &[(&str, Value)]) {
        let mut m = Map::new();
        m.insert(
            "time".into(),
            Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        );
        m.insert("level".into(), Value::String(level.into()));
        m.insert("service".into(), Value::String(self.service.clone()));
        m.insert("instance".into(), Value::String(self.instance.clone()));
        m.insert("msg".into(), Value::String(msg.into()));
        m.insert("trace_id".into(), Value::String(trace_id.into()));
        for (k, v) in fields {
            m.insert((*k).to_string(), v.clone());
        }
        let mut line = Value::Object(m).to_string();
        line.push('\n');
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if out.written + line.len() as u64 > self.max_bytes
            && out.written > 0
            && let Err(e) = self.rotate(&mut out)
        {
            tracing::warn!(error = %e, "could not rotate the request log");
        }
        match out.file.write_all(line.as_bytes()) {
            Ok(()) => out.written += line.len() as u64,
            Err(e) => tracing::warn!(error = %e, "could not write the request log"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_past_its_limit_and_keeps_one_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let log = RequestLog::open_with_limit(dir.path(), "cart", 0, 2000).unwrap();
        for i in 0..200 {
            log.write("info", "served", "abc", &[("n", Value::from(i))]);
        }
        let cur = dir.path().join("cart-0.jsonl");
        let old = dir.path().join("cart-0.jsonl.1");
        let size = |p: &Path| std::fs::metadata(p).unwrap().len();
        assert!(size(&cur) <= 2000, "{}", size(&cur));
        assert!(size(&old) <= 2000 && size(&old) > 1000, "{}", size(&old));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        // The newest line is in the current file, whole.
        let text = std::fs::read_to_string(&cur).unwrap();
        let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["n"], 199);
        // Reopening continues counting from the file's size.
        drop(log);
        let log = RequestLog::open_with_limit(dir.path(), "cart", 0, 2000).unwrap();
        log.write("info", "again", "abc", &[]);
        assert!(size(&cur) <= 2000);
    }
}
