//! The instance's JSON-lines request log (`logs/SERVICE-N.jsonl` in the data
//! dir): one line per request served or call failed, each with its trace id.

use std::fs::{File, OpenOptions};
use std::io::{LineWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use serde_json::{Map, Value};

#[derive(Debug)]
pub struct RequestLog {
    out: Mutex<LineWriter<File>>,
    service: String,
    instance: String,
}

impl RequestLog {
    pub fn open(dir: &Path, service: &str, index: u32) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("{service}-{index}.jsonl")))?;
        Ok(RequestLog {
            out: Mutex::new(LineWriter::new(file)),
            service: service.to_string(),
            instance: format!("{service}/{index}"),
        })
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
        if let Err(e) = out.write_all(line.as_bytes()) {
            tracing::warn!(error = %e, "could not write the request log");
        }
    }
}
