//! Receivers and the `global` section of an Alertmanager config: the
//! integrations we deliver to (webhook, Slack, PagerDuty, e-mail) with the
//! defaults `global` gives them, validated as Alertmanager validates them;
//! every other Alertmanager receiver type is refused by name.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::email::EmailConfig;
use crate::rules::file::Problem;

/// Slack's Web API endpoint used with app (bot) tokens.
const SLACK_APP_URL: &str = "https://slack.com/api/chat.postMessage";

/// Receiver types we deliver to.
pub const SUPPORTED: &[&str] = &["email", "pagerduty", "slack", "webhook"];

type S = Option<Spanned<String>>;
type Any = Option<serde_json::Value>;

/// `global:` (Alertmanager's `GlobalConfig`). Settings for receiver types we
/// do not deliver to are accepted (they are harmless without such receivers).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGlobal {
    pub resolve_timeout: S,
    pub http_config: Option<Spanned<serde_json::Value>>,
    pub smtp_from: S,
    pub smtp_hello: S,
    pub smtp_smarthost: S,
    pub smtp_auth_username: S,
    pub smtp_auth_password: S,
    pub smtp_auth_password_file: S,
    pub smtp_auth_secret: S,
    pub smtp_auth_secret_file: S,
    pub smtp_auth_identity: S,
    pub smtp_require_tls: Option<bool>,
    pub smtp_tls_config: Any,
    pub smtp_force_implicit_tls: Option<bool>,
    pub slack_api_url: S,
    pub slack_api_url_file: S,
    pub slack_app_token: S,
    pub slack_app_token_file: S,
    pub slack_app_url: S,
    pub pagerduty_url: S,
    pub opsgenie_api_url: S,
    pub opsgenie_api_key: S,
    pub opsgenie_api_key_file: S,
    pub wechat_api_url: S,
    pub wechat_api_secret: S,
    pub wechat_api_secret_file: S,
    pub wechat_api_corp_id: S,
    pub victorops_api_url: S,
    pub victorops_api_key: S,
    pub victorops_api_key_file: S,
    pub telegram_api_url: S,
    pub telegram_bot_token: S,
    pub telegram_bot_token_file: S,
    pub webex_api_url: S,
    pub rocketchat_api_url: S,
    pub rocketchat_token: S,
    pub rocketchat_token_file: S,
    pub rocketchat_token_id: S,
    pub rocketchat_token_id_file: S,
    pub mattermost_webhook_url: S,
    pub mattermost_webhook_url_file: S,
    pub jira_api_url: S,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReceiver {
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub webhook_configs: Vec<Spanned<RawWebhook>>,
    #[serde(default)]
    pub slack_configs: Vec<Spanned<RawSlack>>,
    #[serde(default)]
    pub pagerduty_configs: Vec<Spanned<RawPagerDuty>>,
    #[serde(default)]
    pub email_configs: Vec<Spanned<RawEmail>>,
    // Alertmanager receiver types we do not deliver to: refused by name.
    pub discord_configs: Option<Spanned<serde_json::Value>>,
    pub incidentio_configs: Option<Spanned<serde_json::Value>>,
    pub opsgenie_configs: Option<Spanned<serde_json::Value>>,
    pub wechat_configs: Option<Spanned<serde_json::Value>>,
    pub pushover_configs: Option<Spanned<serde_json::Value>>,
    pub victorops_configs: Option<Spanned<serde_json::Value>>,
    pub sns_configs: Option<Spanned<serde_json::Value>>,
    pub telegram_configs: Option<Spanned<serde_json::Value>>,
    pub webex_configs: Option<Spanned<serde_json::Value>>,
    pub msteams_configs: Option<Spanned<serde_json::Value>>,
    pub msteamsv2_configs: Option<Spanned<serde_json::Value>>,
    pub jira_configs: Option<Spanned<serde_json::Value>>,
    pub rocketchat_configs: Option<Spanned<serde_json::Value>>,
    pub mattermost_configs: Option<Spanned<serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebhook {
    pub url: S,
    pub url_file: S,
    pub send_resolved: Option<bool>,
    pub http_config: Any,
    #[serde(default)]
    pub max_alerts: usize,
    pub timeout: S,
    pub payload: Any,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSlack {
    pub send_resolved: Option<bool>,
    pub http_config: Any,
    pub api_url: S,
    pub api_url_file: S,
    pub app_token: S,
    pub app_token_file: S,
    pub app_url: S,
    pub channel: S,
    pub username: S,
    pub color: S,
    pub title: S,
    pub title_link: S,
    pub pretext: S,
    pub text: S,
    pub message_text: S,
    pub fields: Any,
    pub short_fields: Option<bool>,
    pub footer: S,
    pub fallback: S,
    pub callback_id: S,
    pub icon_emoji: S,
    pub icon_url: S,
    pub image_url: S,
    pub thumb_url: S,
    pub link_names: Option<bool>,
    pub mrkdwn_in: Any,
    pub actions: Any,
    pub update_message: Option<bool>,
    pub timeout: S,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPagerDuty {
    pub send_resolved: Option<bool>,
    pub http_config: Any,
    pub service_key: S,
    pub service_key_file: S,
    pub routing_key: S,
    pub routing_key_file: S,
    pub url: S,
    pub client: S,
    pub client_url: S,
    pub description: S,
    pub details: Any,
    pub images: Any,
    pub links: Any,
    pub source: S,
    pub severity: S,
    pub class: S,
    pub component: S,
    pub group: S,
    pub timeout: S,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEmail {
    pub send_resolved: Option<bool>,
    pub to: S,
    pub from: S,
    pub hello: S,
    pub smarthost: S,
    pub auth_username: S,
    pub auth_password: S,
    pub auth_password_file: S,
    pub auth_secret: S,
    pub auth_secret_file: S,
    pub auth_identity: S,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub html: S,
    pub text: S,
    pub require_tls: Option<bool>,
    pub tls_config: Any,
    pub force_implicit_tls: Option<bool>,
    pub threading: Any,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// The URL; a notification template when it holds `{{`.
    pub url: String,
    /// The config's template files (`define`s), set when they are loaded.
    pub templates: std::sync::Arc<crate::rules::template::Templates>,
    /// `url_file`: read at each delivery, as Alertmanager does.
    pub url_file: Option<String>,
    pub send_resolved: bool,
    pub max_alerts: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slack {
    pub api_url: String,
    /// `api_url_file` (or `global.slack_api_url_file`): read at each delivery.
    pub api_url_file: Option<String>,
    pub channel: Option<String>,
    pub username: Option<String>,
    /// Notification templates for the message title and text (our layout when unset).
    pub title: Option<String>,
    pub text: Option<String>,
    pub send_resolved: bool,
    /// The config's template files (`define`s), set when they are loaded.
    pub templates: std::sync::Arc<crate::rules::template::Templates>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PagerDuty {
    pub routing_key: String,
    /// `routing_key_file`: read at each delivery.
    pub routing_key_file: Option<String>,
    pub url: String,
    pub send_resolved: bool,
    pub severity: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Receiver {
    pub name: String,
    pub webhooks: Vec<Webhook>,
    pub slack: Vec<Slack>,
    pub pagerduty: Vec<PagerDuty>,
    pub email: Vec<EmailConfig>,
}

/// A secret kept in a file, read when it is needed (a missing file makes
/// that delivery fail with the reason, as in Alertmanager).
fn from_file(inline: &str, file: &Option<String>) -> String {
    match file {
        None => inline.to_string(),
        Some(f) => std::fs::read_to_string(f)
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|e| format!("unreadable file {f}: {e}")),
    }
}

impl Webhook {
    /// Where this delivery goes (a templated URL rendered for `n`).
    pub fn target(&self, n: &super::dispatch::Notification, external_url: &str) -> String {
        let url = from_file(&self.url, &self.url_file);
        if url.contains("{{") {
            return super::payload::render(&self.templates, Some(&url), n, external_url)
                .unwrap_or(url);
        }
        url
    }
}

impl Slack {
    pub fn target(&self) -> String {
        from_file(&self.api_url, &self.api_url_file)
    }
}

impl PagerDuty {
    pub fn key(&self) -> String {
        from_file(&self.routing_key, &self.routing_key_file)
    }
}

/// Collects errors and notes ("accepted, not applied") with positions.
pub(crate) struct Report<'a> {
    pub file: &'a str,
    pub problems: Vec<Problem>,
    pub notes: Vec<Problem>,
    /// Template fields: where each is, with its source as the message.
    pub templated: Vec<Problem>,
}

impl Report<'_> {
    pub fn at<T>(&mut self, s: &Spanned<T>, field: &str, msg: impl Into<String>) {
        self.problems.push(Problem::at(self.file, s, field, msg));
    }

    pub fn note<T>(&mut self, s: &Spanned<T>, field: &str, msg: impl Into<String>) {
        self.notes.push(Problem::at(self.file, s, field, msg));
    }
}

/// Go's `net.SplitHostPort` checks and Alertmanager's "port cannot be empty".
pub fn check_host_port(s: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = rest
            .split_once(']')
            .ok_or_else(|| format!("address {s}: missing ']' in address"))?;
        let p = p
            .strip_prefix(':')
            .ok_or_else(|| format!("address {s}: missing port in address"))?;
        (h, p)
    } else {
        let (h, p) = s
            .rsplit_once(':')
            .ok_or_else(|| format!("address {s}: missing port in address"))?;
        if h.contains(':') {
            return Err(format!("address {s}: too many colons in address"));
        }
        (h, p)
    };
    let _ = host;
    if port.is_empty() {
        return Err(format!("address {s:?}: port cannot be empty"));
    }
    Ok(())
}

/// Alertmanager's URL checks: http or https, with a host.
pub fn check_url(s: &str) -> Result<(), String> {
    match reqwest::Url::parse(s) {
        Ok(u) if u.scheme() != "http" && u.scheme() != "https" => {
            Err(format!("unsupported scheme {:?} for URL", u.scheme()))
        }
        Ok(u) if u.host_str().is_none_or(str::is_empty) => Err("missing host for URL".into()),
        Ok(_) => Ok(()),
        // A URL without a scheme ("example.com/hook") is relative.
        Err(e) if e.to_string().contains("relative URL without a base") => {
            Err("unsupported scheme \"\" for URL".into())
        }
        Err(e) => Err(format!("invalid URL {s:?}: {e}")),
    }
}

/// Effective global settings (Alertmanager's `DefaultGlobalConfig` + file).
pub(crate) struct Global {
    pub smtp_from: Option<String>,
    pub smtp_smarthost: Option<String>,
    pub slack_api_url: Option<String>,
    pub slack_api_url_file: Option<String>,
    pub slack_app_token: bool,
    pub pagerduty_url: String,
    pub smtp_require_tls_set: bool,
}

impl Global {
    pub fn build(raw: Option<&Spanned<RawGlobal>>, r: &mut Report) -> Global {
        let empty = RawGlobal::default();
        let g = raw.map(|g| &g.value).unwrap_or(&empty);
        let val = |s: &S| {
            s.as_ref()
                .map(|s| s.value.clone())
                .filter(|v| !v.is_empty())
        };
        let both = [
            (
                &g.slack_app_token,
                &g.slack_app_token_file,
                "slack_app_token",
            ),
            (&g.slack_api_url, &g.slack_api_url_file, "slack_api_url"),
            (
                &g.opsgenie_api_key,
                &g.opsgenie_api_key_file,
                "opsgenie_api_key",
            ),
            (
                &g.victorops_api_key,
                &g.victorops_api_key_file,
                "victorops_api_key",
            ),
            (
                &g.telegram_bot_token,
                &g.telegram_bot_token_file,
                "telegram_bot_token",
            ),
            (
                &g.smtp_auth_password,
                &g.smtp_auth_password_file,
                "smtp_auth_password",
            ),
            (
                &g.rocketchat_token,
                &g.rocketchat_token_file,
                "rocketchat_token",
            ),
            (
                &g.rocketchat_token_id,
                &g.rocketchat_token_id_file,
                "rocketchat_token_id",
            ),
            (
                &g.smtp_auth_secret,
                &g.smtp_auth_secret_file,
                "smtp_auth_secret",
            ),
            (
                &g.wechat_api_secret,
                &g.wechat_api_secret_file,
                "wechat_api_secret",
            ),
            (
                &g.mattermost_webhook_url,
                &g.mattermost_webhook_url_file,
                "mattermost_webhook_url",
            ),
        ];
        for (a, b, name) in both {
            if let (Some(_), Some(f)) = (val(a), b.as_ref().filter(|f| !f.value.is_empty())) {
                r.at(
                    f,
                    &format!("global.{name}_file"),
                    format!("at most one of {name} & {name}_file must be configured"),
                );
            }
        }
        if let Some(s) = &g.smtp_smarthost
            && !s.value.is_empty()
            && let Err(e) = check_host_port(&s.value)
        {
            r.at(s, "global.smtp_smarthost", e);
        }
        let urls = [
            (&g.slack_api_url, "slack_api_url"),
            (&g.slack_app_url, "slack_app_url"),
            (&g.pagerduty_url, "pagerduty_url"),
            (&g.opsgenie_api_url, "opsgenie_api_url"),
            (&g.wechat_api_url, "wechat_api_url"),
            (&g.victorops_api_url, "victorops_api_url"),
            (&g.telegram_api_url, "telegram_api_url"),
            (&g.webex_api_url, "webex_api_url"),
            (&g.rocketchat_api_url, "rocketchat_api_url"),
            (&g.mattermost_webhook_url, "mattermost_webhook_url"),
            (&g.jira_api_url, "jira_api_url"),
        ];
        for (u, name) in urls {
            if let Some(u) = u
                && let Err(e) = check_url(&u.value)
            {
                r.at(u, &format!("global.{name}"), e);
            }
        }
        if let Some(h) = &g.http_config {
            r.note(
                h,
                "global.http_config",
                "accepted, not applied (requests go out without proxy, TLS or auth settings)",
            );
        }
        let auth = [
            (&g.smtp_auth_username, "smtp_auth_username"),
            (&g.smtp_auth_password, "smtp_auth_password"),
            (&g.smtp_auth_password_file, "smtp_auth_password_file"),
            (&g.smtp_auth_secret, "smtp_auth_secret"),
            (&g.smtp_auth_secret_file, "smtp_auth_secret_file"),
            (&g.smtp_auth_identity, "smtp_auth_identity"),
            (&g.smtp_hello, "smtp_hello"),
        ];
        for (v, name) in auth {
            if let Some(v) = v.as_ref().filter(|v| !v.value.is_empty()) {
                r.note(
                    v,
                    &format!("global.{name}"),
                    "accepted, not applied (mail goes to the smarthost unauthenticated)",
                );
            }
        }
        if let Some(g) = raw {
            let tls = [
                ("smtp_tls_config", g.value.smtp_tls_config.is_some()),
                (
                    "smtp_force_implicit_tls",
                    g.value.smtp_force_implicit_tls.is_some(),
                ),
            ];
            ignored(r, g, "global", &tls);
        }
        // Settings of receiver types we refuse anyway (WeChat, OpsGenie, ...)
        // need no note: a receiver using them is an error.
        let _ = &g.wechat_api_corp_id;
        let app_token = g
            .slack_app_token
            .as_ref()
            .or(g.slack_app_token_file.as_ref());
        let app_url = val(&g.slack_app_url).unwrap_or_else(|| SLACK_APP_URL.into());
        if let Some(t) = app_token
            && (g.slack_api_url_file.is_some()
                || g.slack_api_url.as_ref().is_some_and(|u| u.value != app_url))
        {
            r.at(
                t,
                "global.slack_app_token",
                "at most one of slack_app_token/slack_app_token_file & slack_api_url/slack_api_url_file must be configured",
            );
        }
        Global {
            slack_app_token: app_token.is_some(),
            smtp_from: val(&g.smtp_from),
            smtp_smarthost: val(&g.smtp_smarthost),
            slack_api_url: val(&g.slack_api_url),
            slack_api_url_file: val(&g.slack_api_url_file),
            pagerduty_url: val(&g.pagerduty_url)
                .unwrap_or_else(|| "https://events.pagerduty.com/v2/enqueue".into()),
            smtp_require_tls_set: g.smtp_require_tls == Some(true),
        }
    }
}

/// A notification template field: its syntax is checked here, names and
/// data when the template files are loaded ([`super::load::load_config`]).
fn template_field(r: &mut Report, s: &S, field: &str) -> Option<String> {
    let s = s.as_ref()?;
    if let Err(e) = crate::rules::template::check_syntax(&s.value) {
        r.at(s, field, e);
    }
    r.templated
        .push(Problem::at(r.file, s, field, s.value.clone()));
    Some(s.value.clone())
}

fn ignored(r: &mut Report, pos: &Spanned<impl Sized>, field: &str, present: &[(&str, bool)]) {
    let names: Vec<&str> = present
        .iter()
        .filter(|(_, p)| *p)
        .map(|(n, _)| *n)
        .collect();
    if !names.is_empty() {
        r.note(
            pos,
            field,
            format!("accepted, not applied: {}", names.join(", ")),
        );
    }
}

/// Builds one receiver; problems go to `r`.
pub(crate) fn build(raw: &RawReceiver, g: &Global, r: &mut Report, field: &str) -> Receiver {
    let name = raw
        .name
        .as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_default();
    let unsupported = [
        ("discord", &raw.discord_configs),
        ("incidentio", &raw.incidentio_configs),
        ("opsgenie", &raw.opsgenie_configs),
        ("wechat", &raw.wechat_configs),
        ("pushover", &raw.pushover_configs),
        ("victorops", &raw.victorops_configs),
        ("sns", &raw.sns_configs),
        ("telegram", &raw.telegram_configs),
        ("webex", &raw.webex_configs),
        ("msteams", &raw.msteams_configs),
        ("msteamsv2", &raw.msteamsv2_configs),
        ("jira", &raw.jira_configs),
        ("rocketchat", &raw.rocketchat_configs),
        ("mattermost", &raw.mattermost_configs),
    ];
    for (kind, v) in unsupported {
        if let Some(v) = v {
            r.at(
                v,
                &format!("{field}.{kind}_configs"),
                format!(
                    "receiver type {kind} is not supported (supported: {})",
                    SUPPORTED.join(", ")
                ),
            );
        }
    }
    if let Some(v) = raw.labels.get("name")
        && v != &name
        && let Some(n) = &raw.name
    {
        r.at(
            n,
            &format!("{field}.labels"),
            format!("receiver label \"name\" must match receiver name {name:?}, got {v:?}"),
        );
    }
    let mut out = Receiver {
        name,
        ..Receiver::default()
    };
    for (i, w) in raw.webhook_configs.iter().enumerate() {
        let f = format!("{field}.webhook_configs[{i}]");
        let v = &w.value;
        let url = match (&v.url, &v.url_file) {
            (Some(_), Some(_)) => {
                r.at(w, &f, "at most one of url & url_file must be configured");
                continue;
            }
            (None, None) => {
                r.at(w, &f, "one of url or url_file must be configured");
                continue;
            }
            (None, Some(file)) => {
                out.webhooks.push(Webhook {
                    templates: Default::default(),
                    url: String::new(),
                    url_file: Some(file.value.clone()),
                    send_resolved: v.send_resolved.unwrap_or(true),
                    max_alerts: v.max_alerts,
                });
                continue;
            }
            (Some(u), None) => u,
        };
        if url.value.contains("{{") {
            // Alertmanager does not validate a templated URL, only its syntax.
            if let Err(e) = crate::rules::template::check_syntax(&url.value) {
                r.at(
                    url,
                    &format!("{f}.url"),
                    format!("invalid template syntax: {e}"),
                );
            }
            r.templated.push(Problem::at(
                r.file,
                url,
                format!("{f}.url"),
                url.value.clone(),
            ));
        } else if let Err(e) = check_url(&url.value) {
            r.at(url, &format!("{f}.url"), e);
        }
        ignored(
            r,
            w,
            &f,
            &[
                ("http_config", v.http_config.is_some()),
                ("timeout", v.timeout.is_some()),
                ("payload", v.payload.is_some()),
            ],
        );
        out.webhooks.push(Webhook {
            templates: Default::default(),
            url: url.value.clone(),
            url_file: None,
            send_resolved: v.send_resolved.unwrap_or(true),
            max_alerts: v.max_alerts,
        });
    }
    for (i, s) in raw.slack_configs.iter().enumerate() {
        let f = format!("{field}.slack_configs[{i}]");
        let v = &s.value;
        let inline_url = v.api_url.is_some() || v.api_url_file.is_some();
        if v.app_token.is_some() || v.app_token_file.is_some() || (g.slack_app_token && !inline_url)
        {
            r.at(
                s,
                &f,
                "Slack app tokens (chat.postMessage) are not supported; use an incoming-webhook api_url",
            );
            continue;
        }
        if v.update_message == Some(true)
            && v.api_url.as_ref().is_none_or(|u| u.value != SLACK_APP_URL)
        {
            r.at(
                s,
                &format!("{f}.update_message"),
                format!("update_message can only be used with bot tokens. api_url must be set to {SLACK_APP_URL}"),
            );
            continue;
        }
        if let (Some(_), Some(file)) = (&v.api_url, &v.api_url_file) {
            r.at(
                file,
                &format!("{f}.api_url_file"),
                "at most one of api_url & api_url_file must be configured",
            );
            continue;
        }
        let (api_url, api_url_file) = match (&v.api_url, &v.api_url_file) {
            (Some(u), _) => {
                if let Err(e) = check_url(&u.value) {
                    r.at(u, &format!("{f}.api_url"), e);
                }
                (u.value.clone(), None)
            }
            (None, Some(file)) => (String::new(), Some(file.value.clone())),
            (None, None) => match (&g.slack_api_url, &g.slack_api_url_file) {
                (Some(u), _) => (u.clone(), None),
                (None, Some(file)) => (String::new(), Some(file.clone())),
                (None, None) => {
                    r.at(
                        s,
                        &f,
                        "no Slack API URL nor App token set either inline or in a file",
                    );
                    continue;
                }
            },
        };
        ignored(
            r,
            s,
            &f,
            &[
                ("http_config", v.http_config.is_some()),
                ("color", v.color.is_some()),
                ("title_link", v.title_link.is_some()),
                ("pretext", v.pretext.is_some()),
                ("message_text", v.message_text.is_some()),
                ("fields", v.fields.is_some()),
                ("short_fields", v.short_fields.is_some()),
                ("footer", v.footer.is_some()),
                ("fallback", v.fallback.is_some()),
                ("callback_id", v.callback_id.is_some()),
                ("icon_emoji", v.icon_emoji.is_some()),
                ("icon_url", v.icon_url.is_some()),
                ("image_url", v.image_url.is_some()),
                ("thumb_url", v.thumb_url.is_some()),
                ("link_names", v.link_names.is_some()),
                ("mrkdwn_in", v.mrkdwn_in.is_some()),
                ("actions", v.actions.is_some()),
                ("update_message", v.update_message.is_some()),
                ("app_url", v.app_url.is_some()),
                ("timeout", v.timeout.is_some()),
            ],
        );
        out.slack.push(Slack {
            api_url,
            api_url_file,
            channel: v.channel.as_ref().map(|c| c.value.clone()),
            username: v.username.as_ref().map(|c| c.value.clone()),
            title: template_field(r, &v.title, &format!("{f}.title")),
            text: template_field(r, &v.text, &format!("{f}.text")),
            templates: Default::default(),
            send_resolved: v.send_resolved.unwrap_or(false),
        });
    }
    for (i, p) in raw.pagerduty_configs.iter().enumerate() {
        let f = format!("{field}.pagerduty_configs[{i}]");
        let v = &p.value;
        if v.routing_key.is_some() && v.routing_key_file.is_some() {
            r.at(
                p,
                &f,
                "at most one of routing_key & routing_key_file must be configured",
            );
            continue;
        }
        let (key, key_file) = match (
            &v.routing_key,
            &v.routing_key_file,
            &v.service_key,
            &v.service_key_file,
        ) {
            (Some(k), ..) => (k.value.clone(), None),
            (None, Some(file), ..) => (String::new(), Some(file.value.clone())),
            (None, None, Some(k), _) => {
                r.at(
                    k,
                    &format!("{f}.service_key"),
                    "service_key (Events API v1) is not supported; use routing_key (Events API v2)",
                );
                continue;
            }
            (None, None, None, Some(k)) => {
                r.at(k, &format!("{f}.service_key_file"), "service_key_file (Events API v1) is not supported; use routing_key (Events API v2)");
                continue;
            }
            (None, None, None, None) => {
                r.at(p, &f, "missing service or routing key in PagerDuty config");
                continue;
            }
        };
        let url = match &v.url {
            Some(u) => {
                if let Err(e) = check_url(&u.value) {
                    r.at(u, &format!("{f}.url"), e);
                }
                u.value.clone()
            }
            None => g.pagerduty_url.clone(),
        };
        ignored(
            r,
            p,
            &f,
            &[
                ("http_config", v.http_config.is_some()),
                ("client", v.client.is_some()),
                ("client_url", v.client_url.is_some()),
                ("description", v.description.is_some()),
                ("details", v.details.is_some()),
                ("images", v.images.is_some()),
                ("links", v.links.is_some()),
                ("source", v.source.is_some()),
                ("class", v.class.is_some()),
                ("component", v.component.is_some()),
                ("group", v.group.is_some()),
                ("timeout", v.timeout.is_some()),
            ],
        );
        out.pagerduty.push(PagerDuty {
            routing_key: key,
            routing_key_file: key_file,
            url,
            send_resolved: v.send_resolved.unwrap_or(true),
            severity: v.severity.as_ref().map(|s| s.value.clone()),
        });
    }
    for (i, e) in raw.email_configs.iter().enumerate() {
        let f = format!("{field}.email_configs[{i}]");
        let v = &e.value;
        let Some(to) = v.to.as_ref().filter(|t| !t.value.is_empty()) else {
            r.at(e, &f, "missing to address in email config");
            continue;
        };
        let smarthost = match &v.smarthost {
            Some(s) if !s.value.is_empty() => {
                if let Err(err) = check_host_port(&s.value) {
                    r.at(s, &format!("{f}.smarthost"), err);
                }
                s.value.clone()
            }
            _ => match &g.smtp_smarthost {
                Some(s) => s.clone(),
                None => {
                    r.at(e, &f, "no global SMTP smarthost set");
                    continue;
                }
            },
        };
        let from = match v.from.as_ref().filter(|s| !s.value.is_empty()) {
            Some(s) => s.value.clone(),
            None => match &g.smtp_from {
                Some(s) => s.clone(),
                None => {
                    r.at(e, &f, "no global SMTP from set");
                    continue;
                }
            },
        };
        let mut subject = None;
        for (k, h) in &v.headers {
            if k.eq_ignore_ascii_case("subject") {
                if let Err(err) = crate::rules::template::check_syntax(h) {
                    r.at(e, &format!("{f}.headers.{k}"), err);
                }
                r.templated.push(Problem::at(
                    r.file,
                    e,
                    format!("{f}.headers.{k}"),
                    h.clone(),
                ));
                subject = Some(h.clone());
            } else {
                r.note(
                    e,
                    &format!("{f}.headers.{k}"),
                    "accepted, not applied (only Subject)",
                );
            }
        }
        let html = template_field(r, &v.html, &format!("{f}.html"));
        let text = template_field(r, &v.text, &format!("{f}.text"));
        ignored(
            r,
            e,
            &f,
            &[
                ("hello", v.hello.is_some()),
                ("auth_username", v.auth_username.is_some()),
                ("auth_password", v.auth_password.is_some()),
                ("auth_password_file", v.auth_password_file.is_some()),
                ("auth_secret", v.auth_secret.is_some()),
                ("auth_secret_file", v.auth_secret_file.is_some()),
                ("auth_identity", v.auth_identity.is_some()),
                ("tls_config", v.tls_config.is_some()),
                ("force_implicit_tls", v.force_implicit_tls.is_some()),
                ("threading", v.threading.is_some()),
            ],
        );
        if v.require_tls == Some(true) || (v.require_tls.is_none() && g.smtp_require_tls_set) {
            r.note(e, &f, "require_tls is not applied: mail is sent without STARTTLS (a lab relay on loopback)");
        }
        out.email.push(EmailConfig {
            to: to.value.clone(),
            from,
            smarthost,
            send_resolved: v.send_resolved.unwrap_or(false),
            subject,
            html,
            text,
            templates: Default::default(),
        });
    }
    out
}
