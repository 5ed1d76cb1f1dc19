//! Loading a routing config from a file: the config, plus its `templates`
//! patterns resolved as Alertmanager resolves them (relative to the config
//! file's directory; `*` and `?` in the file name; a pattern matching no
//! file is not an error, as in Alertmanager, but is noted).

use std::path::{Path, PathBuf};

use super::config::{Config, parse_config};
use super::dispatch::{Alert, Notification};
use crate::rules::file::{Problem, RuleFileError};
use crate::rules::template::Templates;

/// Our own definitions for the template names Alertmanager's bundled
/// templates provide and configs often call (`{{ template "slack.default.title" . }}`).
const DEFAULTS: &str = r#"
{{ define "__subject" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }}{{ end }}
{{ define "__text_alert_list" }}{{ range . }}Labels:
{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Annotations:
{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Source: {{ .GeneratorURL }}
{{ end }}{{ end }}
{{ define "__description" }}{{ end }}
{{ define "slack.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "slack.default.username" }}firedrill{{ end }}
{{ define "slack.default.fallback" }}{{ template "slack.default.title" . }}{{ end }}
{{ define "slack.default.pretext" }}{{ end }}
{{ define "slack.default.titlelink" }}{{ .ExternalURL }}{{ end }}
{{ define "slack.default.text" }}{{ range .Alerts }}{{ .Annotations.summary }}
{{ end }}{{ end }}
{{ define "email.default.subject" }}{{ template "__subject" . }}{{ end }}
{{ define "email.default.html" }}<h3>{{ template "__subject" . }}</h3><ul>{{ range .Alerts }}<li>{{ .Status }}: {{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}</li>{{ end }}</ul>{{ end }}
"#;

/// A firing notification with one alert, to try templates on.
fn sample_notification() -> Notification {
    let now = chrono::Utc::now();
    let labels: std::collections::BTreeMap<String, String> =
        [("alertname", "Sample"), ("severity", "page")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    Notification {
        receiver: "sample".into(),
        group_key: "{}:{}".into(),
        group_labels: labels.clone(),
        alerts: vec![Alert {
            labels,
            annotations: Default::default(),
            starts_at: now,
            ends_at: now + chrono::Duration::hours(1),
            generator_url: String::new(),
        }],
        now,
    }
}

/// Shell-style match of one file name against a pattern with `*` and `?`.
fn wildcard(pattern: &[char], name: &[char]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some('*'), _) => {
            wildcard(&pattern[1..], name) || (!name.is_empty() && wildcard(pattern, &name[1..]))
        }
        (Some('?'), Some(_)) => wildcard(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => wildcard(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// The files a template pattern names (sorted), relative to `base`.
pub fn resolve_pattern(pattern: &str, base: &Path) -> Vec<PathBuf> {
    let p = Path::new(pattern);
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    };
    let (Some(dir), Some(name)) = (p.parent(), p.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    if !name.contains(['*', '?']) {
        return if p.is_file() { vec![p] } else { Vec::new() };
    }
    let pat: Vec<char> = name.chars().collect();
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let n: Vec<char> = e.file_name().to_string_lossy().chars().collect();
            wildcard(&pat, &n)
        })
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Reads and checks a config file; template files must be readable.
pub fn load_config(path: &Path) -> Result<Config, RuleFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| RuleFileError {
        problems: vec![Problem {
            file: file.clone(),
            line: 0,
            column: 0,
            field: "file".into(),
            message: format!("cannot read: {e}"),
        }],
    })?;
    let mut config = parse_config(&text, &file)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();
    let mut templates = Templates::default();
    templates
        .add_file(DEFAULTS)
        .expect("the built-in templates parse");
    for (i, (pattern, line, column)) in config.templates.iter().enumerate() {
        let files = resolve_pattern(pattern, base);
        let at = |message: String| Problem {
            file: file.clone(),
            line: *line,
            column: *column,
            field: format!("templates[{i}]"),
            message,
        };
        if files.is_empty() {
            config.notes.push(at(format!(
                "{pattern:?} matches no file (Alertmanager accepts this too)"
            )));
        }
        for f in files {
            match std::fs::read_to_string(&f) {
                Ok(text) => match templates.add_file(&text) {
                    Ok(()) => config.template_files.push(f),
                    Err(e) => problems.push(at(format!("{}: {e}", f.display()))),
                },
                Err(e) => problems.push(at(format!("{}: cannot read: {e}", f.display()))),
            }
        }
    }
    // Each template field, rendered once with sample data: an undefined
    // template or function is found now, not at the first notification.
    let sample = sample_notification();
    for t in &config.templated {
        if let Err(e) = templates.render(&t.message, &super::payload::template_data(&sample, "")) {
            problems.push(Problem {
                message: e,
                ..t.clone()
            });
        }
    }
    let templates = std::sync::Arc::new(templates);
    for r in config.receivers.values_mut() {
        for s in &mut r.slack {
            s.templates = templates.clone();
        }
        for e in &mut r.email {
            e.templates = templates.clone();
        }
        for w in &mut r.webhooks {
            w.templates = templates.clone();
        }
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(RuleFileError { problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_resolve_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("t")).unwrap();
        for n in ["a.tmpl", "b.tmpl", "c.txt"] {
            std::fs::write(dir.path().join("t").join(n), "{{ define \"x\" }}x{{ end }}").unwrap();
        }
        let got = resolve_pattern("t/*.tmpl", dir.path());
        assert_eq!(
            got,
            vec![dir.path().join("t/a.tmpl"), dir.path().join("t/b.tmpl")]
        );
        assert_eq!(resolve_pattern("t/?.txt", dir.path()).len(), 1);
        assert!(resolve_pattern("nope/*.tmpl", dir.path()).is_empty());
        let cfg = dir.path().join("am.yml");
        std::fs::write(&cfg, "templates: ['t/*.tmpl', 'missing/*.tmpl']\nroute:\n  receiver: r\nreceivers:\n  - name: r\n").unwrap();
        let c = load_config(&cfg).unwrap();
        assert_eq!(c.template_files.len(), 2);
        assert!(
            c.notes
                .iter()
                .any(|n| n.message.contains("matches no file"))
        );
    }

    #[test]
    fn default_template_names_are_defined() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("am.yml");
        std::fs::write(&cfg, "route:\n  receiver: r\nreceivers:\n  - name: r\n    slack_configs:\n      - api_url: http://127.0.0.1:9/x\n        title: '{{ template \"slack.default.title\" . }}'\n        text: '{{ template \"slack.default.text\" . }}'\n").unwrap();
        let c = load_config(&cfg).unwrap();
        let s = &c.receivers["r"].slack[0];
        let n = sample_notification();
        let v = super::super::payload::slack_templated(&n, s, "");
        assert_eq!(v["text"], "[FIRING:1] Sample page");
    }
}
