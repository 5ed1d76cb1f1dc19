//! The one interface through which every component appends to the event
//! journal: supervisor, rule manager, alert router, silences, notification
//! sender, fault controller, on call, drills. The component awaits the
//! append at the moment of the change, so that when an API call returns,
//! its event is stored.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A stored event, in DESIGN.md's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: i64,
    pub time: DateTime<Utc>,
    /// Dotted kind, listed in [`crate::kinds::KINDS`].
    pub kind: String,
    /// Who made the change: a component (`supervisor`, `rules`) or a person.
    pub source: String,
    /// What it is about: `cart`, `cart/1`, an alert name, a page id.
    pub subject: String,
    pub attributes: serde_json::Value,
}

/// An event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// When it happened; now when `None`.
    pub time: Option<DateTime<Utc>>,
    pub kind: String,
    pub source: String,
    pub subject: String,
    pub attributes: serde_json::Value,
}

impl NewEvent {
    pub fn new(kind: &str, source: &str, subject: &str) -> NewEvent {
        NewEvent {
            time: None,
            kind: kind.into(),
            source: source.into(),
            subject: subject.into(),
            attributes: serde_json::Value::Object(Default::default()),
        }
    }

    /// Adds an attribute.
    pub fn attr(mut self, key: &str, value: impl Into<serde_json::Value>) -> NewEvent {
        if let serde_json::Value::Object(m) = &mut self.attributes {
            m.insert(key.into(), value.into());
        }
        self
    }

    /// Replaces all attributes.
    pub fn attrs(mut self, attributes: serde_json::Value) -> NewEvent {
        self.attributes = attributes;
        self
    }

    /// Stamps the event with its own time (components with their own clock).
    pub fn at(mut self, time: DateTime<Utc>) -> NewEvent {
        self.time = Some(time);
        self
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("the journal could not store a {kind} event: {reason}")]
pub struct SinkError {
    pub kind: String,
    pub reason: String,
}

/// Where events go. Implemented by the store's journal; [`MemorySink`] for
/// tests and for tools without a database.
pub trait EventSink: Send + Sync {
    /// Appends `event`; when the future resolves to `Ok`, it is stored.
    fn append(&self, event: NewEvent) -> BoxFuture<'_, Result<Event, SinkError>>;
}

/// Appends and logs a failure instead of returning it: for changes no caller
/// waits on (a crash noticed by the supervisor, a timer firing).
pub async fn append_or_log(sink: &dyn EventSink, event: NewEvent) {
    let kind = event.kind.clone();
    if let Err(e) = sink.append(event).await {
        tracing::error!(error = %e, %kind, "an event could not be journaled");
    }
}

/// Events kept in memory, in order.
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<Event>>,
}

impl MemorySink {
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl EventSink for MemorySink {
    fn append(&self, e: NewEvent) -> BoxFuture<'_, Result<Event, SinkError>> {
        Box::pin(async move {
            let mut all = self.events.lock().unwrap_or_else(|e| e.into_inner());
            let ev = Event {
                id: all.len() as i64 + 1,
                time: e.time.unwrap_or_else(Utc::now),
                kind: e.kind,
                source: e.source,
                subject: e.subject,
                attributes: e.attributes,
            };
            all.push(ev.clone());
            Ok(ev)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_sink_keeps_order_and_attributes() {
        let s = MemorySink::default();
        s.append(NewEvent::new("deploy.started", "cli", "cart").attr("to", "v2"))
            .await
            .unwrap();
        let e = s
            .append(NewEvent::new("deploy.finished", "cli", "cart"))
            .await
            .unwrap();
        assert_eq!(e.id, 2);
        let all = s.events();
        assert_eq!(all[0].attributes["to"], "v2");
        assert_eq!(all[1].kind, "deploy.finished");
    }
}
