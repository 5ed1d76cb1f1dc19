//! Past drills, one row each (`drill history`; the engine queries them):
//! a text table and the score trend as a small SVG line.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::debrief::detail::cut;
use crate::debrief::fmt::{escape, maybe_duration, number};
use crate::debrief::svg::{Scale, ticks};
use crate::record::Outcome;
use crate::timings::Timings;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub drill: i64,
    pub scenario: String,
    pub title: String,
    pub trainee: String,
    pub shadow: Option<String>,
    pub started: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
    pub score: f64,
    pub timings: Timings,
}

const HEADERS: [&str; 9] = [
    "DRILL", "SCENARIO", "TRAINEE", "STARTED", "OUTCOME", "SCORE", "ACK", "MITIGATE", "RESOLVE",
];

/// The rows as a text table, in the order given.
pub fn table(rows: &[HistoryRow]) -> String {
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            let trainee = match &r.shadow {
                Some(s) => format!("{} (+{s})", r.trainee),
                None => r.trainee.clone(),
            };
            [
                r.drill.to_string(),
                cut(&r.scenario, 28),
                cut(&trainee, 24),
                r.started.format("%Y-%m-%d %H:%M").to_string(),
                r.outcome.map(|o| o.as_str()).unwrap_or("running").into(),
                number(r.score, 1),
                maybe_duration(r.timings.acknowledge_s),
                maybe_duration(r.timings.mitigate_s),
                maybe_duration(r.timings.resolve_s),
            ]
        })
        .collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, row: &[String]| {
        let parts: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", parts.join("  ").trim_end());
    };
    line(&mut out, &HEADERS.map(String::from));
    for row in &cells {
        line(&mut out, row);
    }
    if rows.is_empty() {
        out.push_str("(no drills yet)\n");
    }
    out
}

/// The scores over the rows (oldest first by start) as a small SVG line
/// with the 0–100 axis; empty when there are fewer than two rows.
pub fn trend_svg(rows: &[HistoryRow]) -> String {
    if rows.len() < 2 {
        return String::new();
    }
    let mut rows: Vec<&HistoryRow> = rows.iter().collect();
    rows.sort_by_key(|r| (r.started, r.drill));
    let (w, h) = (360.0, 120.0);
    let (left, right, top, bottom) = (32.0, 10.0, 8.0, h - 22.0);
    let x = Scale {
        d0: 0.0,
        d1: (rows.len() - 1) as f64,
        r0: left,
        r1: w - right,
    };
    let y = Scale {
        d0: 0.0,
        d1: 100.0,
        r0: bottom,
        r1: top,
    };
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="trend" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="score trend">"#
    );
    for v in ticks(0.0, 100.0, 50.0) {
        let py = y.at(v);
        let _ = write!(
            out,
            r##"<line x1="{left}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="#eef1f4"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"##,
            w - right,
            left - 4.0,
            py + 3.0
        );
    }
    let points: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "{:.1},{:.1}",
                x.at(i as f64),
                y.at(r.score.clamp(0.0, 100.0))
            )
        })
        .collect();
    let _ = write!(
        out,
        r##"<polyline fill="none" stroke="#0b63c5" stroke-width="2" points="{}"/>"##,
        points.join(" ")
    );
    for (i, r) in rows.iter().enumerate() {
        let (px, py) = (x.at(i as f64), y.at(r.score.clamp(0.0, 100.0)));
        let _ = write!(
            out,
            r##"<circle cx="{px:.1}" cy="{py:.1}" r="3" fill="#0b63c5"><title>drill {} {} {}: {}</title></circle>"##,
            r.drill,
            escape(&r.scenario),
            r.started.format("%Y-%m-%d"),
            number(r.score, 1)
        );
    }
    let (first, last) = (rows[0], rows[rows.len() - 1]);
    let _ = write!(
        out,
        r#"<text x="{left}" y="{:.1}">{}</text><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text></svg>"#,
        h - 6.0,
        first.started.format("%Y-%m-%d"),
        w - right,
        h - 6.0,
        last.started.format("%Y-%m-%d")
    );
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn row(drill: i64, day: u32, score: f64) -> HistoryRow {
        let started = Utc
            .with_ymd_and_hms(2025, 3, day, 14, 0, 0)
            .single()
            .expect("a valid date");
        HistoryRow {
            drill,
            scenario: "bad-release".into(),
            title: "A release".into(),
            trainee: "alice".into(),
            shadow: None,
            started,
            ended: Some(started + chrono::Duration::minutes(9)),
            outcome: Some(Outcome::Completed),
            score,
            timings: Timings {
                acknowledge_s: Some(60.0),
                resolve_s: Some(330.0),
                ..Default::default()
            },
        }
    }

    #[test]
    fn the_table_aligns_columns() {
        let mut r2 = row(12, 5, 92.5);
        r2.shadow = Some("bob".into());
        r2.outcome = None;
        let t = table(&[row(7, 4, 80.0), r2]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("DRILL  SCENARIO"));
        assert!(lines[1].contains("completed") && lines[1].contains("1m 00s"));
        assert!(lines[2].contains("alice (+bob)") && lines[2].contains("running"));
        assert!(lines[2].contains("92.5") && lines[2].contains("—"));
        let col = lines[0].find("SCORE").expect("a score column");
        assert_eq!(&lines[1][col..col + 2], "80");
        assert!(table(&[]).contains("no drills yet"));
    }

    #[test]
    fn the_trend_needs_two_rows_and_escapes() {
        assert_eq!(trend_svg(&[row(1, 1, 50.0)]), "");
        let mut odd = row(2, 2, 150.0);
        odd.scenario = "<b>x</b>".into();
        let svg = trend_svg(&[row(3, 3, 70.0), odd, row(1, 1, 40.0)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
        // Oldest first: the first point is drill 1.
        let first = svg.find("drill 1 ").expect("drill 1");
        assert!(first < svg.find("drill 3 ").expect("drill 3"));
    }
}
