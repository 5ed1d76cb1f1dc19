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
