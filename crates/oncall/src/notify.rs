//! Reaching people through their contact methods, by the alerting
//! receivers' machinery: every delivery is stored in the notification log
//! first and retried (`firedrill notifications` lists them).

use alerting::notify::Sender;
use serde_json::json;

use crate::config::{Contact, Person, Smtp};
use crate::pages::{Notifier, Page};

pub struct Contacts {
    pub sender: Sender,
    pub smtp: Option<Smtp>,
    /// Where a person can open the page (the control plane's URL).
    pub external_url: String,
}

/// One line a person reads on a phone.
pub fn headline(role: &str, page: &Page, event: &str) -> String {
    let what = match event {
        "page.escalated" => "escalated to you",
        "page.reassigned" => "reassigned to you",
        "page.unsnoozed" => "snooze ended",
        _ => "triggered",
    };
    let shadow = if role == "shadow" { " (shadow)" } else { "" };
    format!(
        "[firedrill] page {} {what}{shadow}: {}",
        page.id, page.title
    )
}

impl Notifier for Contacts {
    fn notify(&self, person: &Person, role: &str, page: &Page, event: &str) {
        let receiver = format!("oncall:{}", person.handle);
        let line = headline(role, page, event);
        let link = format!("{}/api/pages/{}", self.external_url, page.id);
        for c in &person.contacts {
            match c {
                Contact::Webhook(url) => {
                    let body = json!({
                        "version": "1",
                        "event": event,
                        "person": person.handle,
                        "role": role,
                        "shadow": role == "shadow",
                        "page": page,
                        "url": link,
                    });
                    self.sender.send(&receiver, "webhook", url, body);
                }
                Contact::Slack(url) => {
                    let body = json!({
                        "text": format!("{line}\n{}\n<{link}|page {}>", page.summary, page.id),
                    });
                    self.sender.send(&receiver, "slack", url, body);
                }
                Contact::Email(to) => {
                    let Some(smtp) = &self.smtp else { continue };
                    let (host, from, address) =
                        (smtp.smarthost.clone(), smtp.from.clone(), to.clone());
                    let (subject, text) = (
                        line.clone(),
                        format!("{}\n\n{}\n\n{link}\n", line, page.summary),
                    );
                    let action: alerting::notify::send::Action = std::sync::Arc::new(move || {
                        alerting::route::email::send_mail(
                            &host,
                            &from,
                            &address,
                            subject.clone(),
                            text.clone(),
                        )
                    });
                    self.sender.send_with(
                        &receiver,
                        "email",
                        to,
                        json!({"subject": line, "page": page.id}),
                        action,
                    );
                }
            }
        }
    }
}
