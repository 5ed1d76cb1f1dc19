//! The pager and the ticket queue as receivers of the alert router: routed
//! notifications for the `pager` receiver open (or resolve) pages, those for
//! `tickets` open tickets.

use std::sync::Arc;

use alerting::route::Notification;
use alerting::route::integration::{Delivery, Integration};

use crate::pages::{AlertGroup, OnCall};

/// The alert group of a notification, as the pager keeps it.
pub fn group(n: &Notification) -> AlertGroup {
    let firing: Vec<_> = n.firing().collect();
    let summary = firing
        .iter()
        .copied()
        .chain(n.alerts.iter())
        .find_map(|a| {
            a.annotations
                .get("summary")
                .or_else(|| a.annotations.get("description"))
                .or_else(|| a.annotations.get("title"))
        })
        .cloned()
        .unwrap_or_default();
    AlertGroup {
        group_key: n.group_key.clone(),
        title: alerting::route::payload::title(n),
        summary,
        labels: serde_json::to_value(&n.group_labels).unwrap_or_default(),
        firing: firing.len() as i64,
    }
}

pub struct PagerReceiver(pub Arc<OnCall>);

impl Integration for PagerReceiver {
    fn kind(&self) -> &str {
        "pager"
    }

    fn target(&self) -> String {
        "on-call".into()
    }

    fn notify(&self, n: &Notification) -> Delivery {
        let (oncall, n) = (self.0.clone(), n.clone());
        Box::pin(async move {
            let r = if n.status() == "firing" {
                oncall.trigger(&group(&n)).await.map(|_| ())
            } else {
                oncall.alerts_resolved(&n.group_key).await.map(|_| ())
            };
            r.map_err(|e| e.to_string())
        })
    }
}

pub struct TicketReceiver(pub Arc<OnCall>);

impl Integration for TicketReceiver {
    fn kind(&self) -> &str {
        "tickets"
    }

    fn target(&self) -> String {
        "ticket queue".into()
    }

    fn send_resolved(&self) -> bool {
        false
    }

    fn notify(&self, n: &Notification) -> Delivery {
        let (oncall, n) = (self.0.clone(), n.clone());
        Box::pin(async move {
            oncall
                .open_ticket(&group(&n))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
