//! One HTTP client of the control plane, for the CLI, experiments and
//! drills: sends the token, decodes the success envelope into typed answers
//! and error answers into [`ClientError::Api`].

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ErrorBody, ErrorType};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "cannot reach the lab at {base}: {reason}\nIs it running? Start one with `firedrill up` (or pass --url / --data-dir)."
    )]
    Unreachable { base: String, reason: String },
    /// The control plane answered with an error.
    #[error("{message}")]
    Api {
        status: u16,
        error_type: ErrorType,
        message: String,
    },
    #[error("unexpected answer from {path}: {reason}")]
    Decode { path: String, reason: String },
}

impl ClientError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
    /// Sent with every request (the CLI's `x-firedrill-command`).
    headers: Vec<(String, String)>,
}

impl Client {
    pub fn new(base: &str, token: Option<String>) -> Client {
        Client::with_timeout(base, token, std::time::Duration::from_secs(120))
    }

    pub fn with_timeout(base: &str, token: Option<String>, timeout: std::time::Duration) -> Client {
        Client {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .unwrap_or_default(),
            token,
            headers: Vec::new(),
        }
    }

    /// Sends `name: value` with every request. A value that is not a valid
    /// header value (control characters) is left out.
    pub fn with_header(mut self, name: &str, value: &str) -> Client {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_ok()
            && reqwest::header::HeaderValue::from_str(value).is_ok()
        {
            self.headers.push((name.to_string(), value.to_string()));
        }
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        for (name, value) in &self.headers {
            r = r.header(name.as_str(), value.as_str());
        }
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, ClientError> {
        req.send().await.map_err(|e| ClientError::Unreachable {
            base: self.base.clone(),
            reason: e.to_string(),
        })
    }

    /// The whole body of an answer as JSON; error answers become errors.
    async fn body(path: &str, resp: reqwest::Response) -> Result<serde_json::Value, ClientError> {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        let is_error = v.get("status").and_then(|s| s.as_str()) == Some("error");
        if !status.is_success() || is_error {
            if let Ok(b) = serde_json::from_value::<ErrorBody>(v.clone()) {
                return Err(ClientError::Api {
                    status: status.as_u16(),
                    error_type: b.error_type,
                    message: b.error,
                });
            }
            // Alertmanager's API answers `{"message": …}` or plain text.
            let message = v
                .get("message")
                .or_else(|| v.get("error"))
                .and_then(|m| m.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| {
                    if text.trim().is_empty() {
                        format!("HTTP {status} from {path}")
                    } else {
                        text.trim().to_string()
                    }
                });
            return Err(ClientError::Api {
                status: status.as_u16(),
                error_type: ErrorType::from_status(status.as_u16()),
                message,
            });
        }
        Ok(v)
    }

    fn data<T: DeserializeOwned>(path: &str, v: serde_json::Value) -> Result<T, ClientError> {
        let data = match v {
            serde_json::Value::Object(mut m)
                if m.contains_key("data") && m.contains_key("status") =>
            {
                m.remove("data").unwrap_or_default()
            }
            other => other,
        };
        serde_json::from_value(data).map_err(|e| ClientError::Decode {
            path: path.to_string(),
            reason: e.to_string(),
        })
    }

    /// GET `path` with query parameters; the `data` of the answer.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ClientError> {
        let resp = self
            .send(self.request(reqwest::Method::GET, path).query(query))
            .await?;
        Self::data(path, Self::body(path, resp).await?)
    }

    /// GET a text answer (calendars, exposition).
    pub async fn get_text(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<String, ClientError> {
        let resp = self
            .send(self.request(reqwest::Method::GET, path).query(query))
            .await?;
        if !resp.status().is_success() {
            return Self::body(path, resp).await.map(|v| v.to_string());
        }
        resp.text().await.map_err(|e| ClientError::Decode {
            path: path.into(),
            reason: e.to_string(),
        })
    }

    /// POST JSON; the `data` of the answer.
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let resp = self
            .send(self.request(reqwest::Method::POST, path).json(body))
            .await?;
        Self::data(path, Self::body(path, resp).await?)
    }

    /// DELETE; the `data` of the answer (or the whole body).
    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let resp = self
            .send(self.request(reqwest::Method::DELETE, path))
            .await?;
        Self::data(path, Self::body(path, resp).await?)
    }
}
