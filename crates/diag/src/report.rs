//! [`Report`]: what a validator pushes its problems into while it walks a
//! file, so that every mistake is reported at once.

use std::time::Duration;

use serde_saphyr::{Location, Spanned};

use crate::duration;
use crate::problem::{Problem, Problems};

/// The problems found so far in one file.
#[derive(Debug, Clone, Default)]
pub struct Report {
    file: String,
    problems: Vec<Problem>,
}

impl Report {
    pub fn new(file: impl Into<String>) -> Report {
        Report {
            file: file.into(),
            problems: Vec::new(),
        }
    }

    /// The file's name as problems show it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// A problem at the position where `s` was written.
    pub fn at<T>(&mut self, s: &Spanned<T>, field: impl Into<String>, message: impl Into<String>) {
        self.at_location(&s.referenced, field, message);
    }

    /// A problem at a source position.
    pub fn at_location(
        &mut self,
        loc: &Location,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        let p = Problem::at_location(&self.file, loc, field, message);
        self.problems.push(p);
    }

    pub fn push(&mut self, p: Problem) {
        self.problems.push(p);
    }

    /// Parses a duration written at `s` ([`duration::parse`]); a bad one is
    /// recorded and gives `None`.
    pub fn duration<T: AsRef<str>>(&mut self, s: &Spanned<T>, field: &str) -> Option<Duration> {
        match duration::parse(s.value.as_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.at(s, field, e.to_string());
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// `value` when nothing was found, else every problem in file order.
    pub fn finish<T>(self, value: T) -> Result<T, Problems> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(Problems::new(self.problems))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct D {
        a: Spanned<String>,
        b: Spanned<String>,
    }

    #[test]
    fn collects_durations_and_finishes_in_file_order() {
        let d: D = serde_saphyr::from_str("a: 1h30m\nb: 5\n").unwrap();
        let mut r = Report::new("d.yaml");
        assert_eq!(r.duration(&d.b, "b"), None);
        assert_eq!(r.duration(&d.a, "a"), Some(Duration::from_secs(5400)));
        r.at(&d.a, "a", "second look");
        let e = r.finish(()).unwrap_err();
        let lines: Vec<String> = e.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(lines[0], "d.yaml:1:4: a: second look");
        assert!(
            lines[1].starts_with("d.yaml:2:4: b: \"5\" has no unit"),
            "{e}"
        );
        assert_eq!(Report::new("x").finish(7), Ok(7));
    }
}
