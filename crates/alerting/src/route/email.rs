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
        send_mail(
            &self.0.smarthost,
            &self.0.from,
            &self.0.to,
            title(n),
            body(n),
        )
    }
}

/// One plain-text message over SMTP (unencrypted: a relay on loopback).
pub fn send_mail(smarthost: &str, from: &str, to: &str, subject: String, text: String) -> Delivery {
    let (smarthost, from, to) = (smarthost.to_string(), from.to_string(), to.to_string());
    Box::pin(async move {
        let from_box: Mailbox = from.parse().map_err(|e| format!("from {from:?}: {e}"))?;
        let to_box: Mailbox = to.parse().map_err(|e| format!("to {to:?}: {e}"))?;
        let msg = Message::builder()
            .from(from_box)
            .to(to_box)
            .subject(subject)
            .body(text)
            .map_err(|e| e.to_string())?;
        let (host, port) = smarthost
            .rsplit_once(':')
            .ok_or_else(|| format!("smarthost {smarthost:?} is not host:port"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| format!("smarthost {smarthost:?}: bad port"))?;
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
