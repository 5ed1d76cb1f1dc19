//! The roster across schedules: every shift in a range, and who is on call
//! at an instant (now and next, with shadows).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::{Config, Role};
use crate::drill::DrillOverride;
use crate::schedule::Shift;

/// Every shift of every schedule and role in `[from, to)`, or only `person`'s.
pub fn shifts(
    cfg: &Config,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    person: Option<&str>,
) -> Vec<Shift> {
    let mut out = Vec::new();
    for s in &cfg.schedules {
        for role in [Role::Primary, Role::Secondary] {
            out.extend(s.shifts(role, from, to));
        }
    }
    if let Some(p) = person {
        out.retain(|s| s.person == p);
    }
    out.sort_by(|a, b| (a.start, &a.schedule, a.role).cmp(&(b.start, &b.schedule, b.role)));
    out
}

/// Like [`shifts`], but a shift under way at `from` keeps its real start
/// (calendars show whole shifts).
pub fn whole_shifts(
    cfg: &Config,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    person: Option<&str>,
) -> Vec<Shift> {
    let longest = cfg
        .schedules
        .iter()
        .flat_map(|s| s.layers.iter().map(|l| l.length))
        .max()
        .unwrap_or_default()
        .min(Duration::days(31));
    let mut out = shifts(cfg, from - longest, to, person);
    out.retain(|s| s.end > from);
    out
}

/// One role of one schedule at an instant.
#[derive(Debug, Serialize)]
pub struct OnCallNow {
    pub schedule: String,
    pub time_zone: String,
    pub role: Role,
    pub now: Option<Shift>,
    pub next: Option<Shift>,
    /// Apprentices shadowing the person on call now.
    pub shadows: Vec<String>,
}

/// Who holds each role of each schedule at `at`, and who is next. A drill's
/// override holding at `at` holds every primary role (shift source
/// `drill`) with its shadow; next is who takes over when it ends.
pub fn who(cfg: &Config, at: DateTime<Utc>, drill: Option<&DrillOverride>) -> Vec<OnCallNow> {
    let drill = drill.filter(|d| d.covers(at));
    let mut out = Vec::new();
    for s in &cfg.schedules {
        for role in [Role::Primary, Role::Secondary] {
            if !s.layers.iter().any(|l| l.role == role)
                && !s.overrides.iter().any(|x| x.role == role)
            {
                continue;
            }
            let (now, next) = match drill {
                Some(d) if role == Role::Primary => {
                    let (then, after) = s.now_and_next(role, d.until, Duration::days(60));
                    let shift = Shift {
                        schedule: s.name.clone(),
                        role,
                        person: d.primary.clone(),
                        start: d.since,
                        end: d.until,
                        source: "drill".into(),
                    };
                    (Some(shift), then.or(after))
                }
                _ => s.now_and_next(role, at, Duration::days(60)),
            };
            let mut shadows: Vec<String> = now
                .as_ref()
                .map(|n| cfg.apprentices_of(&n.person).map(str::to_string).collect())
                .unwrap_or_default();
            if let Some(d) = drill
                && role == Role::Primary
                && let Some(sh) = &d.shadow
                && !shadows.contains(sh)
            {
                shadows.push(sh.clone());
            }
            out.push(OnCallNow {
                schedule: s.name.clone(),
                time_zone: s.tz.name().to_string(),
                role,
                now,
                next,
                shadows,
            });
        }
    }
    out
}
