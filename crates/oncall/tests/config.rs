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
