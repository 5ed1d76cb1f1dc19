//! Talking to a running lab's control plane.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::cli::Cli;
use crate::datadir;

/// A client for the control plane of the lab in `--data-dir` (or `--url`).
pub struct LabClient {
    pub base: String,
    http: reqwest::Client,
    data_dir: std::path::PathBuf,
}

impl LabClient {
    pub fn new(cli: &Cli) -> LabClient {
        let base = cli
            .url
            .clone()
            .or_else(|| datadir::read_record(&cli.data_dir).map(|r| r.url))
            .unwrap_or_else(|| "http://127.0.0.1:9700".to_string());
        LabClient {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .unwrap_or_default(),
            data_dir: cli.data_dir.clone(),
        }
    }

    /// The chaos crate's view of the same control plane (faults, PromQL).
    pub fn control_plane(&self) -> Result<chaos::client::ControlPlane> {
        let token = datadir::read_token(&self.data_dir)?;
        Ok(chaos::client::ControlPlane::new(&self.base, &token))
    }

    fn unreachable(&self, e: reqwest::Error) -> anyhow::Error {
        anyhow!(
            "cannot reach the lab at {}: {e}\nIs it running? Start one with `firedrill up` (or pass --url / --data-dir).",
            self.base
        )
    }

    async fn decode(resp: reqwest::Response) -> Result<Value> {
        let status = resp.status();
        let body: Value = resp
            .json()
            .await
            .unwrap_or_else(|_| Value::String(format!("HTTP {status}")));
        if !status.is_success() || body.get("status").and_then(Value::as_str) == Some("error") {
            let reason = body
                .get("error")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| body.to_string());
            bail!("{reason}");
        }
        Ok(body.get("data").cloned().unwrap_or(body))
    }

    async fn send_get(&self, path: &str, query: &[(&str, String)]) -> Result<reqwest::Response> {
        self.http
            .get(format!("{}{path}", self.base))
            .query(query)
            .send()
            .await
            .map_err(|e| self.unreachable(e))
    }

    /// GET a path; returns the `data` of a success answer.
    pub async fn get(&self, path: &str) -> Result<Value> {
        Self::decode(self.send_get(path, &[]).await?).await
    }

    /// GET with query parameters.
    pub async fn get_query(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        Self::decode(self.send_get(path, query).await?).await
    }

    /// GET with query parameters, returning the body as text (calendars).
    pub async fn get_text(&self, path: &str, query: &[(&str, String)]) -> Result<String> {
        let resp = self.send_get(path, query).await?;
        if !resp.status().is_success() {
            return Self::decode(resp).await.map(|v| v.to_string());
        }
        Ok(resp.text().await?)
    }

    /// GET returning the whole JSON body (APIs without a status envelope).
    pub async fn get_raw(&self, path: &str) -> Result<Value> {
        Self::raw(self.send_get(path, &[]).await?).await
    }

    /// POST JSON, returning the whole body (Alertmanager-style APIs).
    pub async fn post_raw(&self, path: &str, body: Value) -> Result<Value> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        Self::raw(resp).await
    }

    /// DELETE a path.
    pub async fn delete(&self, path: &str) -> Result<Value> {
        let resp = self
            .http
            .delete(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        Self::raw(resp).await
    }

    async fn raw(resp: reqwest::Response) -> Result<Value> {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let msg = v["message"]
                .as_str()
                .or_else(|| v["error"].as_str())
                .map(str::to_string)
                .unwrap_or(text);
            bail!("HTTP {status}: {msg}");
        }
        Ok(v)
    }

    /// DELETE with the lab token; returns the `data` of a success answer.
    pub async fn delete_authed(&self, path: &str) -> Result<Value> {
        let token = datadir::read_token(&self.data_dir)?;
        let resp = self
            .http
            .delete(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        Self::decode(resp).await
    }

    /// POST JSON with the lab token.
    pub async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let token = datadir::read_token(&self.data_dir)?;
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        Self::decode(resp).await
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
