//! Alertmanager's time intervals (`time_intervals:` and the older
//! `mute_time_intervals:`): times of day, weekdays, days of the month
//! (negative counts from the end), months, years, in a time zone. Routes
//! name them in `mute_time_intervals` and `active_time_intervals`.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::receivers::Report;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNamed {
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub time_intervals: Vec<RawInterval>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInterval {
    #[serde(default)]
    times: Option<Vec<RawTime>>,
    #[serde(default)]
    weekdays: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    days_of_month: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    months: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    years: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    location: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTime {
    #[serde(default)]
    start_time: Option<Spanned<String>>,
    #[serde(default)]
    end_time: Option<Spanned<String>>,
}

/// One interval: every present part must contain the instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Minutes of the day, `[start, end)`.
    pub times: Option<Vec<(u32, u32)>>,
    /// 0 = Sunday .. 6 = Saturday, inclusive ranges.
    pub weekdays: Option<Vec<(u32, u32)>>,
    pub days_of_month: Option<Vec<(i32, i32)>>,
    pub months: Option<Vec<(u32, u32)>>,
    pub years: Option<Vec<(i32, i32)>>,
    pub location: Option<chrono_tz::Tz>,
}

/// A named set of intervals: active when any interval contains the instant.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeInterval {
    pub name: String,
    pub intervals: Vec<Interval>,
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn split_range<T>(s: &str, member: impl Fn(&str) -> Result<T, String>) -> Result<(T, T), String> {
    let l = s.to_lowercase();
    match l.split(':').collect::<Vec<_>>().as_slice() {
        [one] => Ok((member(one)?, member(one)?)),
        [a, b] => Ok((member(a)?, member(b)?)),
        _ => Err(format!("couldn't parse range {l}, invalid format")),
    }
}

fn weekday(s: &str) -> Result<u32, String> {
    WEEKDAYS
        .iter()
        .position(|d| *d == s)
        .map(|i| i as u32)
        .ok_or_else(|| format!("{s} is not a valid weekday"))
}

fn month(s: &str) -> Result<u32, String> {
    if let Some(i) = MONTHS.iter().position(|m| *m == s) {
        return Ok(i as u32 + 1);
    }
    match s.parse::<u32>() {
        Ok(n) if (1..=12).contains(&n) => Ok(n),
        _ => Err(format!("{s} is not a valid month")),
    }
}

fn int(s: &str) -> Result<i32, String> {
    s.parse()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: invalid syntax"))
}

fn day_range(s: &str) -> Result<(i32, i32), String> {
    let (b, e) = split_range(s, int)?;
    for d in [b, e] {
        if d == 0 || !(-31..=31).contains(&d) {
            return Err(format!("{d} is not a valid day of the month: out of range"));
        }
    }
    if b < 0 && e > 0 {
        return Err("end day must be negative if start day is negative".into());
    }
    let norm = |d: i32| if d < 0 { 28 + d } else { d };
    if norm(b) > norm(e) {
        return Err(format!("end day {e} is always before start day {b}"));
    }
    Ok((b, e))
}

fn minutes(s: &str) -> Result<u32, String> {
    let (h, m) = s
        .split_once(':')
        .filter(|(h, m)| {
            (1..=2).contains(&h.len())
                && m.len() == 2
                && h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
        })
        .ok_or_else(|| format!("couldn't parse timestamp {s}, invalid format"))?;
    let (h, m): (u32, u32) = (h.parse().unwrap_or(99), m.parse().unwrap_or(99));
    if h > 24 || m > 60 {
        return Err(format!("timestamp {s} out of range"));
    }
    Ok(h * 60 + m)
}

fn list<T>(
    r: &mut Report,
    items: &Option<Vec<Spanned<String>>>,
    field: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<Vec<T>> {
    let items = items.as_ref()?;
    let mut out = Vec::new();
    for (i, s) in items.iter().enumerate() {
        match parse(&s.value) {
            Ok(v) => out.push(v),
            Err(e) => r.at(s, &format!("{field}[{i}]"), e),
        }
    }
    Some(out)
}

pub(crate) fn build(raw: &RawNamed, r: &mut Report, field: &str) -> TimeInterval {
    let mut intervals = Vec::new();
    for (i, iv) in raw.time_intervals.iter().enumerate() {
        let f = format!("{field}.time_intervals[{i}]");
        let times = iv.times.as_ref().map(|ts| {
            let mut out = Vec::new();
            for (j, t) in ts.iter().enumerate() {
                let tf = format!("{f}.times[{j}]");
                let (Some(s), Some(e)) = (&t.start_time, &t.end_time) else {
                    let at = t.start_time.as_ref().or(t.end_time.as_ref());
                    match at {
                        Some(at) => r.at(at, &tf, "both start and end times must be provided"),
                        None => r.problems.push(crate::rules::file::Problem {
                            file: r.file.to_string(),
                            line: raw.name.as_ref().map(|n| n.referenced.line()).unwrap_or(0),
                            column: raw
                                .name
                                .as_ref()
                                .map(|n| n.referenced.column())
                                .unwrap_or(0),
                            field: tf.clone(),
                            message: "both start and end times must be provided".into(),
                        }),
                    }
                    continue;
                };
                match (minutes(&s.value), minutes(&e.value)) {
                    (Ok(a), Ok(b)) if a < b => out.push((a, b)),
                    (Ok(_), Ok(_)) => r.at(
                        s,
                        &tf,
                        "start time cannot be equal or greater than end time",
                    ),
                    (Err(x), _) => r.at(s, &format!("{tf}.start_time"), x),
                    (_, Err(x)) => r.at(e, &format!("{tf}.end_time"), x),
                }
            }
            out
        });
        let weekdays = list(r, &iv.weekdays, &format!("{f}.weekdays"), |s| {
            let (b, e) = split_range(s, weekday)?;
            if b > e {
                return Err("start day cannot be before end day".into());
            }
            Ok((b, e))
        });
        let days_of_month = list(
            r,
            &iv.days_of_month,
            &format!("{f}.days_of_month"),
            day_range,
        );
        let months = list(r, &iv.months, &format!("{f}.months"), |s| {
            let (b, e) = split_range(s, month)?;
            if b > e {
                return Err(format!(
                    "end month {} is before start month {}",
                    MONTHS[e as usize - 1],
                    MONTHS[b as usize - 1]
                ));
            }
            Ok((b, e))
        });
        let years = list(r, &iv.years, &format!("{f}.years"), |s| {
            let (b, e) = split_range(s, int)?;
            if b > e {
                return Err(format!("end year {e} is before start year {b}"));
            }
            Ok((b, e))
        });
        let location = iv.location.as_ref().and_then(|l| {
            let name = if l.value == "Local" { "UTC" } else { &l.value };
            match name.parse::<chrono_tz::Tz>() {
                Ok(tz) => Some(tz),
                Err(_) => {
                    r.at(
                        l,
                        &format!("{f}.location"),
                        format!("unknown time zone {}", l.value),
                    );
                    None
                }
            }
        });
        intervals.push(Interval {
            times,
            weekdays,
            days_of_month,
            months,
            years,
            location,
        });
    }
    TimeInterval {
        name: raw
            .name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_default(),
        intervals,
    }
}

fn days_in_month(y: i32, m: u32) -> i32 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .map(|d| d.day() as i32)
        .unwrap_or(31)
}

impl Interval {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        let local = match self.location {
            Some(tz) => t.with_timezone(&tz).naive_local(),
            None => t.naive_utc(),
        };
        let minute = local.hour() * 60 + local.minute();
        if let Some(ts) = &self.times
            && !ts.iter().any(|(s, e)| minute >= *s && minute < *e)
        {
            return false;
        }
        if let Some(ds) = &self.days_of_month {
            let dim = days_in_month(local.year(), local.month());
            let day = local.day() as i32;
            let hit = ds.iter().any(|(b, e)| {
                let b = if *b < 0 { dim + b + 1 } else { *b };
                let e = if *e < 0 { dim + e + 1 } else { *e };
                b <= dim && day >= b.clamp(-dim, dim) && day <= e.clamp(-dim, dim)
            });
            if !hit {
                return false;
            }
        }
        if let Some(ms) = &self.months
            && !ms.iter().any(|(b, e)| (*b..=*e).contains(&local.month()))
        {
            return false;
        }
        let wd = local.weekday().num_days_from_sunday();
        if let Some(ws) = &self.weekdays
            && !ws.iter().any(|(b, e)| (*b..=*e).contains(&wd))
        {
            return false;
        }
        if let Some(ys) = &self.years
            && !ys.iter().any(|(b, e)| (*b..=*e).contains(&local.year()))
        {
            return false;
        }
        true
    }
}

impl TimeInterval {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.intervals.iter().any(|i| i.contains(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn parse(yaml: &str) -> Result<TimeInterval, Vec<String>> {
        let raw: RawNamed = serde_saphyr::from_str(yaml).expect("yaml");
        let mut r = Report {
            file: "t.yml",
            problems: Vec::new(),
            notes: Vec::new(),
            templated: Vec::new(),
        };
        let ti = build(&raw, &mut r, "time_intervals[0]");
        if r.problems.is_empty() {
            Ok(ti)
        } else {
            Err(r.problems.iter().map(|p| p.message.clone()).collect())
        }
    }

    /// Business hours as in Alertmanager's documentation; cases in the
    /// spirit of its timeinterval_test.go.
    #[test]
    fn business_hours() {
        let ti = parse(
            "name: business\ntime_intervals:\n  - weekdays: ['monday:friday']\n    times:\n      - start_time: '09:00'\n        end_time: '17:00'\n    location: Europe/Berlin\n",
        )
        .unwrap();
        // Thursday 2026-01-01 10:00 Berlin = 09:00 UTC.
        assert!(ti.contains(Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap()));
        assert!(!ti.contains(Utc.with_ymd_and_hms(2026, 1, 1, 7, 59, 0).unwrap()));
        assert!(!ti.contains(Utc.with_ymd_and_hms(2026, 1, 1, 16, 0, 0).unwrap()));
        // Saturday.
        assert!(!ti.contains(Utc.with_ymd_and_hms(2026, 1, 3, 9, 0, 0).unwrap()));
    }

    #[test]
    fn days_months_years() {
        let ti = parse(
            "name: x\ntime_intervals:\n  - days_of_month: ['-3:-1']\n    months: ['february', '11:12']\n    years: ['2024:2026']\n",
        )
        .unwrap();
        assert!(ti.contains(Utc.with_ymd_and_hms(2024, 2, 27, 0, 0, 0).unwrap()));
        assert!(!ti.contains(Utc.with_ymd_and_hms(2024, 2, 26, 0, 0, 0).unwrap()));
        assert!(ti.contains(Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).unwrap()));
        assert!(!ti.contains(Utc.with_ymd_and_hms(2027, 12, 31, 0, 0, 0).unwrap()));
        assert!(!ti.contains(Utc.with_ymd_and_hms(2026, 3, 31, 0, 0, 0).unwrap()));
    }

    #[test]
    fn errors_as_alertmanager_words_them() {
        let bad = [
            (
                "weekdays: ['friday:monday']",
                "start day cannot be before end day",
            ),
            ("weekdays: ['funday']", "funday is not a valid weekday"),
            (
                "days_of_month: ['0']",
                "0 is not a valid day of the month: out of range",
            ),
            (
                "days_of_month: ['-1:5']",
                "end day must be negative if start day is negative",
            ),
            (
                "days_of_month: ['10:1']",
                "end day 1 is always before start day 10",
            ),
            (
                "months: ['march:january']",
                "end month january is before start month march",
            ),
            (
                "years: ['2022:2020']",
                "end year 2020 is before start year 2022",
            ),
            (
                "times: [{start_time: '17:00', end_time: '09:00'}]",
                "start time cannot be equal or greater than end time",
            ),
            (
                "times: [{start_time: '9am', end_time: '17:00'}]",
                "couldn't parse timestamp 9am, invalid format",
            ),
            (
                "times: [{start_time: '25:00', end_time: '26:00'}]",
                "timestamp 25:00 out of range",
            ),
            (
                "times: [{start_time: '09:00'}]",
                "both start and end times must be provided",
            ),
            ("location: Mars/Olympus", "unknown time zone Mars/Olympus"),
        ];
        for (body, want) in bad {
            let e = parse(&format!("name: x\ntime_intervals:\n  - {body}\n")).unwrap_err();
            assert_eq!(e, vec![want.to_string()], "{body}");
        }
    }
}
