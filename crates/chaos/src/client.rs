//! The control plane as experiments and analyses see it: faults, PromQL,
//! the topology and the load generator's counters, over HTTP.

use std::collections::BTreeMap;
use std::time::Duration;

use lab::topology::Topology;
use serde_json::Value;

use crate::ChaosError;
use crate::faults::InjectRequest;

#[derive(Clone)]
pub struct ControlPlane {
    base: String,
    token: String,
    http: reqwest::Client,
}

fn err(e: impl std::fmt::Display) -> ChaosError {
    ChaosError::Lab(e.to_string())
}

impl ControlPlane {
    pub fn new(base: &str, token: &str) -> ControlPlane {
        ControlPlane {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    async fn data(resp: reqwest::Response) -> Result<Value, ChaosError> {
        let status = resp.status();
        let v: Value = resp.json().await.map_err(err)?;
        if !status.is_success() || v["status"] == "error" {
            return Err(ChaosError::Lab(
                v["error"].as_str().unwrap_or("request failed").to_string(),
            ));
        }
        Ok(v["data"].clone())
    }

    pub async fn inject(&self, req: &InjectRequest) -> Result<Value, ChaosError> {
        let r = self
            .http
            .post(format!("{}/api/faults", self.base))
            .bearer_auth(&self.token)
            .json(req)
            .send()
            .await
            .map_err(err)?;
        Self::data(r).await
    }

    pub async fn clear(&self, id: &str) -> Result<(), ChaosError> {
        let r = self
            .http
            .delete(format!("{}/api/faults/{id}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(err)?;
        // Already expired is fine: the fault is gone either way.
        if r.status().is_success() || r.status() == reqwest::StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Self::data(r).await.map(|_| ())
        }
    }

    /// A lab operation (`POST /api/lab/<op>`), as a rollback.
    pub async fn lab_op(&self, op: &str, body: &Value) -> Result<Value, ChaosError> {
        let r = self
            .http
            .post(format!("{}/api/lab/{op}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .map_err(err)?;
        Self::data(r).await
    }

    /// Records an event in the lab's journal.
    pub async fn record(
        &self,
        kind: &str,
        subject: &str,
        attributes: Value,
    ) -> Result<(), ChaosError> {
        let r = self
            .http
            .post(format!("{}/api/events", self.base))
            .bearer_auth(&self.token)
            .json(&serde_json::json!({"kind": kind, "subject": subject, "attributes": attributes}))
            .send()
            .await
            .map_err(err)?;
        Self::data(r).await.map(|_| ())
    }

    /// One number from a PromQL query: the first series' value (NaN when
    /// the query returns nothing).
    pub async fn value(&self, expr: &str) -> Result<f64, ChaosError> {
        Ok(self
            .query(expr)
            .await?
            .first()
            .map(|(_, v)| *v)
            .unwrap_or(f64::NAN))
    }

    pub async fn topology(&self) -> Result<Topology, ChaosError> {
        let r = self
            .http
            .get(format!("{}/api/lab/topology", self.base))
            .send()
            .await
            .map_err(err)?;
        serde_json::from_value(Self::data(r).await?).map_err(err)
    }

    /// An instant PromQL query: one value per series (label text → value).
    pub async fn query(
        &self,
        expr: &str,
    ) -> Result<Vec<(BTreeMap<String, String>, f64)>, ChaosError> {
        let r = self
            .http
            .get(format!("{}/api/v1/query", self.base))
            .query(&[("query", expr)])
            .send()
            .await
            .map_err(err)?;
        let data = Self::data(r).await?;
        let mut out = Vec::new();
        match data["resultType"].as_str() {
            Some("scalar") => {
                if let Some(v) = data["result"][1].as_str().and_then(|s| s.parse().ok()) {
                    out.push((BTreeMap::new(), v));
                }
            }
            _ => {
                for s in data["result"].as_array().into_iter().flatten() {
                    let labels = serde_json::from_value(s["metric"].clone()).unwrap_or_default();
                    if let Some(v) = s["value"][1].as_str().and_then(|x| x.parse().ok()) {
                        out.push((labels, v));
                    }
                }
            }
        }
        Ok(out)
    }

    /// The load generator's counters: (metric, journey, outcome) → value.
    pub async fn journey_counters(
        &self,
    ) -> Result<BTreeMap<(String, String, String), f64>, ChaosError> {
        let text = self
            .http
            .get(format!("{}/loadgen/metrics", self.base))
            .send()
            .await
            .map_err(err)?
            .text()
            .await
            .map_err(err)?;
        Ok(parse_counters(&text))
    }
}

/// `loadgen_journeys_total` and `loadgen_journeys_degraded_total` samples.
pub fn parse_counters(text: &str) -> BTreeMap<(String, String, String), f64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (name, labels) = series.split_once('{').unwrap_or((series, ""));
        if name != "loadgen_journeys_total" && name != "loadgen_journeys_degraded_total" {
            continue;
        }
        let label = |k: &str| {
            labels
                .split(',')
                .find_map(|kv| kv.trim().strip_prefix(&format!("{k}=\"")))
                .and_then(|v| v.split('"').next())
                .unwrap_or("")
                .to_string()
        };
        if let Ok(v) = value.trim().parse::<f64>() {
            out.insert((name.to_string(), label("journey"), label("outcome")), v);
        }
    }
    out
}
