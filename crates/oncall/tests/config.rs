//! The on-call file: the bundled example loads; mistakes are reported with
//! file:line:column and the field at fault, all of them at once.

#[test]
fn the_bundled_example_loads() {
    let c = oncall::config::parse(oncall::config::BUNDLED, "oncall.yaml").unwrap();
    assert_eq!(c.people.len(), 6);
    assert_eq!(c.pager.policy, "default");
    assert!(c.is_apprentice("erin"));
}

#[test]
fn every_mistake_is_reported_with_its_position() {
    let text = "\
people:
  - handle: alice
  - handle: alice
schedules:
  - name: s
    time_zone: Mars/Olympus
    layers:
      - role: captain
        people: [alice, zed]
        start: next monday
        rotation: 10m
        restrictions:
          - days: [mon, funday]
            from: \"09:00\"
            to: \"25:00\"
escalation_policies:
  - name: p
    steps:
      - targets: [{schedule: nope}]
        escalate_after: soon
pager:
  escalation_policy: missing
";
    let e = oncall::config::parse(text, "oncall.yaml").unwrap_err();
    let got = e.to_string();
    for want in [
        "oncall.yaml:3:13: people[1].handle: \"alice\" appears twice",
        "oncall.yaml:6:16: schedules[0].time_zone: unknown time zone \"Mars/Olympus\"",
        "oncall.yaml:8:15: schedules[0].layers[0].role: unknown role \"captain\"",
        "schedules[0].layers[0].people[1]: no person with handle \"zed\"",
        "schedules[0].layers[0].start: \"next monday\" is not a local date and time",
        "schedules[0].layers[0].rotation: a rotation lasts from 1h to 366d",
        "schedules[0].layers[0].restrictions[0].days[1]: \"funday\" is not a day",
        "schedules[0].layers[0].restrictions[0].to: \"25:00\" is not a time of day",
        "escalation_policies[0].steps[0].targets[0].schedule: no schedule named \"nope\"",
        "escalation_policies[0].steps[0].escalate_after: \"soon\" is not a duration",
        "oncall.yaml:22:22: pager.escalation_policy: no escalation policy named \"missing\"",
    ] {
        assert!(got.contains(want), "missing {want:?} in:\n{got}");
    }
}

#[test]
fn a_yaml_shape_error_names_the_line() {
    let e =
        oncall::config::parse("people:\n  - handle: a\n    pager: yes\n", "x.yaml").unwrap_err();
    let p = &e.problems[0];
    assert_eq!((p.file.as_str(), p.line), ("x.yaml", 3), "{e}");
}

/// A small valid file; the tests below break one thing at a time.
const BASE: &str = "\
people:
  - handle: alice
  - handle: bob
  - handle: carol
schedules:
  - name: s
    layers:
      - role: primary
        people: [alice, bob]
        start: 2026-11-02 09:00
        rotation: 7d
escalation_policies:
  - name: p
    steps:
      - targets: [{schedule: s}]
        escalate_after: 5m
";

fn problems(text: &str) -> Vec<String> {
    let e: oncall::config::ConfigError = oncall::config::parse(text, "o.yaml").unwrap_err();
    e.problems.iter().map(|p| p.to_string()).collect()
}

#[test]
fn the_base_loads_with_combined_and_fractional_durations() {
    let c = oncall::config::parse(BASE, "o.yaml").unwrap();
    assert_eq!(c.policies[0].steps[0].escalate_after.as_secs(), 300);
    let text = BASE
        .replace("rotation: 7d", "rotation: 1d12h")
        .replace("escalate_after: 5m", "escalate_after: 1.5m");
    let c = oncall::config::parse(&text, "o.yaml").unwrap();
    assert_eq!(c.schedules[0].layers[0].length, chrono::Duration::hours(36));
    assert_eq!(c.policies[0].steps[0].escalate_after.as_secs(), 90);
}

/// Issue 11: two people shadowing each other were accepted.
#[test]
fn shadowing_in_a_circle_is_refused() {
    let text = format!(
        "{BASE}shadows:\n  - {{apprentice: alice, mentor: bob}}\n  - {{apprentice: bob, mentor: carol}}\n  - {{apprentice: carol, mentor: alice}}\n"
    );
    assert_eq!(
        problems(&text),
        [
            "o.yaml:20:33: shadows[2].mentor: shadowing goes round in a circle: carol shadows alice shadows bob shadows carol (an apprentice shadows someone more experienced, who cannot shadow them back)"
        ]
    );
    let two = format!(
        "{BASE}shadows:\n  - {{apprentice: alice, mentor: bob}}\n  - {{apprentice: bob, mentor: alice}}\n"
    );
    let got = problems(&two);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains(
            "shadows[1].mentor: shadowing goes round in a circle: bob shadows alice shadows bob"
        ),
        "{got:?}"
    );
    // A chain is fine, and so is one mentor for two apprentices.
    let chain = format!(
        "{BASE}shadows:\n  - {{apprentice: alice, mentor: bob}}\n  - {{apprentice: bob, mentor: carol}}\n  - {{apprentice: alice, mentor: carol}}\n"
    );
    assert!(oncall::config::parse(&chain, "o.yaml").is_ok());
}

/// Issue 11: days were compared by their first three bytes: `monkey` was
/// Monday and a non-ASCII name panicked.
#[test]
fn day_names_are_whole_words() {
    let with_days = |days: &str| {
        BASE.replace(
            "        rotation: 7d\n",
            &format!(
                "        rotation: 7d\n        restrictions:\n          - {{days: {days}, from: \"09:00\", to: \"17:00\"}}\n"
            ),
        )
    };
    let got = problems(&with_days("[monkey, ääh, \"日曜日\"]"));
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got[0].contains("restrictions[0].days[0]: \"monkey\" is not a day"),
        "{got:?}"
    );
    assert!(got[1].contains("days[1]: \"ääh\" is not a day"), "{got:?}");
    assert!(
        got[2].contains("days[2]: \"日曜日\" is not a day"),
        "{got:?}"
    );
    let c = oncall::config::parse(&with_days("[Monday, tue]"), "o.yaml").unwrap();
    assert_eq!(
        c.schedules[0].layers[0].restrictions[0].days,
        [chrono::Weekday::Mon, chrono::Weekday::Tue]
    );
}

/// Issue 11: overflow, unit-less durations and a second YAML document.
#[test]
fn durations_and_documents_are_reported_in_plain_words() {
    let got = problems(&BASE.replace("escalate_after: 5m", "escalate_after: 99999999999h"));
    assert_eq!(
        got,
        [
            "o.yaml:16:25: escalation_policies[0].steps[0].escalate_after: \"99999999999h\" is too large: the longest duration is 2^63-1 nanoseconds (about 292y)"
        ]
    );
    let got = problems(&BASE.replace("rotation: 7d", "rotation: 7"));
    assert!(
        got[0].contains("layers[0].rotation: \"7\" has no unit"),
        "{got:?}"
    );
    let got = problems(&format!("{BASE}---\npeople: []\n"));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with("o.yaml:17:1: this file holds several YAML documents"),
        "{got:?}"
    );
}

#[test]
fn a_missing_file_has_no_fake_position() {
    let e = oncall::config::load(std::path::Path::new("/nonexistent/o.yaml")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/o.yaml: cannot read"),
        "{e}"
    );
}
