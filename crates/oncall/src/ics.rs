//! iCalendar export of the final schedule: one event per shift, so people
//! can subscribe to their on-call turns in any calendar.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, EventLike};

use crate::config::Config;
use crate::schedule::Shift;

/// The shifts as an iCalendar (RFC 5545) document.
pub fn export(cfg: &Config, shifts: &[Shift], stamp: DateTime<Utc>) -> String {
    let mut cal = Calendar::new();
    cal.name("firedrill on call");
    for s in shifts {
        let name = cfg
            .person(&s.person)
            .map(|p| p.name.as_str())
            .unwrap_or(&s.person);
        let mut ev = icalendar::Event::new();
        ev.uid(&format!(
            "{}-{}-{}-{}@firedrill",
            s.schedule,
            s.role.as_str(),
            s.person,
            s.start.timestamp()
        ))
        .summary(&format!("On call ({}): {name}", s.role.as_str()))
        .description(&format!(
            "Schedule {}, {} from {}.",
            s.schedule,
            s.role.as_str(),
            s.source
        ))
        .timestamp(stamp)
        .starts(s.start)
        .ends(s.end);
        cal.push(ev.done());
    }
    cal.done().to_string()
}
