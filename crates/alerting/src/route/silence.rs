//! Silences: matchers and a time range; kept in the data dir so they
//! survive a restart; shaped like Alertmanager's API v2.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::matcher::{Matcher, Op};

/// A matcher as API v2 writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMatcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Silence {
    #[serde(default)]
    pub id: String,
    pub matchers: Vec<ApiMatcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
    #[serde(default = "Utc::now")]
    pub updated_at: DateTime<Utc>,
}

impl Silence {
    pub fn state(&self, now: DateTime<Utc>) -> &'static str {
        if now >= self.ends_at {
            "expired"
        } else if now < self.starts_at {
            "pending"
        } else {
            "active"
        }
    }

    fn compiled(&self) -> Vec<Matcher> {
        self.matchers
            .iter()
            .filter_map(|m| {
                let op = match (m.is_regex, m.is_equal) {
                    (false, true) => Op::Eq,
                    (false, false) => Op::Ne,
                    (true, true) => Op::Re,
                    (true, false) => Op::NotRe,
                };
                Matcher::new(&m.name, op, &m.value).ok()
            })
            .collect()
    }

    pub fn mutes(&self, labels: &BTreeMap<String, String>, now: DateTime<Utc>) -> bool {
        self.state(now) == "active" && self.compiled().iter().all(|m| m.matches(labels))
    }

    pub fn to_json(&self, now: DateTime<Utc>) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        v["status"] = json!({ "state": self.state(now) });
        v
    }
}

/// Converts `name=value`-style matchers (CLI) to API matchers.
pub fn api_matchers(list: &[String]) -> Result<Vec<ApiMatcher>, String> {
    list.iter()
        .map(|s| {
            let m = Matcher::parse(s).map_err(|e| format!("{s:?} is not a matcher: {e}"))?;
            Ok(ApiMatcher {
                name: m.name.clone(),
                value: m.value.clone(),
                is_regex: matches!(m.op, Op::Re | Op::NotRe),
                is_equal: matches!(m.op, Op::Eq | Op::Re),
            })
        })
        .collect()
}

/// Why the silences file could not be opened; `up` refuses to start rather
/// than overwrite a file it cannot read at the next save.
#[derive(Debug, thiserror::Error)]
pub enum SilencesError {
    #[error("{}: could not read the silences: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "{}:{line}:{column}: the silences are not valid JSON ({problem}); fix or move the file away (it was left untouched)",
        path.display()
    )]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        problem: String,
    },
}

impl SilencesError {
    fn json(path: &std::path::Path, e: serde_json::Error) -> Self {
        let full = e.to_string();
        let at = format!(" at line {} column {}", e.line(), e.column());
        SilencesError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            problem: full.strip_suffix(&at).unwrap_or(&full).to_string(),
        }
    }
}

/// How long an expired silence is kept (Alertmanager's default data
/// retention).
pub const RETENTION: chrono::Duration = chrono::Duration::hours(120);

/// All silences, persisted as JSON.
pub struct Silences {
    path: Option<PathBuf>,
    list: Mutex<Vec<Silence>>,
}

impl Silences {
    /// Silences kept in `path` (none yet if it does not exist), or in
    /// memory only without one. A file that cannot be read or parsed is an
    /// error, never silently replaced.
    pub fn open(path: Option<PathBuf>) -> Result<Self, SilencesError> {
        let list = match &path {
            None => Vec::new(),
            Some(p) => match std::fs::read(p) {
                Ok(b) => serde_json::from_slice(&b).map_err(|e| SilencesError::json(p, e))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(error) => {
                    return Err(SilencesError::Read {
                        path: p.clone(),
                        error,
                    });
                }
            },
        };
        Ok(Silences {
            path,
            list: Mutex::new(list),
        })
    }

    /// Forgets silences that expired more than [`RETENTION`] ago, as
    /// Alertmanager does (`--data.retention`, 120h by default). Returns how
    /// many were dropped.
    pub fn prune(&self, now: DateTime<Utc>) -> usize {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        let before = list.len();
        list.retain(|s| now - s.ends_at < RETENTION);
        let dropped = before - list.len();
        if dropped > 0 {
            self.save(&list);
        }
        dropped
    }

    fn save(&self, list: &[Silence]) {
        if let Some(p) = &self.path {
            let tmp = p.with_extension("tmp");
            let ok = std::fs::write(&tmp, serde_json::to_vec_pretty(list).unwrap_or_default())
                .and_then(|_| std::fs::rename(&tmp, p));
            if let Err(e) = ok {
                tracing::error!(path = %p.display(), error = %e, "could not save silences");
            }
        }
    }

    /// Creates (or, with a known id, updates) a silence; returns its id.
    /// Silences long expired are forgotten on the way.
    pub fn upsert(&self, mut s: Silence, now: DateTime<Utc>) -> Result<String, String> {
        self.prune(now);
        if s.matchers.is_empty() {
            return Err("a silence needs at least one matcher".into());
        }
        if s.ends_at <= s.starts_at {
            return Err("end time must be after start time".into());
        }
        if s.ends_at <= now {
            return Err("end time can't be in the past".into());
        }
        for m in &s.matchers {
            let op = if m.is_regex { Op::Re } else { Op::Eq };
            Matcher::new(&m.name, op, &m.value)?;
        }
        if s.matchers.iter().all(|m| {
            Matcher::new(&m.name, if m.is_regex { Op::Re } else { Op::Eq }, &m.value)
                .is_ok_and(|x| x.matches(&BTreeMap::new()) == m.is_equal)
        }) {
            return Err("at least one matcher must not match the empty string".into());
        }
        s.updated_at = now;
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        if s.id.is_empty() {
            s.id = format!(
                "{:016x}{:04x}",
                now.timestamp_nanos_opt().unwrap_or(0),
                list.len() % 0xffff
            );
            list.push(s.clone());
        } else {
            match list.iter_mut().find(|x| x.id == s.id) {
                Some(x) => *x = s.clone(),
                None => return Err(format!("silence {} not found", s.id)),
            }
        }
        self.save(&list);
        Ok(s.id)
    }

    /// Expires a silence now.
    pub fn expire(&self, id: &str, now: DateTime<Utc>) -> Result<(), String> {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        let s = list
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| format!("silence {id} not found"))?;
        if s.state(now) == "expired" {
            return Err(format!("silence {id} already expired"));
        }
        s.ends_at = now;
        s.updated_at = now;
        self.save(&list);
        Ok(())
    }

    pub fn list(&self) -> Vec<Silence> {
        self.list.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether any active silence mutes `labels`.
    pub fn mutes(&self, labels: &BTreeMap<String, String>, now: DateTime<Utc>) -> bool {
        self.list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|s| s.mutes(labels, now))
    }
}
