//! E-mail notifications over SMTP (lettre), plain text.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use super::dispatch::Notification;
use super::integration::{Delivery, Integration};
use super::payload::title;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub to: String,
    pub from: String,
    /// `host:port` of the SMTP server (unencrypted; a lab's relay on loopback).
    pub smarthost: String,
    #[serde(default)]
    pub send_resolved: bool,
}

pub struct Email(pub EmailConfig);

/// The message body: one paragraph per alert.
pub fn body(n: &Notification) -> String {
    let mut out = format!("{}\n\n", title(n));
    for a in &n.alerts {
        out.push_str(&format!(
            "{} {}\n",
            if a.resolved(n.now) {
                "RESOLVED"
            } else {
                "FIRING"
            },
            a.labels.get("alertname").map(String::as_str).unwrap_or("")
        ));
        for (k, v) in &a.annotations {
            out.push_str(&format!("  {k}: {v}\n"));
        }
        for (k, v) in &a.labels {
            out.push_str(&format!("  - {k} = {v}\n"));
        }
        if !a.generator_url.is_empty() {
            out.push_str(&format!("  source: {}\n", a.generator_url));
        }
        out.push('\n');
    }
    out
}

impl Integration for Email {
    fn kind(&self) -> &str {
        "email"
    }

    fn target(&self) -> String {
        self.0.to.clone()
    }

    fn send_resolved(&self) -> bool {
        self.0.send_resolved
    }

    fn notify(&self, n: &Notification) -> Delivery {
        let cfg = self.0.clone();
        let subject = title(n);
        let text = body(n);
        Box::pin(async move {
            let from: Mailbox = cfg
                .from
                .parse()
                .map_err(|e| format!("from {:?}: {e}", cfg.from))?;
            let to: Mailbox = cfg
                .to
                .parse()
                .map_err(|e| format!("to {:?}: {e}", cfg.to))?;
            let msg = Message::builder()
                .from(from)
                .to(to)
                .subject(subject)
                .body(text)
                .map_err(|e| e.to_string())?;
            let (host, port) = cfg
                .smarthost
                .rsplit_once(':')
                .ok_or_else(|| format!("smarthost {:?} is not host:port", cfg.smarthost))?;
            let port: u16 = port
                .parse()
                .map_err(|_| format!("smarthost {:?}: bad port", cfg.smarthost))?;
            let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .port(port)
                .build();
            mailer
                .send(msg)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
