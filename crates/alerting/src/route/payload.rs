//! What receivers are sent: the Alertmanager webhook payload (version 4),
//! a Slack incoming-webhook message, a PagerDuty Events API v2 event.

use serde_json::{Value, json};

use super::dispatch::{Alert, Notification, fingerprint, key_hash};

const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn alert_json(a: &Alert, n: &Notification) -> Value {
    let resolved = a.resolved(n.now);
    json!({
        "status": if resolved { "resolved" } else { "firing" },
        "labels": a.labels,
        "annotations": a.annotations,
        "startsAt": time(a.starts_at),
        "endsAt": if resolved { time(a.ends_at) } else { ZERO_TIME.to_string() },
        "generatorURL": a.generator_url,
        "fingerprint": format!("{:016x}", fingerprint(&a.labels)),
    })
}

/// The Alertmanager webhook payload, version 4.
pub fn webhook(n: &Notification, external_url: &str, max_alerts: usize) -> Value {
    let total = n.alerts.len();
    let shown: Vec<Value> = n
        .alerts
        .iter()
        .take(if max_alerts == 0 { total } else { max_alerts })
        .map(|a| alert_json(a, n))
        .collect();
    json!({
        "receiver": n.receiver,
        "status": n.status(),
        "alerts": shown,
        "groupLabels": n.group_labels,
        "commonLabels": n.common_labels(),
        "commonAnnotations": n.common_annotations(),
        "externalURL": external_url,
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": total - shown.len(),
    })
}

/// `[FIRING:2] AlertName` or `[RESOLVED] AlertName`.
pub fn title(n: &Notification) -> String {
    let firing = n.firing().count();
    let name = n
        .common_labels()
        .get("alertname")
        .cloned()
        .unwrap_or_else(|| "alerts".into());
    match n.status() {
        "firing" => format!("[FIRING:{firing}] {name}"),
        _ => format!("[RESOLVED] {name}"),
    }
}

/// A Slack incoming-webhook message that reads well in a channel.
pub fn slack(n: &Notification, channel: Option<&str>) -> Value {
    let lines: Vec<String> = n
        .alerts
        .iter()
        .map(|a| {
            let summary = a
                .annotations
                .get("summary")
                .or_else(|| a.annotations.get("title"))
                .cloned()
                .unwrap_or_default();
            let labels: Vec<String> = a
                .labels
                .iter()
                .filter(|(k, _)| k.as_str() != "alertname")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!(
                "• {} {summary} ({})",
                if a.resolved(n.now) {
                    ":white_check_mark:"
                } else {
                    ":fire:"
                },
                labels.join(", ")
            )
        })
        .collect();
    let mut v = json!({
        "username": "firedrill",
        "text": title(n),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title(n)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines.join("\n")}},
        ],
    });
    if let Some(c) = channel {
        v["channel"] = json!(c);
    }
    v
}

/// A PagerDuty Events API v2 event: trigger while firing, resolve after.
pub fn pagerduty(
    n: &Notification,
    routing_key: &str,
    severity: Option<&str>,
    external_url: &str,
) -> Value {
    let firing = n.status() == "firing";
    let mut v = json!({
        "routing_key": routing_key,
        "event_action": if firing { "trigger" } else { "resolve" },
        "dedup_key": key_hash(&n.group_key),
    });
    if firing {
        let sev = severity.map(str::to_string).unwrap_or_else(|| {
            match n.common_labels().get("severity").map(String::as_str) {
                Some("page") | Some("critical") => "critical".into(),
                Some("ticket") | Some("warning") => "warning".into(),
                _ => "error".into(),
            }
        });
        v["payload"] = json!({
            "summary": title(n),
            "source": "firedrill",
            "severity": sev,
            "custom_details": {
                "firing": n.firing().map(|a| &a.labels).collect::<Vec<_>>(),
                "num_firing": n.firing().count(),
                "num_resolved": n.alerts.len() - n.firing().count(),
            },
        });
        v["client"] = json!("firedrill");
        v["client_url"] = json!(external_url);
    }
    v
}
