//! Talking to a running lab's control plane.

use anyhow::{Context, Result, anyhow};
use serde_json::Value;

use crate::cli::Cli;
use crate::datadir;

/// The control plane of the lab in `--data-dir` (or `--url`), through the
/// one client of `wire`. It sends `--token` (or `FIREDRILL_TOKEN`), else the
/// data dir's own token when this user can read it; a trainee passes their
/// own.
pub struct LabClient {
    pub base: String,
    client: wire::Client,
}

impl LabClient {
    pub fn new(cli: &Cli) -> LabClient {
        let base = cli
            .url
            .clone()
            .or_else(|| datadir::read_record(&cli.data_dir).map(|r| r.url))
            .unwrap_or_else(|| "http://127.0.0.1:9700".to_string());
        let token = cli
            .token
            .clone()
            .or_else(|| datadir::read_token(&cli.data_dir).ok());
        LabClient {
            client: wire::Client::new(&base, token)
                .with_header(wheel::record::COMMAND, &command_line())
                .with_header(wheel::record::INVOCATION, &invocation()),
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// The chaos crate's view of the same control plane (faults, PromQL).
    pub fn control_plane(&self) -> Result<chaos::client::ControlPlane> {
        let token = self.client.token().ok_or_else(|| {
            anyhow!("no token: pass --token or FIREDRILL_TOKEN, or run with the lab's --data-dir")
        })?;
        Ok(chaos::client::ControlPlane::new(&self.base, token))
    }

    /// GET a path; returns the `data` of a success answer (or the whole body
    /// of Alertmanager-style APIs, which have no envelope).
    pub async fn get(&self, path: &str) -> Result<Value> {
        Ok(self.client.get(path, &[]).await?)
    }

    /// GET with query parameters.
    pub async fn get_query(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        Ok(self.client.get(path, query).await?)
    }

    /// GET with query parameters, returning the body as text (calendars).
    pub async fn get_text(&self, path: &str, query: &[(&str, String)]) -> Result<String> {
        Ok(self.client.get_text(path, query).await?)
    }

    /// DELETE a path; the `data` of the answer (or the whole body of
    /// Alertmanager-style APIs, which have no envelope).
    pub async fn delete(&self, path: &str) -> Result<Value> {
        Ok(self.client.delete(path).await?)
    }

    /// POST JSON; returns the `data` of a success answer.
    pub async fn post(&self, path: &str, body: Value) -> Result<Value> {
        Ok(self.client.post(path, &body).await?)
    }

    /// POST a typed request; the typed `data` of the answer.
    pub async fn send<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        Ok(self.client.post(path, body).await?)
    }

    /// An instant PromQL query; the `result` array of a vector answer.
    pub async fn query(&self, expr: &str) -> Result<Vec<Value>> {
        let data = self
            .get_query("/api/v1/query", &[("query", expr.to_string())])
            .await
            .with_context(|| format!("query {expr}"))?;
        Ok(data
            .get("result")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }
}

/// This invocation's command line, as the journal's `command.run` shows
/// it to a wheel player's team: `firedrill` and the arguments, quoted where
/// needed, the value of `--token` left out.
pub fn command_line() -> String {
    redact(std::env::args().skip(1))
}

fn redact(args: impl Iterator<Item = String>) -> String {
    let mut out = vec!["firedrill".to_string()];
    let mut hide_next = false;
    for a in args {
        if hide_next {
            out.push("***".into());
            hide_next = false;
        } else if a == "--token" {
            out.push(a);
            hide_next = true;
        } else if a.starts_with("--token=") {
            out.push("--token=***".into());
        } else if a.is_empty()
            || a.contains(|c: char| c.is_whitespace() || "'\"$`\\|&;<>(){}*?".contains(c))
        {
            out.push(format!("'{}'", a.replace('\'', "'\\''")));
        } else {
            out.push(a);
        }
    }
    // A header value is visible ASCII: anything else is escaped.
    out.join(" ")
        .chars()
        .flat_map(|c| {
            let plain = c == ' ' || c.is_ascii_graphic();
            let text: Vec<char> = if plain {
                vec![c]
            } else {
                c.escape_unicode().collect()
            };
            text
        })
        .collect()
}

/// One id per process: every request of one command is recorded once.
fn invocation() -> String {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        format!("{}-{}", std::process::id(), t.as_nanos())
    })
    .clone()
}

/// Splits `SERVICE/N` into its parts.
pub fn split_target(target: &str) -> Result<(String, Option<u32>)> {
    match target.split_once('/') {
        None => Ok((target.to_string(), None)),
        Some((s, n)) => {
            let n: u32 = n.parse().map_err(|_| {
                anyhow!("{target:?}: expected SERVICE or SERVICE/N with N a number")
            })?;
            Ok((s.to_string(), Some(n)))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_lines_are_header_values() {
        let args = |a: &[&str]| {
            a.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .into_iter()
        };
        let line = super::redact(args(&["wheel", "answer", "café\n"]));
        assert_eq!(line, "firedrill wheel answer 'caf\\u{e9}\\u{a}'");
        assert!(reqwest::header::HeaderValue::from_str(&line).is_ok());
    }

    #[test]
    fn command_lines_are_quoted_and_tokens_hidden() {
        let args = |a: &[&str]| {
            a.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .into_iter()
        };
        assert_eq!(
            super::redact(args(&["query", "sum(rate(x[5m]))", "--token", "fd_secret"])),
            "firedrill query 'sum(rate(x[5m]))' --token ***"
        );
        assert_eq!(
            super::redact(args(&["--token=fd_x", "wheel", "answer", "it's"])),
            "firedrill --token=*** wheel answer 'it'\\''s'"
        );
    }
}
