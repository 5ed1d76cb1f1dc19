//! The control plane as experiments and analyses see it: faults, PromQL,
//! the topology and the load generator's counters, over HTTP.

use std::collections::BTreeMap;
use std::time::Duration;

use lab::topology::Topology;
use serde_json::Value;
use wire::ClientError;

use crate::ChaosError;
use crate::faults::InjectRequest;

/// The control plane over [`wire::Client`], with the instructor's token.
#[derive(Clone)]
pub struct ControlPlane {
    client: wire::Client,
}

fn err(e: ClientError) -> ChaosError {
    ChaosError::Lab(e.to_string())
}

impl ControlPlane {
    pub fn new(base: &str, token: &str) -> ControlPlane {
        ControlPlane {
            client: wire::Client::with_timeout(
                base,
                Some(token.to_string()),
                Duration::from_secs(10),
            ),
        }
    }

    pub async fn inject(&self, req: &InjectRequest) -> Result<Value, ChaosError> {
        self.client.post("/api/faults", req).await.map_err(err)
    }

    pub async fn clear(&self, id: &str) -> Result<(), ChaosError> {
        match self
            .client
            .delete::<Value>(&format!("/api/faults/{id}"))
            .await
        {
            Ok(_) => Ok(()),
            // Already expired is fine: the fault is gone either way.
            Err(e) if e.status() == Some(404) => Ok(()),
            Err(e) => Err(err(e)),
        }
    }

    /// A lab operation (`POST /api/lab/<op>`), as a rollback.
    pub async fn lab_op(&self, op: &str, body: &Value) -> Result<Value, ChaosError> {
        self.client
            .post(&format!("/api/lab/{op}"), body)
            .await
            .map_err(err)
    }

    /// Records an event in the lab's journal.
    pub async fn record(
        &self,
        kind: &str,
        subject: &str,
        attributes: Value,
    ) -> Result<(), ChaosError> {
        self.client
            .post::<_, Value>(
                "/api/events",
                &serde_json::json!({"kind": kind, "subject": subject, "attributes": attributes}),
            )
            .await
            .map(|_| ())
            .map_err(err)
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
        self.client.get("/api/lab/topology", &[]).await.map_err(err)
    }

    /// An instant PromQL query: one value per series (label text → value).
    pub async fn query(
        &self,
        expr: &str,
    ) -> Result<Vec<(BTreeMap<String, String>, f64)>, ChaosError> {
        let data: Value = self
            .client
            .get("/api/v1/query", &[("query", expr.to_string())])
            .await
            .map_err(err)?;
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
            .client
            .get_text("/loadgen/metrics", &[])
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
