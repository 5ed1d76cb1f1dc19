//! A drill's hold on the rotation: while it lasts, every escalation target
//! of role primary resolves to the trainee, and the drill's shadow (if any)
//! is paged beside them, marked shadow. The drill engine sets it through
//! its `Roster` (wired in the binary, so this crate knows nothing of
//! drills); it lives in memory: a drill that outlives a restart sets it
//! again.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::OnCallError;
use crate::pages::OnCall;

/// Who holds the primary role for a drill, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrillOverride {
    /// The trainee: primary of every schedule.
    pub primary: String,
    /// Paged beside the trainee, marked shadow.
    pub shadow: Option<String>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl DrillOverride {
    /// Whether it holds at `at`.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.since <= at && at < self.until
    }
}

impl OnCall {
    /// From now until `until` (or [`OnCall::clear_override`]), pages for a
    /// primary go to `primary`, with `shadow` beside them. Replaces an
    /// earlier override.
    pub fn set_override(
        &self,
        primary: &str,
        shadow: Option<&str>,
        until: DateTime<Utc>,
    ) -> Result<DrillOverride, OnCallError> {
        self.person(primary)?;
        if let Some(s) = shadow {
            self.person(s)?;
            if s == primary {
                return Err(OnCallError::Invalid(format!(
                    "{s} cannot shadow themselves"
                )));
            }
        }
        let since = self.now();
        if until <= since {
            return Err(OnCallError::Invalid(format!(
                "the override would end at {until}, which is not after now ({since})"
            )));
        }
        let o = DrillOverride {
            primary: primary.to_string(),
            shadow: shadow.map(str::to_string),
            since,
            until,
        };
        tracing::info!(primary, shadow = ?shadow, %until, "drill override set: the trainee is on call");
        *self.drill_lock() = Some(o.clone());
        Ok(o)
    }

    /// Back to the schedules' own rotation.
    pub fn clear_override(&self) {
        if self.drill_lock().take().is_some() {
            tracing::info!("drill override cleared: the rotation is on call again");
        }
    }

    /// The override holding at `at`, if any.
    pub fn override_at(&self, at: DateTime<Utc>) -> Option<DrillOverride> {
        self.drill_lock().clone().filter(|o| o.covers(at))
    }

    fn drill_lock(&self) -> std::sync::MutexGuard<'_, Option<DrillOverride>> {
        // The value is replaced whole: a panic elsewhere cannot leave it half set.
        self.drill.lock().unwrap_or_else(|e| e.into_inner())
    }
}
