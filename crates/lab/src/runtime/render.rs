//! Response bodies: an HTML page with a section per downstream part (so a
//! missing optional part is visible, as a page without ads), or JSON.

use serde_json::{Map, Value, json};

use super::state::Instance;
use crate::topology::Endpoint;

/// One part of a response, from a downstream call or its static fallback.
#[derive(Debug, Clone)]
pub struct Part {
    pub service: String,
    pub content: String,
    pub fallback: bool,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Pads with filler up to `target` bytes of body.
fn pad(out: &mut String, target: usize, close: &str) {
    let want = target.saturating_sub(out.len() + close.len());
    out.extend(std::iter::repeat_n('.', want));
}

pub fn html(inst: &Instance, ep: &Endpoint, path: &str, parts: &[Part]) -> String {
    let mut out = String::with_capacity(ep.response_bytes.max(512));
    out.push_str("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>");
    out.push_str(&escape(&format!("{} · {}", inst.topology.name, path)));
    out.push_str("</title></head>\n<body>\n<header><h1>");
    out.push_str(&escape(&inst.topology.name));
    out.push_str("</h1><p>served by ");
    out.push_str(&escape(&format!("{} {}", inst.name, inst.version)));
    out.push_str("</p></header>\n");
    for p in parts {
        out.push_str(&format!(
            "<section class=\"{}\"{}>{}</section>\n",
            escape(&p.service),
            if p.fallback {
                " data-fallback=\"true\""
            } else {
                ""
            },
            escape(&p.content)
        ));
    }
    out.push_str("<!-- ");
    let close = " -->\n</body></html>\n";
    pad(&mut out, ep.response_bytes, close);
    out.push_str(close);
    out
}

pub fn json_body(
    inst: &Instance,
    ep: &Endpoint,
    path: &str,
    parts: &[Part],
    extra: Option<Value>,
) -> String {
    let mut data = Map::new();
    for p in parts {
        data.insert(
            p.service.clone(),
            json!({"content": p.content, "fallback": p.fallback}),
        );
    }
    let mut v = json!({
        "service": inst.service.name,
        "instance": inst.name,
        "version": inst.version,
        "path": path,
        "data": data,
    });
    if let (Some(extra), Some(obj)) = (extra, v.as_object_mut()) {
        obj.insert("result".into(), extra);
    }
    let base = v.to_string();
    let fill = ep.response_bytes.saturating_sub(base.len() + 14);
    if fill > 0
        && let Some(obj) = v.as_object_mut()
    {
        obj.insert("padding".into(), Value::String(".".repeat(fill)));
    }
    v.to_string()
}

/// A short summary of a downstream body for the caller's page.
pub fn summarize(service: &str, body: &[u8]) -> String {
    format!("{service}: {} bytes", body.len())
}
