//! The loaders of this crate speak firedrill's one diagnostics format
//! (`diag`): the shared duration grammar and plain YAML messages. Each case
//! is a regression test of issue 11.

use alerting::route::parse_config;
use alerting::rules::parse_rules;

fn rules_with(line: &str) -> String {
    format!("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n{line}")
}

#[test]
fn a_for_without_unit_is_refused_as_promtool_does() {
    let e = parse_rules(&rules_with("        for: 5\n"), "r.yml").unwrap_err();
    assert_eq!(e.problems.len(), 1, "{e}");
    assert_eq!(
        e.problems[0].to_string(),
        "r.yml:6:14: groups[0].rules[0].for: \"5\" has no unit: write e.g. 5s or 5m (units: ms, s, m, h, d, w, y)"
    );
    for ok in ["5m", "1h30m", "1.5m", "0"] {
        let g = parse_rules(&rules_with(&format!("        for: {ok}\n")), "r.yml")
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert_eq!(g[0].rules.len(), 1);
    }
}

#[test]
fn an_overflowing_duration_is_too_large() {
    let e = parse_rules(&rules_with("        for: 99999999999h\n"), "r.yml").unwrap_err();
    assert!(
        e.to_string()
            .contains("groups[0].rules[0].for: \"99999999999h\" is too large"),
        "{e}"
    );
    let cfg = "route:\n  receiver: team\n  group_wait: 99999999999h\nreceivers:\n  - name: team\n";
    let e = parse_config(cfg, "am.yml").unwrap_err().to_string();
    assert!(e.contains("am.yml:3:15: route.group_wait:"), "{e}");
    assert!(e.contains("too large") && !e.contains("above zero"), "{e}");
}

#[test]
fn a_number_out_of_range_is_called_too_large() {
    let text = "groups:\n  - name: g\n    limit: 18446744073709551616\n    rules: []\n";
    let e = parse_rules(text, "r.yml").unwrap_err();
    assert_eq!(
        e.problems[0].to_string(),
        "r.yml:3:12: groups[0].limit: 18446744073709551616 is too large: the largest allowed here is 18446744073709551615"
    );
}

#[test]
fn a_second_document_is_named_with_its_position() {
    let text = "groups: []\n---\ngroups: []\n";
    let e = parse_rules(text, "r.yml").unwrap_err();
    let p = &e.problems[0];
    assert_eq!((p.line, p.column), (2, 1), "{e}");
    assert!(p.message.contains("several YAML documents"), "{e}");
    assert!(!p.message.contains("from_str_multiple"), "{e}");
}

#[test]
fn a_missing_file_is_reported_without_a_fake_position() {
    let e = alerting::rules::load_rules(std::path::Path::new("/nonexistent/r.yml")).unwrap_err();
    let s = e.to_string();
    assert!(s.starts_with("/nonexistent/r.yml: cannot read"), "{s}");
    assert!(!s.contains(":0:0"), "{s}");
}
