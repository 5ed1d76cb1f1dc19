//! Property tests of the topology loader (issue 11): the bundled topologies
//! mutated line by line (lines dropped, repeated, re-indented, values
//! replaced with hostile scalars) and random text. Whatever comes in, the
//! loader answers without a panic: either a topology whose references all
//! resolve, or problems that name the file and a place inside it. Bounded:
//! `PROPTEST_CASES` (default 256 per property).

use lab::topology::{bundled_names, bundled_source, load_str};
use proptest::prelude::*;
use proptest::test_runner::Config;

const FILE: &str = "fuzz.yaml";

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Scalars that broke loaders before: overflowing and odd numbers, far
/// durations, long names, YAML's own traps.
fn hostile_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("18446744073709551616".to_string()),
        Just("-1".to_string()),
        Just("1e308".to_string()),
        Just(".nan".to_string()),
        Just("99999999999h".to_string()),
        Just("0s".to_string()),
        Just("~".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("*anchor".to_string()),
        Just("&a [*a, *a]".to_string()),
        Just("!!binary aGVsbG8=".to_string()),
        Just("\"\\u0000\"".to_string()),
        Just("x".repeat(300)),
        Just("ünïcødé".to_string()),
        "[a-z]{1,12}".prop_map(|s| s),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Drop(usize),
    Repeat(usize),
    Indent(usize, usize),
    Dedent(usize),
    Value(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Drop),
        any::<usize>().prop_map(Edit::Repeat),
        (any::<usize>(), 1usize..5).prop_map(|(i, n)| Edit::Indent(i, n)),
        any::<usize>().prop_map(Edit::Dedent),
        (any::<usize>(), hostile_scalar()).prop_map(|(i, v)| Edit::Value(i, v)),
    ]
}

/// Applies `edits` to the lines of `text`.
fn edited(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for e in edits {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match e {
            Edit::Drop(i) => {
                lines.remove(i % n);
            }
            Edit::Repeat(i) => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Edit::Indent(i, by) => lines[i % n].insert_str(0, &" ".repeat(*by)),
            Edit::Dedent(i) => {
                let l = &mut lines[i % n];
                let trimmed = l.trim_start().to_string();
                *l = trimmed;
            }
            Edit::Value(i, v) => {
                let l = &mut lines[i % n];
                // The value after the line's last `key:`, or the whole line.
                match l.rfind(": ") {
                    Some(at) => l.replace_range(at + 2.., v),
                    None => *l = v.clone(),
                }
            }
        }
    }
    lines.join("\n")
}

fn bundled() -> impl Strategy<Value = &'static str> {
    prop::sample::select(bundled_names().to_vec())
        .prop_map(|n| bundled_source(n).expect("a bundled name has its source"))
}

/// The loader's answer is a sound topology or located problems.
fn check(text: &str) -> Result<(), TestCaseError> {
    let lines = text.lines().count() as u64 + 1;
    match load_str(text, FILE) {
        Ok(t) => {
            let names: Vec<&str> = t.services.iter().map(|s| s.name.as_str()).collect();
            prop_assert!(names.contains(&t.entry.as_str()), "entry {}", t.entry);
            for s in &t.services {
                for ep in &s.endpoints {
                    for c in &ep.calls {
                        prop_assert!(
                            names.contains(&c.service.as_str()),
                            "{} calls unknown {}",
                            s.name,
                            c.service
                        );
                    }
                }
            }
        }
        Err(problems) => {
            prop_assert!(!problems.is_empty(), "an error without a problem");
            for p in problems.problems() {
                prop_assert_eq!(&p.file, FILE);
                prop_assert!(!p.message.trim().is_empty(), "an empty message: {:?}", p);
                prop_assert!(p.line <= lines, "line {} of {}: {}", p.line, lines, p);
                // Our messages, not a library's advice.
                prop_assert!(!p.message.contains("from_str_multiple"), "{}", p);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn edited_bundled_topologies_load_or_say_where(
        text in bundled(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        check(&edited(text, &edits))?;
    }

    #[test]
    fn random_text_loads_or_says_where(text in "\\PC{0,200}") {
        check(&text)?;
    }
}

#[test]
fn the_unedited_bundled_topologies_load() {
    for name in bundled_names() {
        let text = bundled_source(name).expect("source");
        assert!(load_str(text, FILE).is_ok(), "{name}");
    }
}
