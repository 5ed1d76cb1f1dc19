//! One mistake in a file ([`Problem`]) and all of them ([`Problems`]).

use std::fmt;

use serde_saphyr::{Location, Spanned};

/// One mistake: where it is (file, 1-based line and column, field path) and
/// what is wrong. `line`/`column` are 0 when unknown (a missing file); the
/// field is empty when the problem is not about one field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Problem {
    pub file: String,
    pub line: u64,
    pub column: u64,
    /// Path of the field at fault, e.g. `services[2].endpoints[0].calls[1].service`.
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(
        file: impl Into<String>,
        line: u64,
        column: u64,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            file: file.into(),
            line,
            column,
            field: field.into(),
            message: message.into(),
        }
    }

    /// A problem about a whole file, without a position (cannot read it, unknown name).
    pub fn in_file(file: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem::new(file, 0, 0, "", message)
    }

    /// A problem at the position where `s` was written.
    pub fn at<T>(
        file: &str,
        s: &Spanned<T>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        Problem::at_location(file, &s.referenced, field, message)
    }

    /// A problem at a source position.
    pub fn at_location(
        file: &str,
        loc: &Location,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        Problem::new(file, loc.line(), loc.column(), field, message)
    }
}

impl fmt::Display for Problem {
    /// `file:line:column: field: message`; an unknown position, field or
    /// file is left out with its separator.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut prefix = self.file.clone();
        if self.line > 0 {
            prefix.push_str(&format!(":{}", self.line));
            if self.column > 0 {
                prefix.push_str(&format!(":{}", self.column));
            }
        }
        if !prefix.is_empty() {
            write!(f, "{prefix}: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in a file, in file order: the error of a loader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Problems {
    pub problems: Vec<Problem>,
}

impl Problems {
    /// Sorts by position (problems without one first) and drops repeats.
    pub fn new(mut problems: Vec<Problem>) -> Problems {
        problems.sort_by_key(|p| (p.line, p.column));
        problems.dedup();
        Problems { problems }
    }

    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    pub fn len(&self) -> usize {
        self.problems.len()
    }

    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }
}

impl From<Problem> for Problems {
    fn from(p: Problem) -> Problems {
        Problems { problems: vec![p] }
    }
}

impl fmt::Display for Problems {
    /// One problem per line, after `N problems:` when there are several.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.problems.len() > 1 {
            writeln!(f, "{} problems:", self.problems.len())?;
        }
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_only_the_parts_that_are_known() {
        let p = Problem::new("shop.yaml", 3, 7, "services[0].instances", "must be 1..=32");
        assert_eq!(
            p.to_string(),
            "shop.yaml:3:7: services[0].instances: must be 1..=32"
        );
        assert_eq!(
            Problem::new("a.yaml", 3, 7, "", "bad").to_string(),
            "a.yaml:3:7: bad"
        );
        assert_eq!(
            Problem::new("a.yaml", 3, 0, "x", "bad").to_string(),
            "a.yaml:3: x: bad"
        );
        assert_eq!(
            Problem::in_file("x.yaml", "no such file").to_string(),
            "x.yaml: no such file"
        );
        assert_eq!(Problem::new("", 0, 0, "f", "m").to_string(), "f: m");
    }

    #[test]
    fn problems_sort_by_position_and_count_themselves() {
        let e = Problems::new(vec![
            Problem::new("a", 5, 1, "b", "c"),
            Problem::new("a", 2, 1, "", "d"),
            Problem::new("a", 5, 1, "b", "c"),
        ]);
        assert_eq!(e.len(), 2);
        assert_eq!(e.to_string(), "2 problems:\na:2:1: d\na:5:1: b: c");
        let one: Problems = Problem::in_file("x", "gone").into();
        assert_eq!(one.to_string(), "x: gone");
    }

    #[test]
    fn at_takes_the_position_of_a_spanned_value() {
        #[derive(serde::Deserialize)]
        struct D {
            k: Spanned<String>,
        }
        let d: D = serde_saphyr::from_str("# c\nk:   v\n").unwrap();
        let p = Problem::at("f.yaml", &d.k, "k", "bad");
        assert_eq!(p.to_string(), "f.yaml:2:6: k: bad");
    }
}
