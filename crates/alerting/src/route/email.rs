//! E-mail notifications over SMTP (lettre), plain text.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;

use super::dispatch::Notification;
use super::integration::{Delivery, Integration};
use super::payload::title;

#[derive(Debug, Clone, PartialEq)]
pub struct EmailConfig {
    pub to: String,
    pub from: String,
    /// `host:port` of the SMTP server (unencrypted; a lab's relay on loopback).
    pub smarthost: String,
    pub send_resolved: bool,
    /// Notification templates: the `Subject` header, the HTML and text bodies
    /// (our title and plain-text layout when unset).
    pub subject: Option<String>,
    pub html: Option<String>,
    pub text: Option<String>,
    /// The config's template files (`define`s), set when they are loaded.
    pub templates: Arc<crate::rules::template::Templates>,
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
        let c = &self.0;
        let r = |src: &Option<String>| super::payload::render(&c.templates, src.as_deref(), n, "");
        let subject = r(&c.subject).unwrap_or_else(|| title(n));
        let text = r(&c.text);
        let html = r(&c.html);
        let plain = text.clone().or_else(|| html.is_none().then(|| body(n)));
        send_message(&c.smarthost, &c.from, &c.to, subject, plain, html)
    }
}

/// One plain-text message over SMTP (unencrypted: a relay on loopback).
pub fn send_mail(smarthost: &str, from: &str, to: &str, subject: String, text: String) -> Delivery {
    send_message(smarthost, from, to, subject, Some(text), None)
}

/// A message with a text body, an HTML body, or both (as alternatives).
pub fn send_message(
    smarthost: &str,
    from: &str,
    to: &str,
    subject: String,
    text: Option<String>,
    html: Option<String>,
) -> Delivery {
    use lettre::message::{MultiPart, SinglePart};
    let (smarthost, from, to) = (smarthost.to_string(), from.to_string(), to.to_string());
    Box::pin(async move {
        let from_box: Mailbox = from.parse().map_err(|e| format!("from {from:?}: {e}"))?;
        let to_box: Mailbox = to.parse().map_err(|e| format!("to {to:?}: {e}"))?;
        let builder = Message::builder()
            .from(from_box)
            .to(to_box)
            .subject(subject);
        let msg = match (text, html) {
            (Some(t), Some(h)) => builder.multipart(MultiPart::alternative_plain_html(t, h)),
            (None, Some(h)) => builder.singlepart(SinglePart::html(h)),
            (t, None) => builder.body(t.unwrap_or_default()),
        }
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
