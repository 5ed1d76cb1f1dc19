//! The routing service: takes alerts (from our rules or `POST
//! /api/v2/alerts`), ticks the dispatcher, hands notifications to the
//! sender, and serves silences and alerts in Alertmanager's API v2 shapes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use chrono::Utc;
use serde_json::{Value, json};

use super::config::Config;
use super::dispatch::{Dispatcher, Notification};
use super::email::Email;
use super::integration::Integration;
use super::payload;
use super::silence::{Silence, Silences};
use crate::notify::{PageQuery, Sender};
use crate::rules::{AlertSink, OutgoingAlert};

/// Default routing of a lab: pages and tickets to their own (log-only)
/// receivers, grouped per alert and SLO.
pub const DEFAULT_CONFIG: &str = r#"
route:
  receiver: lab
  group_by: [alertname, sloth_slo, sloth_severity]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 1h
  routes:
    - matchers: ['severity="page"']
      receiver: pager
    - matchers: ['severity="ticket"']
      receiver: tickets
receivers:
  - name: lab
  - name: pager
  - name: tickets
inhibit_rules:
  - source_matchers: ['severity="page"']
    target_matchers: ['severity="ticket"']
    equal: [alertname, sloth_slo]
"#;

pub struct Router {
    dispatcher: Mutex<Dispatcher>,
    /// Integrations registered in code, by receiver name (the on-call pager).
    integrations: Mutex<std::collections::BTreeMap<String, Vec<Arc<dyn Integration>>>>,
    pub silences: Arc<Silences>,
    sender: Sender,
    external_url: String,
}

impl AlertSink for Router {
    fn send(&self, alerts: Vec<OutgoingAlert>) {
        self.dispatcher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .receive(alerts, Utc::now());
    }
}

impl Router {
    pub fn new(
        config: Config,
        silences: Arc<Silences>,
        sender: Sender,
        external_url: &str,
    ) -> Arc<Router> {
        Arc::new(Router {
            dispatcher: Mutex::new(Dispatcher::new(config)),
            integrations: Mutex::new(std::collections::BTreeMap::new()),
            silences,
            sender,
            external_url: external_url.to_string(),
        })
    }

    /// Adds an integration to a receiver (it need not be in the config file).
    pub fn register(&self, receiver: &str, integration: Arc<dyn Integration>) {
        self.integrations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(receiver.to_string())
            .or_default()
            .push(integration);
    }

    /// The notification sender (stored deliveries with retries), for other
    /// parts that notify people the same way (the on-call pager).
    pub fn sender(&self) -> Sender {
        self.sender.clone()
    }

    /// Sends one notification through every integration of its receiver.
    pub fn deliver(&self, n: &Notification) {
        let receiver = {
            let d = self.dispatcher.lock().unwrap_or_else(|e| e.into_inner());
            d.config()
                .receivers
                .get(&n.receiver)
                .cloned()
                .unwrap_or_default()
        };
        let resolved = n.status() == "resolved";
        let mut sent = 0;
        for w in &receiver.webhooks {
            if !resolved || w.send_resolved {
                self.sender.send(
                    &n.receiver,
                    "webhook",
                    &w.target(n, &self.external_url),
                    payload::webhook(n, &self.external_url, w.max_alerts),
                );
                sent += 1;
            }
        }
        for s in &receiver.slack {
            if !resolved || s.send_resolved {
                self.sender.send(
                    &n.receiver,
                    "slack",
                    &s.target(),
                    payload::slack_templated(n, s, &self.external_url),
                );
                sent += 1;
            }
        }
        for p in &receiver.pagerduty {
            if !resolved || p.send_resolved {
                self.sender.send(
                    &n.receiver,
                    "pagerduty",
                    &p.url,
                    payload::pagerduty(n, &p.key(), p.severity.as_deref(), &self.external_url),
                );
                sent += 1;
            }
        }
        let mut custom: Vec<Arc<dyn Integration>> = receiver
            .email
            .iter()
            .map(|e| Arc::new(Email(e.clone())) as Arc<dyn Integration>)
            .collect();
        custom.extend(
            self.integrations
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&n.receiver)
                .cloned()
                .unwrap_or_default(),
        );
        for integ in custom {
            if resolved && !integ.send_resolved() {
                continue;
            }
            let (i2, n2) = (integ.clone(), n.clone());
            let action: crate::notify::send::Action = Arc::new(move || i2.notify(&n2));
            self.sender.send_with(
                &n.receiver,
                integ.kind(),
                &integ.target(),
                payload::webhook(n, &self.external_url, 0),
                action,
            );
            sent += 1;
        }
        if sent == 0 {
            // A receiver without integrations: the notification is kept in
            // the log only (queued: this runs under the dispatcher lock).
            self.sender
                .record_only(&n.receiver, payload::webhook(n, &self.external_url, 0));
        }
    }

    /// One dispatcher tick at `now`; returns the notifications sent.
    pub fn tick(&self) -> Vec<Notification> {
        let ns = self
            .dispatcher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .tick(Utc::now(), &self.silences);
        for n in &ns {
            tracing::info!(receiver = %n.receiver, status = n.status(), alerts = n.alerts.len(), group = %n.group_key, "notification");
            self.deliver(n);
        }
        ns
    }

    /// Ticks every `every` until the task is dropped.
    pub async fn run(self: Arc<Self>, every: Duration) {
        let mut t = tokio::time::interval(every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            t.tick().await;
            self.tick();
            self.silences.prune(Utc::now());
        }
    }

    fn alerts_json(&self) -> Value {
        let now = Utc::now();
        let d = self.dispatcher.lock().unwrap_or_else(|e| e.into_inner());
        let list: Vec<Value> = d
            .alerts()
            .into_iter()
            .map(|(fp, a)| {
                let silenced: Vec<String> = self
                    .silences
                    .list()
                    .into_iter()
                    .filter(|s| s.mutes(&a.labels, now))
                    .map(|s| s.id)
                    .collect();
                let inhibited = d.is_inhibited(&a, now);
                let receivers: Vec<Value> = d
                    .receivers_for(&a.labels)
                    .into_iter()
                    .map(|name| json!({"name": name}))
                    .collect();
                let state = if a.resolved(now) {
                    "unprocessed"
                } else if !silenced.is_empty() || inhibited {
                    "suppressed"
                } else {
                    "active"
                };
                json!({
                    "labels": a.labels,
                    "annotations": a.annotations,
                    "startsAt": a.starts_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "endsAt": a.ends_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "generatorURL": a.generator_url,
                    "fingerprint": format!("{fp:016x}"),
                    "receivers": receivers,
                    "status": {"state": state, "silencedBy": silenced, "inhibitedBy": []},
                })
            })
            .collect();
        Value::Array(list)
    }

    /// Journals a silence change with the silence as it now is.
    async fn journal_silence(&self, kind: &str, id: &str, who: &str) -> Result<(), wire::ApiError> {
        let Some(events) = self.sender.events() else {
            return Ok(());
        };
        let now = Utc::now();
        let attrs = self
            .silences
            .list()
            .into_iter()
            .find(|s| s.id == id)
            .map(|s| s.to_json(now))
            .unwrap_or_default();
        events
            .append(wire::NewEvent::new(kind, who, id).attrs(attrs))
            .await?;
        Ok(())
    }

    /// A page of the notification log (`limit`, `before`: see
    /// [`PageQuery::parse`]), oldest first.
    async fn notifications(&self, q: &[(String, String)]) -> Result<Response, wire::ApiError> {
        let param = |name: &str| q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let page = PageQuery::parse(param("limit"), param("before"))
            .map_err(|e| wire::ApiError::bad_data(e.to_string()))?;
        let list = self
            .sender
            .log
            .page(page)
            .await
            .map_err(|e| wire::ApiError::unavailable(format!("notification log: {e}")))?;
        Ok(wire::success(list).into_response())
    }

    /// Alertmanager API v2: alerts (GET, POST) and silences; plus the notification log.
    pub fn api(self: Arc<Self>) -> axum::Router {
        type S = State<Arc<Router>>;
        async fn bad(msg: String) -> Response {
            (
                StatusCode::BAD_REQUEST,
                Json(json!({"code": 400, "message": msg})),
            )
                .into_response()
        }
        let resolve_timeout = self
            .dispatcher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .config()
            .resolve_timeout;
        let post_alerts = crate::receive::router_with_timeout(
            self.clone() as Arc<dyn AlertSink>,
            resolve_timeout,
        );
        axum::Router::new()
            .route(
                "/api/v2/alerts",
                get(|State(r): S| async move { Json(r.alerts_json()) }),
            )
            .route(
                "/api/v2/silences",
                get(|State(r): S| async move {
                    let now = Utc::now();
                    Json(Value::Array(
                        r.silences.list().iter().map(|s| s.to_json(now)).collect(),
                    ))
                })
                .post(
                    |State(r): S, who: wire::Principal, body: axum::body::Bytes| async move {
                        let s: Silence = match serde_json::from_slice(&body) {
                            Ok(s) => s,
                            Err(e) => return bad(format!("invalid silence: {e}")).await,
                        };
                        match r.silences.upsert(s, Utc::now()) {
                            Ok(id) => {
                                if let Err(e) =
                                    r.journal_silence("silence.created", &id, &who.name).await
                                {
                                    return e.into_response();
                                }
                                Json(json!({"silenceID": id})).into_response()
                            }
                            Err(e) => bad(e).await,
                        }
                    },
                ),
            )
            .route(
                "/api/v2/silence/{id}",
                delete(
                    |State(r): S, who: wire::Principal, Path(id): Path<String>| async move {
                        match r.silences.expire(&id, Utc::now()) {
                            Ok(()) => {
                                match r.journal_silence("silence.expired", &id, &who.name).await {
                                    Ok(()) => StatusCode::OK.into_response(),
                                    Err(e) => e.into_response(),
                                }
                            }
                            Err(e) => (
                                StatusCode::NOT_FOUND,
                                Json(json!({"code": 404, "message": e})),
                            )
                                .into_response(),
                        }
                    },
                )
                .get(|State(r): S, Path(id): Path<String>| async move {
                    match r.silences.list().into_iter().find(|s| s.id == id) {
                        Some(s) => Json(s.to_json(Utc::now())).into_response(),
                        None => (
                            StatusCode::NOT_FOUND,
                            Json(json!({"code": 404, "message": "silence not found"})),
                        )
                            .into_response(),
                    }
                }),
            )
            .route(
                "/api/lab/notifications",
                get(
                    |State(r): S, Query(q): Query<Vec<(String, String)>>| async move {
                        r.notifications(&q).await
                    },
                ),
            )
            .with_state(self)
            .merge(post_alerts)
    }
}
