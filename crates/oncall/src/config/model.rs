//! The validated on-call configuration: what the rest of the crate uses.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct Config {
    pub people: Vec<Person>,
    pub schedules: Vec<Schedule>,
    /// Apprentices and the mentors whose pages they shadow.
    pub shadows: Vec<Shadow>,
    pub policies: Vec<Policy>,
    pub pager: PagerSettings,
    pub tickets: TicketSettings,
    pub smtp: Option<Smtp>,
    /// What counts as working hours in load reports (else "off-hours").
    pub working_hours: Restriction,
    pub working_hours_tz: Tz,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    pub handle: String,
    pub name: String,
    pub contacts: Vec<Contact>,
}

/// How a person is reached besides the console pager, which everyone has.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "to", rename_all = "lowercase")]
pub enum Contact {
    Webhook(String),
    Slack(String),
    Email(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Primary,
    Secondary,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Secondary => "secondary",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "primary" => Some(Role::Primary),
            "secondary" => Some(Role::Secondary),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: String,
    pub tz: Tz,
    /// Later layers cover earlier ones where they are active.
    pub layers: Vec<Layer>,
    pub overrides: Vec<Override>,
}

/// One rotation: people take turns, each for `length`, handing off at the
/// local time of `start` (so a 09:00 handoff stays 09:00 across DST).
#[derive(Debug, Clone)]
pub struct Layer {
    pub name: String,
    pub role: Role,
    pub people: Vec<String>,
    /// Local wall-clock time in the schedule's zone.
    pub start: NaiveDateTime,
    pub length: chrono::Duration,
    /// Empty: always active. Else active only inside one of these windows.
    pub restrictions: Vec<Restriction>,
}

/// A weekly window in local time: on `days`, from `from` to `to` (crossing
/// midnight when `to <= from`).
#[derive(Debug, Clone, PartialEq)]
pub struct Restriction {
    pub days: Vec<Weekday>,
    pub from: NaiveTime,
    pub to: NaiveTime,
}

#[derive(Debug, Clone)]
pub struct Override {
    pub role: Role,
    pub person: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Shadow {
    pub apprentice: String,
    pub mentor: String,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    /// How many times the steps start over after the last one.
    pub repeat: u32,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub targets: Vec<Target>,
    /// Unacknowledged this long, the page moves to the next step.
    pub escalate_after: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Target {
    OnCall { schedule: String, role: Role },
    Person { person: String },
}

#[derive(Debug, Clone)]
pub struct PagerSettings {
    pub policy: String,
    /// Resolve a page when its alerts resolve.
    pub auto_resolve: bool,
}

#[derive(Debug, Clone)]
pub struct TicketSettings {
    pub assign_to: Option<Target>,
}

#[derive(Debug, Clone)]
pub struct Smtp {
    pub smarthost: String,
    pub from: String,
}

impl Config {
    pub fn person(&self, handle: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.handle == handle)
    }

    pub fn schedule(&self, name: &str) -> Option<&Schedule> {
        self.schedules.iter().find(|s| s.name == name)
    }

    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// The apprentices shadowing `mentor`.
    pub fn apprentices_of<'a>(&'a self, mentor: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.shadows
            .iter()
            .filter(move |s| s.mentor == mentor)
            .map(|s| s.apprentice.as_str())
    }

    pub fn is_apprentice(&self, handle: &str) -> bool {
        self.shadows.iter().any(|s| s.apprentice == handle)
    }
}
