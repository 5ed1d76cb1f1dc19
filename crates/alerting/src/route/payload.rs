//! What receivers are sent: the Alertmanager webhook payload (version 4),
//! a Slack incoming-webhook message, a PagerDuty Events API v2 event.

use serde_json::{Value, json};

use std::collections::BTreeMap;

use super::dispatch::{Alert, Notification, fingerprint, key_hash};
use crate::rules::template::{Templates, Val};

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

/// Alertmanager's notification template data (`template.Data`): `.Receiver`,
/// `.Status`, `.Alerts` (each with `.Status`, `.Labels`, `.Annotations`,
/// `.StartsAt`, `.EndsAt`, `.GeneratorURL`, `.Fingerprint`), `.GroupLabels`,
/// `.CommonLabels`, `.CommonAnnotations`, `.ExternalURL`.
pub fn template_data(n: &Notification, external_url: &str) -> Val {
    let s = |x: &str| Val::Str(x.to_string());
    let alerts = n
        .alerts
        .iter()
        .map(|a| {
            let j = alert_json(a, n);
            let txt = |k: &str| s(j[k].as_str().unwrap_or(""));
            Val::Map(BTreeMap::from([
                ("Status".to_string(), txt("status")),
                ("Labels".to_string(), Val::labels(&a.labels)),
                ("Annotations".to_string(), Val::labels(&a.annotations)),
                ("StartsAt".to_string(), txt("startsAt")),
                ("EndsAt".to_string(), txt("endsAt")),
                ("GeneratorURL".to_string(), s(&a.generator_url)),
                ("Fingerprint".to_string(), txt("fingerprint")),
            ]))
        })
        .collect();
    Val::Map(BTreeMap::from([
        ("Receiver".to_string(), s(&n.receiver)),
        ("Status".to_string(), s(n.status())),
        ("Alerts".to_string(), Val::List(alerts)),
        ("GroupLabels".to_string(), Val::labels(&n.group_labels)),
        ("CommonLabels".to_string(), Val::labels(&n.common_labels())),
        (
            "CommonAnnotations".to_string(),
            Val::labels(&n.common_annotations()),
        ),
        ("ExternalURL".to_string(), s(external_url)),
        ("GroupKey".to_string(), s(&n.group_key)),
    ]))
}

/// Renders a notification template, or `None` with a warning when it fails
/// (the caller then uses its default layout).
pub fn render(
    templates: &Templates,
    src: Option<&str>,
    n: &Notification,
    external_url: &str,
) -> Option<String> {
    let src = src?;
    match templates.render(src, &template_data(n, external_url)) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(receiver = %n.receiver, error = %e, "notification template failed; default layout used");
            None
        }
    }
}

/// A Slack message with the config's `title` and `text` templates, if any.
pub fn slack_templated(
    n: &Notification,
    cfg: &super::receivers::Slack,
    external_url: &str,
) -> Value {
    let templates: &Templates = &cfg.templates;
    let mut v = slack(n, cfg.channel.as_deref());
    let title = render(templates, cfg.title.as_deref(), n, external_url);
    let text = render(templates, cfg.text.as_deref(), n, external_url);
    if title.is_some() || text.is_some() {
        let title = title.unwrap_or_else(|| super::payload::title(n));
        let mut blocks =
            vec![json!({"type": "header", "text": {"type": "plain_text", "text": title}})];
        if let Some(t) = text.as_ref().filter(|t| !t.trim().is_empty()) {
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": t}}));
        }
        v["text"] = json!(title);
        v["blocks"] = json!(blocks);
    }
    if let Some(u) = &cfg.username {
        v["username"] = json!(u);
    }
    v
}
