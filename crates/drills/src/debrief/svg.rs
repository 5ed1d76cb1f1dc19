//! Inline SVG for the HTML debrief: a chart per SLI series with the
//! threshold and the drill's moments marked, the timeline strip, and the
//! score bar. Every text is escaped; nothing refers outside the document.

use std::fmt::Write;

use super::fmt::{escape, number, offset, value};
use super::{Debrief, Series};
use crate::score::Score;

const W: f64 = 760.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;

/// A moment of the drill drawn across the charts.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub t_s: f64,
    pub label: String,
    /// CSS class: `fault`, `alert`, `page`, `ack`, `action`, `wrong`,
    /// `remedy`, `end`.
    pub class: &'static str,
}

fn first_after(d: &Debrief, kind: &str, from: f64) -> Option<f64> {
    d.timeline
        .iter()
        .find(|e| e.kind == kind && e.t_s >= from)
        .map(|e| e.t_s)
}

/// The moments to mark: fault starts, first alert, page, ack, each action,
/// remedies, the end.
pub fn markers(d: &Debrief) -> Vec<Marker> {
    let mut m = Vec::new();
    let mut add = |t_s: f64, label: String, class| m.push(Marker { t_s, label, class });
    for f in &d.faults {
        if let Some(t) = f.started {
            add(d.offset(t), format!("fault {}", f.id), "fault");
        }
    }
    let mut ack = None;
    if let Some(t0) = d.timings.t0.map(|t| d.offset(t)) {
        if let Some(x) = d.timings.detect_s {
            add(t0 + x, "first alert".into(), "alert");
        }
        if let Some(x) = first_after(d, "page.triggered", t0) {
            add(x, "page".into(), "page");
        }
        ack = first_after(d, "page.acknowledged", t0);
        if let Some(x) = ack {
            add(x, "ack".into(), "ack");
        }
    }
    for a in &d.actions {
        // The acknowledgement is marked once, as `ack`.
        if a.kind == "page.acknowledged" && Some(a.t_s) == ack {
            continue;
        }
        let class = if a.wrong.is_some() { "wrong" } else { "action" };
        let what = a.kind.strip_suffix(".started").unwrap_or(&a.kind);
        add(a.t_s, format!("{what} {}", a.subject), class);
    }
    for f in &d.faults {
        if let Some(t) = f.remedied {
            add(d.offset(t), format!("remedy {}", f.id), "remedy");
        }
    }
    if let Some(t) = d.drill.duration_s {
        add(t, "end".into(), "end");
    }
    m.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    m
}

/// A step of 1, 2 or 5 × 10^k giving at most `max_ticks` ticks over `span`.
pub fn nice_step(span: f64, max_ticks: usize) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let raw = span / max_ticks.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * mag >= raw {
            return m * mag;
        }
    }
    10.0 * mag
}

/// A step in seconds for time ticks: whole seconds and minutes.
pub fn time_step(span_s: f64, max_ticks: usize) -> f64 {
    const STEPS: &[f64] = &[
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
    ];
    let raw = span_s / max_ticks.max(1) as f64;
    STEPS
        .iter()
        .copied()
        .find(|s| *s >= raw)
        .unwrap_or_else(|| (raw / 3600.0).ceil() * 3600.0)
}

/// Ticks from `lo` to `hi` every `step`.
pub fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut t = (lo / step).ceil() * step;
    while t <= hi + step * 1e-9 && out.len() < 1000 {
        out.push(t);
        t += step;
    }
    out
}

/// A linear map from a domain to a range of pixels.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Scale {
    pub fn at(&self, x: f64) -> f64 {
        let span = self.d1 - self.d0;
        if span == 0.0 {
            return (self.r0 + self.r1) / 2.0;
        }
        self.r0 + (x - self.d0) / span * (self.r1 - self.r0)
    }
}

/// The value range to show: the points and the threshold, padded.
fn y_range(values: &[f64], threshold: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (threshold, threshold);
    for v in values {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    let pad = if hi > lo {
        (hi - lo) * 0.08
    } else {
        threshold.abs().max(1.0) * 0.1
    };
    (lo - pad, hi + pad)
}

/// The drill's span in seconds for the charts.
fn x_end(d: &Debrief, marks: &[Marker], series: &[Series]) -> f64 {
    let started = d.drill.started.timestamp() as f64;
    let mut end = d.drill.duration_s.unwrap_or(0.0).max(60.0);
    for m in marks {
        end = end.max(m.t_s);
    }
    for s in series {
        for (t, _) in &s.points {
            end = end.max(t - started);
        }
    }
    end
}

fn polylines(points: &[(f64, f64)], x: Scale, y: Scale) -> String {
    let mut out = String::new();
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, out: &mut String| {
        if run.len() > 1 {
            let _ = write!(out, r#"<polyline class="sli" points="{}"/>"#, run.join(" "));
        } else if let Some(p) = run.first() {
            let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(
                out,
                r#"<circle class="sli-dot" cx="{cx}" cy="{cy}" r="2"/>"#
            );
        }
        run.clear();
    };
    for (t, v) in points {
        if v.is_finite() && t.is_finite() {
            run.push(format!("{:.1},{:.1}", x.at(*t), y.at(*v)));
        } else {
            flush(&mut run, &mut out);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn x_axis(out: &mut String, x: Scale, end: f64, top: f64, bottom: f64) {
    for t in ticks(0.0, end, time_step(end, 8)) {
        let px = x.at(t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{px:.1}" y1="{top}" x2="{px:.1}" y2="{bottom}"/><text class="tick" x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            bottom + 14.0,
            offset(t)
        );
    }
}

fn marker_lines(out: &mut String, marks: &[Marker], x: Scale, top: f64, bottom: f64) {
    for (i, m) in marks.iter().enumerate() {
        let px = x.at(m.t_s);
        let row = (i % 3) as f64;
        let label = escape(&m.label);
        // Labels near the right edge end at their line instead of past it.
        let (tx, anchor) = if px > W - RIGHT - 110.0 {
            (px - 2.0, "end")
        } else {
            (px + 2.0, "start")
        };
        let _ = write!(
            out,
            r#"<g class="marker {class}"><title>{when} {label}</title><line x1="{px:.1}" y1="{top:.1}" x2="{px:.1}" y2="{bottom:.1}"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="{anchor}">{short}</text></g>"#,
            class = m.class,
            when = offset(m.t_s),
            ty = top - 4.0 - row * 11.0,
            short = escape(&super::detail::cut(&m.label, 22)),
        );
    }
}

/// A chart of `s` over the drill: the SLI, the threshold dashed, the
/// drill's moments as labelled vertical lines, time and value ticks.
pub fn chart(d: &Debrief, s: &Series) -> String {
    let h = 260.0;
    let (top, bottom) = (44.0, h - 30.0);
    let marks = markers(d);
    let end = x_end(d, &marks, std::slice::from_ref(s));
    let started = d.drill.started.timestamp() as f64;
    let x = Scale {
        d0: 0.0,
        d1: end,
        r0: LEFT,
        r1: W - RIGHT,
    };
    let values: Vec<f64> = s
        .points
        .iter()
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .collect();
    let (lo, hi) = y_range(&values, s.threshold);
    let y = Scale {
        d0: lo,
        d1: hi,
        r0: bottom,
        r1: top,
    };
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="{}">"#,
        escape(&s.title)
    );
    for v in ticks(lo, hi, nice_step(hi - lo, 5)) {
        let py = y.at(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - RIGHT,
            LEFT - 4.0,
            py + 3.0,
            value(v)
        );
    }
    x_axis(&mut out, x, end, top, bottom);
    let _ = write!(
        out,
        r#"<rect class="frame" x="{LEFT}" y="{top}" width="{:.1}" height="{:.1}"/>"#,
        W - RIGHT - LEFT,
        bottom - top
    );
    marker_lines(&mut out, &marks, x, top, bottom);
    let ty = y.at(s.threshold);
    let _ = write!(
        out,
        r#"<line class="threshold" x1="{LEFT}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}"><title>threshold {} {}</title></line>"#,
        W - RIGHT,
        s.op.symbol(),
        value(s.threshold)
    );
    let pts: Vec<(f64, f64)> = s.points.iter().map(|(t, v)| (t - started, *v)).collect();
    if pts.is_empty() {
        let _ = write!(
            out,
            r#"<text class="empty" x="{:.1}" y="{:.1}" text-anchor="middle">no samples</text>"#,
            (LEFT + W - RIGHT) / 2.0,
            (top + bottom) / 2.0
        );
    }
    out.push_str(&polylines(&pts, x, y));
    out.push_str("</svg>");
    out
}

/// The lane of an event kind in the timeline strip.
fn lane(kind: &str, is_action: bool) -> usize {
    if is_action {
        return 3;
    }
    match kind.split('.').next().unwrap_or("") {
        "drill" | "fault" | "experiment" => 0,
        "alert" | "silence" | "notification" => 1,
        "page" | "ticket" => 2,
        _ => 4,
    }
}

const LANES: &[&str] = &["drill", "alerting", "on call", "people", "lab"];

/// Every event of the timeline as a dot in its lane, with its detail as a
/// tooltip.
pub fn strip(d: &Debrief) -> String {
    let lane_h = 22.0;
    let top = 8.0;
    let bottom = top + lane_h * LANES.len() as f64;
    let h = bottom + 26.0;
    let marks = markers(d);
    let end = x_end(d, &marks, &d.series);
    let x = Scale {
        d0: 0.0,
        d1: end,
        r0: LEFT + 20.0,
        r1: W - RIGHT,
    };
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="strip" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="timeline">"#
    );
    for (i, name) in LANES.iter().enumerate() {
        let cy = top + lane_h * (i as f64 + 0.5);
        let _ = write!(
            out,
            r#"<line class="lane" x1="{:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{name}</text>"#,
            LEFT + 20.0,
            W - RIGHT,
            LEFT + 16.0,
            cy + 3.0
        );
    }
    x_axis(&mut out, x, end, top, bottom);
    let actions: Vec<i64> = d.actions.iter().map(|a| a.event_id).collect();
    for e in &d.timeline {
        let l = lane(&e.kind, actions.contains(&e.event_id));
        let cy = top + lane_h * (l as f64 + 0.5);
        let class = if e.hidden { "ev hidden" } else { "ev" };
        let _ = write!(
            out,
            r#"<circle class="{class}" cx="{:.1}" cy="{cy:.1}" r="4"><title>{} {} {} {}</title></circle>"#,
            x.at(e.t_s),
            offset(e.t_s),
            escape(&e.kind),
            escape(&e.subject),
            escape(&e.detail)
        );
    }
    out.push_str("</svg>");
    out
}

/// The score as one bar out of 100: a segment per part earned, what was
/// lost in grey, hint costs as a red band over the end of the earned part,
/// and a line at the total.
pub fn score_bar(s: &Score) -> String {
    let (w, h) = (W, 46.0);
    let x = Scale {
        d0: 0.0,
        d1: 100.0,
        r0: 0.0,
        r1: w,
    };
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="scorebar" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="score {}"><rect class="lost" x="0" y="0" width="{w}" height="24"/>"#,
        number(s.total, 1)
    );
    let mut at = 0.0;
    for (i, p) in s.parts.iter().filter(|p| p.points > 0.0).enumerate() {
        let width = x.at(p.points.min(100.0 - at));
        let _ = write!(
            out,
            r#"<g class="part p{}"><title>{}: {} of {} — {}</title><rect x="{:.1}" y="0" width="{width:.1}" height="24"/>"#,
            i % 6,
            escape(&p.name),
            number(p.points, 1),
            number(p.max, 1),
            escape(&p.detail),
            x.at(at),
        );
        if width >= 48.0 {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="40">{}</text>"#,
                x.at(at) + 2.0,
                escape(&p.name)
            );
        }
        out.push_str("</g>");
        at = (at + p.points).min(100.0);
    }
    let cost: f64 = -s
        .parts
        .iter()
        .filter(|p| p.points < 0.0)
        .map(|p| p.points)
        .sum::<f64>();
    if cost > 0.0 {
        let from = (at - cost).max(0.0);
        let _ = write!(
            out,
            r#"<g class="part cost"><title>hints: −{}</title><rect x="{:.1}" y="0" width="{:.1}" height="6"/></g>"#,
            number(cost, 1),
            x.at(from),
            x.at(at) - x.at(from)
        );
    }
    let tx = x.at(s.total);
    let _ = write!(
        out,
        r#"<line class="total" x1="{tx:.1}" y1="0" x2="{tx:.1}" y2="28"><title>total {}</title></line>"#,
        number(s.total, 1)
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_ticks_are_round() {
        assert_eq!(nice_step(1.0, 5), 0.2);
        assert_eq!(nice_step(0.04, 5), 0.01);
        assert_eq!(nice_step(730.0, 5), 200.0);
        assert_eq!(time_step(540.0, 8), 120.0);
        assert_eq!(time_step(50.0, 8), 10.0);
        assert_eq!(
            ticks(0.0, 540.0, 120.0),
            vec![0.0, 120.0, 240.0, 360.0, 480.0]
        );
        assert_eq!(ticks(0.95, 1.0, 0.02).len(), 3);
    }

    #[test]
    fn scales_map_linearly() {
        let s = Scale {
            d0: 0.0,
            d1: 10.0,
            r0: 100.0,
            r1: 0.0,
        };
        assert_eq!(s.at(0.0), 100.0);
        assert_eq!(s.at(2.5), 75.0);
        let flat = Scale {
            d0: 1.0,
            d1: 1.0,
            r0: 0.0,
            r1: 10.0,
        };
        assert_eq!(flat.at(1.0), 5.0);
    }

    #[test]
    fn gaps_split_the_line() {
        let x = Scale {
            d0: 0.0,
            d1: 10.0,
            r0: 0.0,
            r1: 10.0,
        };
        let out = polylines(
            &[
                (0.0, 1.0),
                (1.0, 2.0),
                (2.0, f64::NAN),
                (3.0, 1.0),
                (4.0, 1.0),
            ],
            x,
            x,
        );
        assert_eq!(out.matches("<polyline").count(), 2);
    }
}
