//! Who is on call during a drill: the trainee is the primary of every
//! schedule (and the shadow, in a shadow drill, shadows them) for the
//! drill's length. Implemented by the on-call engine (`oncall` crate) and
//! handed to the drill engine by `up`, so this crate does not depend on it.

use chrono::{DateTime, Utc};

pub trait Roster: Send + Sync {
    /// Whether `person` is a handle of the on-call file.
    fn knows(&self, person: &str) -> bool;
    /// From now until `until` (or [`Roster::release`]), pages go to
    /// `trainee` first, and to `shadow` marked as shadow.
    fn put_on_call(
        &self,
        trainee: &str,
        shadow: Option<&str>,
        until: DateTime<Utc>,
    ) -> Result<(), String>;
    /// The drill is over: the schedules' own rotation again.
    fn release(&self);
}
