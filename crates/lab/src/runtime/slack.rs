//! Slack's inbound formats: the Events API (JSON, with the `url_verification`
//! handshake) and slash commands (form-encoded), answered as Slack expects.

use std::collections::HashMap;

use serde_json::{Value, json};

/// What an Events API request asks for.
#[derive(Debug, PartialEq)]
pub enum EventRequest {
    /// Answer `{"challenge": ...}` at once.
    Challenge(String),
    /// An event to process (`event_callback`), with its event type.
    Event { event_type: String },
}

pub fn parse_event(body: &[u8]) -> Result<EventRequest, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    match v.get("type").and_then(Value::as_str) {
        Some("url_verification") => v
            .get("challenge")
            .and_then(Value::as_str)
            .map(|c| EventRequest::Challenge(c.to_string()))
            .ok_or_else(|| "url_verification without a string `challenge`".to_string()),
        Some("event_callback") => {
            let event_type = v
                .pointer("/event/type")
                .and_then(Value::as_str)
                .ok_or_else(|| "event_callback without `event.type`".to_string())?;
            Ok(EventRequest::Event {
                event_type: event_type.to_string(),
            })
        }
        Some(other) => Err(format!("unsupported Events API request type {other:?}")),
        None => Err("missing `type`".to_string()),
    }
}

/// A slash command's fields (`command`, `text`, `user_id`, ...).
pub fn parse_command(body: &[u8]) -> Result<HashMap<String, String>, String> {
    let fields: HashMap<String, String> =
        serde_urlencoded::from_bytes(body).map_err(|e| format!("body is not form-encoded: {e}"))?;
    match fields.get("command") {
        Some(c) if c.starts_with('/') && c.len() > 1 => Ok(fields),
        Some(c) => Err(format!("command {c:?} does not start with '/'")),
        None => Err("missing `command` field".to_string()),
    }
}

/// The message a slash command answers with.
pub fn command_reply(fields: &HashMap<String, String>, detail: &str) -> Value {
    let command = fields.get("command").map(String::as_str).unwrap_or("");
    let text = fields.get("text").map(String::as_str).unwrap_or("");
    json!({
        "response_type": "in_channel",
        "text": format!("{command} {text}: {detail}"),
        "blocks": [{
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("*{command}* {text}\n{detail}")}
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_verification_challenge() {
        let r = parse_event(br#"{"token":"x","challenge":"3eZbrw1aB","type":"url_verification"}"#);
        assert_eq!(r, Ok(EventRequest::Challenge("3eZbrw1aB".into())));
    }

    #[test]
    fn event_callback_and_errors() {
        let r = parse_event(br#"{"type":"event_callback","event":{"type":"message","text":"hi"}}"#);
        assert_eq!(
            r,
            Ok(EventRequest::Event {
                event_type: "message".into()
            })
        );
        assert!(parse_event(b"not json").is_err());
        assert!(parse_event(br#"{"type":"event_callback"}"#).is_err());
        assert!(parse_event(br#"{"type":"app_rate_limited"}"#).is_err());
    }

    #[test]
    fn slash_command_fields() {
        let f = parse_command(b"command=%2Fweather&text=berlin&user_id=U1").expect("parses");
        assert_eq!(f["command"], "/weather");
        assert_eq!(f["text"], "berlin");
        assert!(parse_command(b"text=x").is_err());
        assert!(parse_command(b"command=weather").is_err());
        let reply = command_reply(&f, "sunny");
        assert_eq!(reply["response_type"], "in_channel");
    }
}
