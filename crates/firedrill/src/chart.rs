//! A small line chart for the terminal (`firedrill query --range`).

/// One series to draw: a legend label and (unix seconds, value) points.
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

const MARKS: [char; 8] = ['●', '+', 'x', 'o', '*', '#', '@', '%'];

fn fmt_value(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(0.01..100_000.0).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// Renders `lines` into a `width` × `height` plot with a y axis and a legend.
pub fn render(lines: &[Line], width: usize, height: usize) -> String {
    let pts = lines
        .iter()
        .flat_map(|l| l.points.iter())
        .filter(|p| p.1.is_finite());
    let (mut t0, mut t1, mut lo, mut hi) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(t, v) in pts {
        t0 = t0.min(t);
        t1 = t1.max(t);
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if t0 > t1 {
        return "(no data in range)\n".to_string();
    }
    if (hi - lo).abs() < f64::EPSILON {
        hi = lo + 1.0;
        lo -= 1.0;
    }
    let (width, height) = (width.max(10), height.max(3));
    let mut grid = vec![vec![' '; width]; height];
    for (i, l) in lines.iter().enumerate() {
        let mark = MARKS[i % MARKS.len()];
        for &(t, v) in &l.points {
            if !v.is_finite() {
                continue;
            }
            let x = if t1 > t0 {
                ((t - t0) / (t1 - t0) * (width - 1) as f64).round() as usize
            } else {
                0
            };
            let y = ((v - lo) / (hi - lo) * (height - 1) as f64).round() as usize;
            let row = height - 1 - y.min(height - 1);
            grid[row][x.min(width - 1)] = mark;
        }
    }
    let (top, bottom) = (fmt_value(hi), fmt_value(lo));
    let pad = top.len().max(bottom.len());
    let mut out = String::new();
    for (r, row) in grid.iter().enumerate() {
        let label = if r == 0 {
            top.clone()
        } else if r == height - 1 {
            bottom.clone()
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{label:>pad$} ┤{}\n",
            row.iter().collect::<String>()
        ));
    }
    let fmt_t = |t: f64| {
        chrono::DateTime::from_timestamp(t as i64, 0)
            .map(|d| d.format("%H:%M:%S").to_string())
            .unwrap_or_default()
    };
    let (a, b) = (fmt_t(t0), fmt_t(t1));
    let gap = width.saturating_sub(a.len() + b.len());
    out.push_str(&format!("{:>pad$}  {a}{}{b}\n", "", " ".repeat(gap)));
    for (i, l) in lines.iter().enumerate() {
        out.push_str(&format!("  {} {}\n", MARKS[i % MARKS.len()], l.label));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_extremes_at_the_edges() {
        let l = Line {
            label: "up".into(),
            points: vec![(0.0, 0.0), (10.0, 1.0)],
        };
        let s = render(&[l], 20, 5);
        let rows: Vec<&str> = s.lines().collect();
        assert!(rows[0].ends_with('●'), "{s}");
        assert!(rows[4].contains("┤●"), "{s}");
        assert!(s.contains("● up"));
    }

    #[test]
    fn empty_is_said() {
        assert_eq!(render(&[], 20, 5), "(no data in range)\n");
    }
}
