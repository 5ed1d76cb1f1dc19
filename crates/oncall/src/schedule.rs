//! Who is on call: rotations in local time (handoffs keep their wall-clock
//! time across daylight-saving changes), restrictions, overrides, and the
//! final schedule over a range as a list of shifts.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::config::{Layer, Restriction, Role, Schedule};

/// A local time as an instant. In a gap (clocks jump forward) the first
/// instant after it; when ambiguous (clocks go back) the earlier one.
pub fn localize(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut t = local;
    for _ in 0..4 {
        match tz.from_local_datetime(&t) {
            chrono::LocalResult::Single(d) => return d.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(a, _) => return a.with_timezone(&Utc),
            chrono::LocalResult::None => t += Duration::minutes(30),
        }
    }
    Utc.from_utc_datetime(&local)
}

fn to_local(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

/// One person on call for a role over `[start, end)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shift {
    pub schedule: String,
    pub role: Role,
    pub person: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The layer or `override` it comes from.
    pub source: String,
}

impl Restriction {
    /// Whether the local time `t` falls in this window.
    pub fn contains(&self, t: NaiveDateTime) -> bool {
        let (day, time) = (t.weekday(), t.time());
        if self.from < self.to {
            self.days.contains(&day) && time >= self.from && time < self.to
        } else {
            // Crosses midnight (or `to == from == 00:00`: the whole day).
            (self.days.contains(&day) && time >= self.from)
                || (self.days.contains(&day.pred()) && time < self.to)
        }
    }
}

impl Layer {
    /// The index of the rotation turn covering instant `t` (may be negative
    /// before `start`).
    fn turn(&self, tz: Tz, t: DateTime<Utc>) -> i64 {
        let local = to_local(tz, t);
        let len = self.length.num_seconds().max(1);
        let mut k = (local - self.start).num_seconds().div_euclid(len);
        // Correct for the hour that a DST change adds or removes.
        while t < self.turn_start(tz, k) {
            k -= 1;
        }
        while t >= self.turn_start(tz, k + 1) {
            k += 1;
        }
        k
    }

    fn turn_start(&self, tz: Tz, k: i64) -> DateTime<Utc> {
        let offset = Duration::seconds(self.length.num_seconds().saturating_mul(k));
        localize(tz, self.start + offset)
    }

    /// Who this layer puts on call at `t`, if anyone (before its start, or
    /// outside its restrictions, nobody).
    pub fn on_call(&self, tz: Tz, t: DateTime<Utc>) -> Option<&str> {
        if self.people.is_empty() || t < localize(tz, self.start) {
            return None;
        }
        if !self.restrictions.is_empty() {
            let local = to_local(tz, t);
            if !self.restrictions.iter().any(|r| r.contains(local)) {
                return None;
            }
        }
        let k = self.turn(tz, t);
        let i = k.rem_euclid(self.people.len() as i64) as usize;
        Some(&self.people[i])
    }

    /// Instants in `[from, to)` where this layer may change hands or turn
    /// on or off.
    fn boundaries(
        &self,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        out: &mut Vec<DateTime<Utc>>,
    ) {
        let mut k = self.turn(tz, from).max(0);
        loop {
            let b = self.turn_start(tz, k);
            if b >= to {
                break;
            }
            if b >= from {
                out.push(b);
            }
            k += 1;
        }
        restriction_edges(&self.restrictions, tz, from, to, out);
    }
}

fn restriction_edges(
    rs: &[Restriction],
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    out: &mut Vec<DateTime<Utc>>,
) {
    if rs.is_empty() {
        return;
    }
    let first: NaiveDate = to_local(tz, from).date() - Duration::days(1);
    let last: NaiveDate = to_local(tz, to).date() + Duration::days(1);
    let mut d = first;
    while d <= last {
        for r in rs {
            for time in [r.from, r.to] {
                let b = localize(tz, d.and_time(time));
                if b > from && b < to {
                    out.push(b);
                }
            }
        }
        d += Duration::days(1);
    }
}

impl Schedule {
    /// Who holds `role` at `t`: the last matching override, else the last
    /// layer of that role that is active.
    pub fn on_call(&self, role: Role, t: DateTime<Utc>) -> Option<(&str, String)> {
        if let Some(o) = self
            .overrides
            .iter()
            .rev()
            .find(|o| o.role == role && o.from <= t && t < o.to)
        {
            return Some((&o.person, "override".to_string()));
        }
        self.layers
            .iter()
            .rev()
            .filter(|l| l.role == role)
            .find_map(|l| l.on_call(self.tz, t).map(|p| (p, l.name.clone())))
    }

    /// The final schedule for `role` over `[from, to)`: consecutive shifts,
    /// gaps (nobody on call) left out.
    pub fn shifts(&self, role: Role, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Shift> {
        let mut bounds = vec![from, to];
        for l in self.layers.iter().filter(|l| l.role == role) {
            l.boundaries(self.tz, from, to, &mut bounds);
        }
        for o in self.overrides.iter().filter(|o| o.role == role) {
            for b in [o.from, o.to] {
                if b > from && b < to {
                    bounds.push(b);
                }
            }
        }
        bounds.sort();
        bounds.dedup();
        let mut out: Vec<Shift> = Vec::new();
        for w in bounds.windows(2) {
            let (start, end) = (w[0], w[1]);
            let Some((person, source)) = self.on_call(role, start) else {
                continue;
            };
            match out.last_mut() {
                Some(last)
                    if last.end == start && last.person == person && last.source == source =>
                {
                    last.end = end;
                }
                _ => out.push(Shift {
                    schedule: self.name.clone(),
                    role,
                    person: person.to_string(),
                    start,
                    end,
                    source,
                }),
            }
        }
        out
    }

    /// The shift of `role` covering `t`, and the next one after it.
    pub fn now_and_next(
        &self,
        role: Role,
        t: DateTime<Utc>,
        horizon: Duration,
    ) -> (Option<Shift>, Option<Shift>) {
        let shifts = self.shifts(role, t, t + horizon);
        let mut it = shifts.into_iter();
        let first = it.next();
        match first {
            Some(s) if s.start == t => (Some(s), it.next()),
            other => (None, other),
        }
    }
}

/// The longest range a schedule is expanded over.
pub const MAX_RANGE: Duration = Duration::days(400);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Override, Restriction};
    use chrono::{NaiveTime, Weekday};

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        Utc.from_utc_datetime(&dt(s))
    }

    fn layer(people: &[&str], start: &str, len: Duration) -> Layer {
        Layer {
            name: "l".into(),
            role: Role::Primary,
            people: people.iter().map(|s| s.to_string()).collect(),
            start: dt(start),
            length: len,
            restrictions: vec![],
        }
    }

    fn sched(tz: Tz, layers: Vec<Layer>) -> Schedule {
        Schedule {
            name: "s".into(),
            tz,
            layers,
            overrides: vec![],
        }
    }

    #[test]
    fn daily_handoff_keeps_local_time_across_spring_forward() {
        // Europe/Berlin moves from UTC+1 to UTC+2 on 2026-03-29 at 02:00.
        let s = sched(
            chrono_tz::Europe::Berlin,
            vec![layer(&["a", "b"], "2026-03-27 09:00", Duration::days(1))],
        );
        let shifts = s.shifts(
            Role::Primary,
            utc("2026-03-27 08:00"),
            utc("2026-03-31 06:00"),
        );
        let starts: Vec<String> = shifts
            .iter()
            .map(|s| s.start.format("%m-%d %H:%M").to_string())
            .collect();
        // 09:00 local = 08:00 UTC before, 07:00 UTC after the change.
        assert_eq!(
            starts,
            ["03-27 08:00", "03-28 08:00", "03-29 07:00", "03-30 07:00"]
        );
        let people: Vec<&str> = shifts.iter().map(|s| s.person.as_str()).collect();
        assert_eq!(people, ["a", "b", "a", "b"]);
        // The shift across the change is 23 hours long.
        assert_eq!(shifts[1].end - shifts[1].start, Duration::hours(23));
    }

    #[test]
    fn weekly_rotation_across_fall_back_in_new_york() {
        // America/New_York falls back on 2026-11-01 at 02:00 (UTC-4 to UTC-5).
        let s = sched(
            chrono_tz::America::New_York,
            vec![layer(
                &["a", "b", "c"],
                "2026-10-26 09:00",
                Duration::weeks(1),
            )],
        );
        let at = |t: &str| s.on_call(Role::Primary, utc(t)).map(|(p, _)| p.to_string());
        assert_eq!(at("2026-10-26 13:00").as_deref(), Some("a")); // 09:00 EDT
        assert_eq!(at("2026-11-02 13:59").as_deref(), Some("a")); // 08:59 EST
        assert_eq!(at("2026-11-02 14:00").as_deref(), Some("b")); // 09:00 EST
        assert_eq!(at("2026-11-16 14:00").as_deref(), Some("a"));
        assert_eq!(at("2026-10-26 12:59"), None, "nobody before the start");
    }

    #[test]
    fn restrictions_limit_a_layer_to_office_hours_and_a_later_layer_covers() {
        let mut day = layer(&["a"], "2026-11-02 00:00", Duration::weeks(1));
        day.restrictions = vec![Restriction {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            from: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            to: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        }];
        let mut night = layer(&["n"], "2026-11-02 00:00", Duration::weeks(1));
        night.restrictions = vec![Restriction {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            from: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            to: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        }];
        let s = sched(chrono_tz::Europe::Berlin, vec![day, night]);
        let at = |t: &str| s.on_call(Role::Primary, utc(t)).map(|(p, _)| p.to_string());
        assert_eq!(at("2026-11-25 08:00").as_deref(), Some("a")); // Wed 09:00 CET
        assert_eq!(at("2026-11-25 15:59").as_deref(), Some("a"));
        assert_eq!(at("2026-11-25 16:00").as_deref(), Some("n")); // 17:00 CET
        assert_eq!(at("2026-11-28 03:00").as_deref(), Some("n")); // Sat 04:00: Fri night's window
        assert_eq!(at("2026-11-28 12:00"), None); // Saturday noon: nobody
        let shifts = s.shifts(
            Role::Primary,
            utc("2026-11-25 00:00"),
            utc("2026-11-26 00:00"),
        );
        let v: Vec<(String, &str)> = shifts
            .iter()
            .map(|x| (x.start.format("%H:%M").to_string(), x.person.as_str()))
            .collect();
        assert_eq!(
            v,
            [
                ("00:00".into(), "n"),
                ("08:00".into(), "a"),
                ("16:00".into(), "n")
            ]
        );
    }

    #[test]
    fn overrides_win_and_split_shifts() {
        let mut s = sched(
            chrono_tz::UTC,
            vec![layer(&["a", "b"], "2026-11-23 09:00", Duration::days(1))],
        );
        s.overrides.push(Override {
            role: Role::Primary,
            person: "c".into(),
            from: utc("2026-11-24 12:00"),
            to: utc("2026-11-24 15:00"),
        });
        let shifts = s.shifts(
            Role::Primary,
            utc("2026-11-24 09:00"),
            utc("2026-11-25 09:00"),
        );
        let v: Vec<(&str, &str)> = shifts
            .iter()
            .map(|x| (x.person.as_str(), x.source.as_str()))
            .collect();
        assert_eq!(v, [("b", "l"), ("c", "override"), ("b", "l")]);
        assert_eq!(shifts[1].start, utc("2026-11-24 12:00"));
        assert_eq!(shifts[2].end, utc("2026-11-25 09:00"));
        // A secondary role is untouched by a primary override.
        assert!(
            s.shifts(
                Role::Secondary,
                utc("2026-11-24 09:00"),
                utc("2026-11-25 09:00")
            )
            .is_empty()
        );
    }

    #[test]
    fn time_zones_shift_the_same_local_handoff() {
        let tokyo = sched(
            chrono_tz::Asia::Tokyo,
            vec![layer(&["t"], "2026-11-24 09:00", Duration::days(1))],
        );
        let berlin = sched(
            chrono_tz::Europe::Berlin,
            vec![layer(&["b"], "2026-11-24 09:00", Duration::days(1))],
        );
        assert_eq!(
            tokyo.shifts(
                Role::Primary,
                utc("2026-11-24 00:00"),
                utc("2026-11-25 00:00")
            )[0]
            .start,
            utc("2026-11-24 00:00")
        );
        assert_eq!(
            berlin.shifts(
                Role::Primary,
                utc("2026-11-24 00:00"),
                utc("2026-11-25 00:00")
            )[0]
            .start,
            utc("2026-11-24 08:00")
        );
    }

    #[test]
    fn a_handoff_in_the_spring_gap_moves_to_the_first_instant_after_it() {
        // 02:30 does not exist in Berlin on 2026-03-29.
        assert_eq!(
            localize(chrono_tz::Europe::Berlin, dt("2026-03-29 02:30")),
            utc("2026-03-29 01:00")
        );
        // 02:30 happens twice on 2026-10-25: the earlier one (CEST) is taken.
        assert_eq!(
            localize(chrono_tz::Europe::Berlin, dt("2026-10-25 02:30")),
            utc("2026-10-25 00:30")
        );
    }
}
