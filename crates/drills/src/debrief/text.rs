//! The debrief as a terminal shows it: plain text, no colours.

use std::fmt::Write;

use super::Debrief;
use super::detail::cut;
use super::fmt::{duration, maybe_duration, number, offset};
use crate::score::Score;

fn headline(d: &Debrief, out: &mut String) {
    let s = &d.drill;
    let _ = writeln!(out, "Drill {} — {} ({})", s.id, s.title, s.scenario);
    let outcome = s.outcome.map(|o| o.as_str()).unwrap_or("running");
    let took = s
        .duration_s
        .map(|t| format!(" after {}", duration(t)))
        .unwrap_or_default();
    let score = d
        .trainee_score()
        .map(|sc| format!(" · score {}/100", number(sc.total, 1)))
        .unwrap_or_default();
    let _ = writeln!(out, "Outcome: {outcome}{took}{score}");
    let shadow = s
        .shadow
        .as_deref()
        .map(|x| format!(" · shadow {x}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Trainee {}{shadow} · seed {} · scale {} · started {}",
        s.trainee,
        s.seed,
        number(s.scale, 3),
        s.started.format("%Y-%m-%d %H:%M:%S UTC")
    );
}

fn what_happened(d: &Debrief, out: &mut String) {
    let _ = writeln!(out, "\nWhat happened");
    if d.faults.is_empty() {
        let _ = writeln!(out, "  No fault was planned.");
    }
    for f in &d.faults {
        let root = if f.root { " (root cause)" } else { "" };
        let _ = writeln!(out, "  - {}{root}", f.title);
        let started = match f.started {
            Some(t) => format!("started {}", offset(d.offset(t))),
            None => "never started".into(),
        };
        let _ = writeln!(
            out,
            "    {}; {started} (planned {})",
            f.action_text,
            offset(f.planned_s)
        );
        match (f.remedied, &f.remedy) {
            (Some(t), note) => {
                let by = f
                    .remedied_by
                    .as_deref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default();
                let note = note.as_deref().unwrap_or("remedied");
                let _ = writeln!(out, "    remedied {}{by}: {note}", offset(d.offset(t)));
            }
            (None, _) => {
                let _ = writeln!(out, "    never remedied");
            }
        }
        for r in &f.reliefs {
            let until = r.until.as_deref().unwrap_or("?");
            let _ = writeln!(
                out,
                "    relieved {}: {} (until {until})",
                offset(d.offset(r.time)),
                r.note
            );
        }
    }
}

fn timings(d: &Debrief, out: &mut String) {
    let from = d
        .timings
        .t0
        .map(|t| format!(" (from the first root fault, {})", offset(d.offset(t))))
        .unwrap_or_else(|| " (no root fault started)".into());
    let _ = writeln!(out, "\nTimings{from}");
    for r in d.timing_rows() {
        let target = r
            .target_s
            .map(|x| format!("target {}", duration(x)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<12} {:>8}   {target:<16} {}",
            r.name,
            maybe_duration(r.took_s),
            r.verdict
        );
    }
}

fn score(s: &Score, out: &mut String) {
    let _ = writeln!(
        out,
        "\nScore of {} ({:?}): {}/100",
        s.person,
        s.role,
        number(s.total, 1)
    );
    for p in &s.parts {
        let _ = writeln!(
            out,
            "  {:<12} {:>6} / {:<4} {}",
            p.name,
            number(p.points, 1),
            number(p.max, 1),
            p.detail
        );
    }
}

fn lists(d: &Debrief, out: &mut String) {
    let _ = writeln!(out, "\nObjectives");
    for o in &d.objectives {
        let mark = match o.met {
            Some(t) => format!("[x] {}", offset(d.offset(t))),
            None => "[ ] never  ".into(),
        };
        let _ = writeln!(out, "  {mark} {}", o.title);
    }
    if !d.wrong.is_empty() {
        let _ = writeln!(out, "\nWrong operations");
        for w in &d.wrong {
            let _ = writeln!(
                out,
                "  {} {} {} by {}: {} (−{})",
                offset(d.offset(w.time)),
                w.kind,
                w.subject,
                w.source,
                w.why,
                number(w.cost, 1)
            );
        }
    }
    if !d.hints.is_empty() {
        let _ = writeln!(out, "\nHints taken");
        for h in &d.hints {
            let _ = writeln!(out, "  - {} (−{})", h.text, number(h.cost, 1));
        }
    }
}

fn actions_and_ideal(d: &Debrief, out: &mut String) {
    let _ = writeln!(out, "\nYour actions");
    if d.actions.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for a in &d.actions {
        let mut note = String::new();
        if let Some(r) = &a.remedy {
            note = format!("  ← remedy: {r}");
        }
        if let Some(w) = &a.wrong {
            note = format!("  ← wrong: {w}");
        }
        let _ = writeln!(
            out,
            "  {} {:<18} {:<16} {:<8} {}{note}",
            offset(a.t_s),
            a.kind,
            a.subject,
            a.by,
            cut(&a.detail, 30)
        );
    }
    let _ = writeln!(out, "\nIdeal path");
    for (i, step) in d.ideal_path.iter().enumerate() {
        let _ = writeln!(out, "  {}. {step}", i + 1);
    }
}

fn timeline(d: &Debrief, out: &mut String) {
    let _ = writeln!(out, "\nTimeline (* = hidden during the drill)");
    for e in &d.timeline {
        let mark = if e.hidden { '*' } else { ' ' };
        let _ = writeln!(
            out,
            "  {} {mark} {:<22} {:<22} {}",
            offset(e.t_s),
            e.kind,
            cut(&e.subject, 22),
            cut(&e.detail, 60)
        );
    }
}

/// The debrief in plain text.
pub fn text(d: &Debrief) -> String {
    let mut out = String::new();
    headline(d, &mut out);
    what_happened(d, &mut out);
    timings(d, &mut out);
    for s in &d.scores {
        score(s, &mut out);
    }
    lists(d, &mut out);
    actions_and_ideal(d, &mut out);
    timeline(d, &mut out);
    out
}
