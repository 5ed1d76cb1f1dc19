//! Loader errors: every problem found in a topology file, each with
//! `file:line:column`, the field at fault and what is wrong.

use std::fmt;

/// One mistake in a topology file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    /// 1-based; 0 when the problem has no position (e.g. the file is missing).
    pub line: usize,
    /// 1-based; 0 when unknown.
    pub column: usize,
    /// Path of the field at fault, e.g. `services[2].endpoints[0].calls[1].service`
    /// (empty when the problem is not about one field).
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(
        file: impl Into<String>,
        line: usize,
        column: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            file: file.into(),
            line,
            column,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        write!(f, ": ")?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        write!(f, "{}", self.message)
    }
}

/// A topology that could not be loaded: all the problems found, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.problems))]
pub struct TopologyError {
    pub problems: Vec<Problem>,
}

impl TopologyError {
    pub fn new(mut problems: Vec<Problem>) -> Self {
        problems.sort_by_key(|p| (p.line, p.column));
        problems.dedup();
        TopologyError { problems }
    }

    /// A single problem without a position (missing file, unknown name).
    pub fn plain(file: impl Into<String>, message: impl Into<String>) -> Self {
        TopologyError {
            problems: vec![Problem::new(file, 0, 0, "", message)],
        }
    }

    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

fn render(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    if lines.len() > 1 {
        format!(
            "{} problems in topology:\n{}",
            lines.len(),
            lines.join("\n")
        )
    } else {
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_file_line_column_field_message() {
        let p = Problem::new("shop.yaml", 3, 7, "services[0].instances", "must be 1..=32");
        assert_eq!(
            p.to_string(),
            "shop.yaml:3:7: services[0].instances: must be 1..=32"
        );
        let e = TopologyError::plain("x.yaml", "no such file");
        assert_eq!(e.to_string(), "x.yaml: no such file");
        let e = TopologyError::new(vec![
            Problem::new("a", 5, 1, "b", "c"),
            Problem::new("a", 2, 1, "", "d"),
        ]);
        assert_eq!(
            e.to_string(),
            "2 problems in topology:\na:2:1: d\na:5:1: b: c"
        );
    }
}
