//! The debrief as one self-contained HTML page: inline CSS and SVG, no
//! script, no external resource. Every text from the journal or the
//! scenario is escaped.

use std::fmt::Write;

use super::fmt::{duration, escape as e, maybe_duration, number, offset};
use super::{Debrief, svg};
use crate::history::{HistoryRow, trend_svg};

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:800px;color:#1d232a;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2e8}
.meta{color:#5b6570}.big{font-size:30px;font-weight:600}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:3px 8px;border-bottom:1px solid #eef1f4;vertical-align:top}
.num{text-align:right;font-variant-numeric:tabular-nums}.met{color:#1a7f37}.late,.never{color:#b42318}
.cols{display:flex;gap:24px}.cols>div{flex:1}ol,ul{margin:4px 0;padding-left:22px}
.wrong{color:#b42318}.remedy{color:#1a7f37}.hiddenrow{background:#fff8e6}
svg text{font:10px system-ui,sans-serif;fill:#39424c}
.grid{stroke:#eef1f4}.frame{fill:none;stroke:#c9d1d9}.lane{stroke:#dde2e8}
.sli{fill:none;stroke:#0b63c5;stroke-width:2}.sli-dot{fill:#0b63c5}
.threshold{stroke:#b42318;stroke-dasharray:6 4;stroke-width:1.5}
.marker line{stroke-width:1;stroke:#8c959f;stroke-dasharray:2 2}
.marker.fault line{stroke:#b42318}.marker.alert line{stroke:#d97706}.marker.page line,.marker.ack line{stroke:#7c3aed}
.marker.remedy line{stroke:#1a7f37}.marker.wrong line{stroke:#b42318}.marker.end line{stroke:#1d232a}
.ev{fill:#0b63c5}.ev.hidden{fill:#d97706}
.lost{fill:#eef1f4}.p0 rect{fill:#1a7f37}.p1 rect{fill:#2f9e5a}.p2 rect{fill:#46b97a}.p3 rect{fill:#6fcf97}.p4 rect{fill:#0b63c5}.p5 rect{fill:#5b8def}
.cost rect{fill:#b42318}.total{stroke:#1d232a;stroke-width:2}
"#;

fn head(d: &Debrief, out: &mut String) {
    let s = &d.drill;
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Debrief: drill {} — {}</title><style>{STYLE}</style></head><body>",
        s.id,
        e(&s.title)
    );
    let _ = write!(out, "<h1>Drill {} — {}</h1>", s.id, e(&s.title));
    let outcome = s.outcome.map(|o| o.as_str()).unwrap_or("running");
    let score = d
        .trainee_score()
        .map(|x| number(x.total, 1))
        .unwrap_or_else(|| "—".into());
    let _ = write!(
        out,
        "<p><span class=\"big\">{score}/100</span> · {} · {}</p>",
        e(outcome),
        s.duration_s.map(duration).unwrap_or_default()
    );
    let shadow = s
        .shadow
        .as_deref()
        .map(|x| format!(" · shadow {}", e(x)))
        .unwrap_or_default();
    let _ = write!(
        out,
        "<p class=\"meta\">scenario {} · trainee {}{shadow} · seed {} · scale {} · started {}</p>",
        e(&s.scenario),
        e(&s.trainee),
        s.seed,
        number(s.scale, 3),
        s.started.format("%Y-%m-%d %H:%M:%S UTC")
    );
}

fn faults(d: &Debrief, out: &mut String) {
    out.push_str("<h2>What happened</h2><ul>");
    for f in &d.faults {
        let root = if f.root { " (root cause)" } else { "" };
        let started = f
            .started
            .map(|t| format!("started {}", offset(d.offset(t))))
            .unwrap_or_else(|| "never started".into());
        let remedied = match f.remedied {
            Some(t) => format!(
                "remedied {}{}: {}",
                offset(d.offset(t)),
                f.remedied_by
                    .as_deref()
                    .map(|b| format!(" by {}", e(b)))
                    .unwrap_or_default(),
                e(f.remedy.as_deref().unwrap_or(""))
            ),
            None => "never remedied".into(),
        };
        let _ = write!(
            out,
            "<li><strong>{}</strong>{root}<br>{}; {started} (planned {}); {remedied}",
            e(&f.title),
            e(&f.action_text),
            offset(f.planned_s)
        );
        for r in &f.reliefs {
            let _ = write!(
                out,
                "<br>relieved {}: {} (until {})",
                offset(d.offset(r.time)),
                e(&r.note),
                e(r.until.as_deref().unwrap_or("?"))
            );
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
}

fn charts(d: &Debrief, out: &mut String) {
    if d.series.is_empty() {
        return;
    }
    out.push_str("<h2>Service level</h2>");
    for s in &d.series {
        let _ = write!(
            out,
            "<h3>{}</h3><p class=\"meta\"><code>{}</code> {} {}</p>{}",
            e(&s.title),
            e(&s.expr),
            e(s.op.symbol()),
            number(s.threshold, 6),
            svg::chart(d, s)
        );
    }
}

fn timings(d: &Debrief, out: &mut String) {
    out.push_str("<h2>Timings</h2><table><tr><th>timing</th><th class=\"num\">took</th><th class=\"num\">target</th><th></th></tr>");
    for r in d.timing_rows() {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{v}\">{v}</td></tr>",
            r.name,
            maybe_duration(r.took_s),
            r.target_s.map(duration).unwrap_or_default(),
            v = r.verdict
        );
    }
    out.push_str("</table>");
}

fn scores(d: &Debrief, out: &mut String) {
    for s in &d.scores {
        let _ = write!(
            out,
            "<h2>Score of {} ({:?}): {}/100</h2>{}<table>",
            e(&s.person),
            s.role,
            number(s.total, 1),
            svg::score_bar(s)
        );
        for p in &s.parts {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"num\">{} / {}</td><td>{}</td></tr>",
                e(&p.name),
                number(p.points, 1),
                number(p.max, 1),
                e(&p.detail)
            );
        }
        out.push_str("</table>");
    }
}

fn actions(d: &Debrief, out: &mut String) {
    out.push_str("<h2>Your actions and the ideal path</h2><div class=\"cols\"><div><h3>Your actions</h3><ol>");
    for a in &d.actions {
        let mut note = String::new();
        if let Some(r) = &a.remedy {
            note = format!(" <span class=\"remedy\">remedy: {}</span>", e(r));
        }
        if let Some(w) = &a.wrong {
            note = format!(" <span class=\"wrong\">wrong: {}</span>", e(w));
        }
        let _ = write!(
            out,
            "<li>{} <code>{}</code> {} by {} <span class=\"meta\">{}</span>{note}</li>",
            offset(a.t_s),
            e(&a.kind),
            e(&a.subject),
            e(&a.by),
            e(&a.detail)
        );
    }
    if d.actions.is_empty() {
        out.push_str("<li>none</li>");
    }
    out.push_str("</ol></div><div><h3>Ideal path</h3><ol>");
    for step in &d.ideal_path {
        let _ = write!(out, "<li>{}</li>", e(step));
    }
    out.push_str("</ol></div></div>");
    if !d.wrong.is_empty() || !d.hints.is_empty() {
        out.push_str("<ul>");
        for w in &d.wrong {
            let _ = write!(
                out,
                "<li class=\"wrong\">{} {} {} by {}: {} (−{})</li>",
                offset(d.offset(w.time)),
                e(&w.kind),
                e(&w.subject),
                e(&w.source),
                e(&w.why),
                number(w.cost, 1)
            );
        }
        for h in &d.hints {
            let _ = write!(
                out,
                "<li>hint: {} (−{})</li>",
                e(&h.text),
                number(h.cost, 1)
            );
        }
        out.push_str("</ul>");
    }
}

fn timeline(d: &Debrief, out: &mut String) {
    let _ = write!(
        out,
        "<h2>Timeline</h2>{}<table><tr><th>t</th><th>kind</th><th>subject</th><th>source</th><th>detail</th></tr>",
        svg::strip(d)
    );
    for x in &d.timeline {
        let class = if x.hidden { " class=\"hiddenrow\"" } else { "" };
        let _ = write!(
            out,
            "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            offset(x.t_s),
            e(&x.kind),
            e(&x.subject),
            e(&x.source),
            e(&x.detail)
        );
    }
    out.push_str(
        "</table><p class=\"meta\">Orange dots and highlighted rows were hidden during the drill.</p>",
    );
}

fn trend(history: &[HistoryRow], out: &mut String) {
    if history.len() < 2 {
        return;
    }
    let _ = write!(out, "<h2>Your trend</h2>{}", trend_svg(history));
}

/// The debrief as one HTML document; `history` is the trainee's past
/// drills (a trend line when there are two or more).
pub fn html(d: &Debrief, history: &[HistoryRow]) -> String {
    let mut out = String::new();
    head(d, &mut out);
    faults(d, &mut out);
    charts(d, &mut out);
    timings(d, &mut out);
    scores(d, &mut out);
    actions(d, &mut out);
    timeline(d, &mut out);
    trend(history, &mut out);
    out.push_str("</body></html>\n");
    out
}
