//! Experiment files: the bundled ones load and are checked against their
//! topology; mistakes are reported with file:line:column and the field.

#[test]
fn the_bundled_experiments_load_across_both_labs() {
    let mut labs = std::collections::BTreeSet::new();
    for (name, _) in chaos::experiment::BUNDLED {
        let x = chaos::experiment::resolve(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            !x.steady_state.is_empty() && !x.method.is_empty() && !x.halt.is_empty(),
            "{name}"
        );
        labs.insert(x.topology.clone());
    }
    assert!(chaos::experiment::BUNDLED.len() >= 6);
    assert_eq!(labs.into_iter().collect::<Vec<_>>(), ["chatbot", "shop"]);
}

#[test]
fn mistakes_are_reported_with_their_position() {
    let text = "\
title: t
topology: shop
hypothesis: h
steady_state:
  - name: no tolerance
    query: up
  - name: both
    query: up
    slo_burn: x
    max: 1
method:
  - fault: {kind: latency, service: ad, delay: 1s, route: /nowhere}
    for: 10s
  - fault: {kind: meltdown, service: ad}
    for: soon
rollbacks:
  - lab: format-disk
";
    let e = chaos::experiment::parse(text, "x.yaml")
        .unwrap_err()
        .to_string();
    for want in [
        "x.yaml:5:5: steady_state[0]: a probe needs a tolerance",
        "x.yaml:7:5: steady_state[1]: a probe has either `query`",
        "x.yaml:12:12: method[0].fault: ad has no route \"/nowhere\"",
        "x.yaml:15:10: method[1].for:",
        "x.yaml:17:10: rollbacks[0].lab: \"format-disk\" is not a lab operation",
    ] {
        assert!(e.contains(want), "missing {want:?} in\n{e}");
    }
    let e = chaos::experiment::parse("title: [", "y.yaml").unwrap_err();
    assert_eq!(e.problems[0].file, "y.yaml");
    assert!(e.problems[0].line >= 1);
}

const GOOD: &str = "\
title: t
topology: shop
hypothesis: h
steady_state:
  - {name: up, query: up, min: 1}
method:
  - fault: {kind: latency, service: ad, delay: 1s}
    for: 10s
";

/// Issue 11: the experiment loader shares the duration grammar and the
/// YAML messages of every other file.
#[test]
fn durations_and_documents_are_reported_in_plain_words() {
    let x = chaos::experiment::parse(&GOOD.replace("for: 10s", "for: 1m30s"), "x.yaml").unwrap();
    assert_eq!(x.method[0].duration.as_secs(), 90);
    let x = chaos::experiment::parse(&GOOD.replace("for: 10s", "for: 1.5m"), "x.yaml").unwrap();
    assert_eq!(x.method[0].duration.as_secs(), 90);

    let e = chaos::experiment::parse(&GOOD.replace("for: 10s", "for: 99999999999h"), "x.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("x.yaml:8:10: method[0].for: \"99999999999h\" is too large"),
        "{e}"
    );
    let e = chaos::experiment::parse(&GOOD.replace("for: 10s", "for: 10"), "x.yaml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("method[0].for: \"10\" has no unit"), "{e}");

    let e = chaos::experiment::parse(&format!("{GOOD}---\ntitle: u\n"), "x.yaml").unwrap_err();
    assert_eq!(e.problems.len(), 1, "{e}");
    assert_eq!((e.problems[0].line, e.problems[0].column), (9, 1), "{e}");
    assert!(e.to_string().contains("several YAML documents"), "{e}");
    assert!(!e.to_string().contains("from_str_multiple"), "{e}");
}

#[test]
fn a_missing_file_has_no_fake_position() {
    let e = chaos::experiment::resolve("/nonexistent/x.yaml")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("/nonexistent/x.yaml: cannot read"), "{e}");
}

/// Issue 11: what the lab would refuse at run time is refused at load,
/// located: a halt on an SLO the topology does not have (it would never
/// fire), an instance the service does not have, a scale beyond the
/// supervisor's 0..=32, and a check interval below 200ms.
#[test]
fn what_the_lab_would_refuse_is_refused_at_load() {
    let text = "\
title: t
topology: shop
hypothesis: h
steady_state:
  - {name: up, query: up, min: 1}
method:
  - fault: {kind: latency, service: ad, delay: 1s, instances: [5]}
    for: 10s
halt:
  - {name: burn, slo_burn: no-such-slo, max: 10}
rollbacks:
  - lab: scale
    body: {service: ad, instances: 100000}
  - lab: restart
    body: {service: nosuch}
settings:
  interval: 0s
";
    let slos = |t: &str| (t == "shop").then(|| vec!["checkout-availability".to_string()]);
    let e = chaos::experiment::parse_with(text, "x.yaml", &slos)
        .unwrap_err()
        .to_string();
    for want in [
        "x.yaml:7:12: method[0].fault.instances: ad has no instance 5",
        "x.yaml:10:28: halt[0].slo_burn: topology shop has no SLO \"no-such-slo\": it has checkout-availability",
        "x.yaml:13:11: rollbacks[0].body: scale to 100000 instances: the lab scales a service to 0..=32",
        "x.yaml:15:11: rollbacks[1].body: topology shop has no service \"nosuch\"",
        "x.yaml:17:13: settings.interval: halt conditions are checked at most every 200ms",
    ] {
        assert!(e.contains(want), "missing {want:?} in\n{e}");
    }
    // What the lab accepts still loads.
    let good = text
        .replace("instances: [5]", "instances: [0]")
        .replace("no-such-slo", "checkout-availability")
        .replace("instances: 100000", "instances: 2")
        .replace("service: nosuch", "service: ad")
        .replace("interval: 0s", "interval: 200ms");
    let x = chaos::experiment::parse_with(&good, "x.yaml", &slos).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(x.interval.as_millis(), 200);
    // Without SLO names (a topology without bundled SLOs) any name loads.
    chaos::experiment::parse(&good.replace("checkout-availability", "mine"), "x.yaml")
        .unwrap_or_else(|e| panic!("{e}"));
}
