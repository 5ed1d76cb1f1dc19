//! Checks of single values of the on-call file (time zones, roles, people,
//! local times, days, restrictions, targets), each recording its problem.

use std::collections::BTreeSet;

use chrono::{NaiveDateTime, NaiveTime, Weekday};
use chrono_tz::Tz;
use diag::Report;
use serde_saphyr::Spanned as S;

use super::model::*;
use super::raw::*;

pub(super) const ALL_DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

const DAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A day by its English name or its first three letters, any case
/// (`mon`, `Monday`); anything else (`monkey`, `mo`) is no day.
pub(super) fn weekday(s: &str) -> Option<Weekday> {
    let s = s.trim().to_lowercase();
    DAY_NAMES
        .iter()
        .position(|name| s == *name || (s.len() == 3 && name.starts_with(s.as_str())))
        .map(|i| ALL_DAYS[i])
}

pub(super) struct Check {
    pub report: Report,
}

impl Check {
    pub fn at<T>(&mut self, s: &S<T>, field: &str, message: impl Into<String>) {
        self.report.at(s, field, message);
    }

    pub fn tz(&mut self, s: &S<String>, field: &str) -> Option<Tz> {
        match s.value.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                self.at(
                    s,
                    field,
                    format!(
                        "unknown time zone {:?} (use an IANA name such as Europe/Berlin or UTC)",
                        s.value
                    ),
                );
                None
            }
        }
    }

    pub fn role(&mut self, s: &S<String>, field: &str) -> Role {
        Role::parse(&s.value).unwrap_or_else(|| {
            self.at(
                s,
                field,
                format!("unknown role {:?}: primary or secondary", s.value),
            );
            Role::Primary
        })
    }

    pub fn person(&mut self, s: &S<String>, field: &str, people: &BTreeSet<String>) {
        if !people.contains(&s.value) {
            self.at(s, field, format!("no person with handle {:?}", s.value));
        }
    }

    pub fn local(&mut self, s: &S<String>, field: &str) -> Option<NaiveDateTime> {
        let v = s.value.trim();
        let parsed = [
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        });
        if parsed.is_none() {
            self.at(
                s,
                field,
                format!(
                    "{v:?} is not a local date and time (write 2026-11-02 09:00, in the schedule's time zone)"
                ),
            );
        }
        parsed
    }

    pub fn time(&mut self, s: &S<String>, field: &str) -> NaiveTime {
        let v = s.value.trim();
        if v == "24:00" {
            return NaiveTime::MIN;
        }
        NaiveTime::parse_from_str(v, "%H:%M").unwrap_or_else(|_| {
            self.at(s, field, format!("{v:?} is not a time of day (HH:MM)"));
            NaiveTime::MIN
        })
    }

    pub fn restriction(&mut self, r: &S<RawRestriction>, field: &str) -> Restriction {
        let days = match &r.value.days {
            None => ALL_DAYS.to_vec(),
            Some(list) => {
                if list.value.is_empty() {
                    self.at(list, &format!("{field}.days"), "names no day");
                }
                list.value
                    .iter()
                    .enumerate()
                    .filter_map(|(i, d)| match weekday(&d.value) {
                        Some(w) => Some(w),
                        None => {
                            self.at(
                                d,
                                &format!("{field}.days[{i}]"),
                                format!(
                                    "{:?} is not a day (mon, tue, … sun, or the full name)",
                                    d.value
                                ),
                            );
                            None
                        }
                    })
                    .collect()
            }
        };
        let from = self.time(&r.value.from, &format!("{field}.from"));
        let to = self.time(&r.value.to, &format!("{field}.to"));
        if from == to && r.value.from.value.trim() != "00:00" {
            self.at(r, field, "from and to are equal: an empty window");
        }
        Restriction { days, from, to }
    }

    pub fn target(
        &mut self,
        t: &S<RawTarget>,
        field: &str,
        people: &BTreeSet<String>,
        schedules: &BTreeSet<String>,
    ) -> Option<Target> {
        match (&t.value.schedule, &t.value.role, &t.value.person) {
            (Some(s), role, None) => {
                if !schedules.contains(&s.value) {
                    self.at(
                        s,
                        &format!("{field}.schedule"),
                        format!("no schedule named {:?}", s.value),
                    );
                }
                let role = match role {
                    Some(r) => self.role(r, &format!("{field}.role")),
                    None => Role::Primary,
                };
                Some(Target::OnCall {
                    schedule: s.value.clone(),
                    role,
                })
            }
            (None, None, Some(p)) => {
                self.person(p, &format!("{field}.person"), people);
                Some(Target::Person {
                    person: p.value.clone(),
                })
            }
            _ => {
                self.at(t, field, "a target is either {schedule, role} or {person}");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11: days were matched by their first three bytes, so `monkey`
    /// was Monday and a non-ASCII name panicked slicing inside a character.
    #[test]
    fn days_are_whole_names_or_three_letters() {
        assert_eq!(weekday("mon"), Some(Weekday::Mon));
        assert_eq!(weekday("Monday"), Some(Weekday::Mon));
        assert_eq!(weekday(" SUN "), Some(Weekday::Sun));
        assert_eq!(weekday("wednesday"), Some(Weekday::Wed));
        for no in [
            "monkey",
            "mo",
            "",
            "satur",
            "tuesdays",
            "ääh",
            "日曜日",
            "ß",
            "sönday",
        ] {
            assert_eq!(weekday(no), None, "{no}");
        }
    }
}
