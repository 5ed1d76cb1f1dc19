//! The iCalendar export: one event per whole shift, in UTC, with stable ids.

use chrono::{TimeZone, Utc};

#[test]
fn the_calendar_has_whole_shifts_with_their_real_start() {
    let cfg = oncall::config::parse(oncall::config::BUNDLED, "oncall.yaml").unwrap();
    // Wednesday 2026-11-25 12:00 UTC: in the middle of the week's turn.
    let from = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 12, 9, 0, 0, 0).unwrap();
    let shifts = oncall::roster::whole_shifts(&cfg, from, to, Some("alice"));
    // Alice's turn started Monday 2026-11-23 09:00 Berlin (08:00 UTC).
    assert_eq!(
        shifts[0].start,
        Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap()
    );
    assert_eq!(
        shifts[0].end,
        Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
    );
    let ics = oncall::ics::export(&cfg, &shifts, from);
    assert!(ics.starts_with("BEGIN:VCALENDAR"), "{ics}");
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), shifts.len());
    assert!(ics.contains("DTSTART:20261123T080000Z"), "{ics}");
    assert!(ics.contains("SUMMARY:On call (primary): Alice"), "{ics}");
    assert!(ics.contains("UID:lab-primary-alice-"), "{ics}");
    assert!(ics.trim_end().ends_with("END:VCALENDAR"));
}
