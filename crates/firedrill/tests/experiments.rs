//! Chaos experiments against a running shop: a hypothesis that holds, one
//! that does not, one halted by its halt condition with the rollback
//! observed, and one that never starts because the steady state is not met.

mod common;

use common::{Lab, eventually};
use serde_json::Value;

fn shop() -> Lab {
    let lab = Lab::start("shop", &["--rps", "60"]);
    eventually(30, || {
        (lab.journeys(&["journey=\"product\"", "outcome=\"success\""]) >= 20.0).then_some(())
    })
    .expect("traffic flows");
    // Five seconds of history for the probes' windows.
    std::thread::sleep(std::time::Duration::from_secs(5));
    lab
}

const PRODUCT_OK: &str = "sum(rate(loadgen_journeys_total{journey=\\\"product\\\",outcome=\\\"success\\\"}[5s])) / sum(rate(loadgen_journeys_total{journey=\\\"product\\\"}[5s]))";

fn experiment(lab: &Lab, name: &str, body: &str) -> (i32, Value) {
    let path = lab.data_dir().join(format!("{name}.yaml"));
    std::fs::write(&path, body).unwrap();
    let out = std::process::Command::new(common::bin())
        .arg("--data-dir")
        .arg(lab.data_dir())
        .args(["--output", "json", "experiment", "run"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), v)
}

fn probe<'a>(r: &'a Value, phase: &str) -> &'a Value {
    &r["probes"][0][phase]
}

#[test]
fn losing_ads_keeps_product_pages_working() {
    let lab = shop();
    let (code, r) = experiment(
        &lab,
        "ads",
        &format!(
            "title: ads are optional\ntopology: shop\nhypothesis: product pages work without ads\nsteady_state:\n  - name: product ok\n    query: \"{PRODUCT_OK}\"\n    min: 0.9\nmethod:\n  - fault: {{kind: refuse, service: ad}}\n    for: 8s\nsettings:\n  recovery: 3s\n"
        ),
    );
    assert_eq!(r["verdict"], "held", "{r}");
    assert_eq!(code, 0);
    for phase in ["before", "during", "after"] {
        assert_eq!(probe(&r, phase)["ok"], true, "{phase}: {r}");
    }
    assert!(
        r["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["event"] == "fault cleared")
    );
}

#[test]
fn losing_the_catalog_disproves_the_hypothesis() {
    let lab = shop();
    let (code, r) = experiment(
        &lab,
        "catalog",
        &format!(
            "title: catalog outage\ntopology: shop\nhypothesis: product pages survive a catalog outage\nsteady_state:\n  - name: product ok\n    query: \"{PRODUCT_OK}\"\n    min: 0.9\nmethod:\n  - fault: {{kind: refuse, service: productcatalog}}\n    for: 8s\nsettings:\n  recovery: 6s\n"
        ),
    );
    assert_eq!(r["verdict"], "deviated", "{r}");
    assert_eq!(code, 3);
    assert_eq!(probe(&r, "before")["ok"], true);
    assert_eq!(probe(&r, "during")["ok"], false, "{r}");
    assert!(probe(&r, "during")["value"].as_f64().unwrap() < 0.9);
}

#[test]
fn a_breached_halt_condition_stops_early_and_rolls_back() {
    let lab = shop();
    let (code, r) = experiment(
        &lab,
        "halt",
        &format!(
            "title: catalog errors\ntopology: shop\nhypothesis: errors are absorbed\nsteady_state:\n  - name: product ok\n    query: \"{PRODUCT_OK}\"\n    min: 0.9\nmethod:\n  - fault: {{kind: error, service: productcatalog, status: 500}}\n    for: 60s\nhalt:\n  - name: product pages collapsing\n    query: \"{PRODUCT_OK}\"\n    min: 0.5\nsettings:\n  recovery: 8s\n"
        ),
    );
    assert_eq!(r["verdict"], "halted", "{r}");
    assert_eq!(code, 4);
    let at = r["halted"]["at"].as_f64().unwrap();
    assert!(at < 40.0, "halted long before the 60s method ends: {at}");
    assert!(r["halted"]["value"].as_f64().unwrap() < 0.5);
    // Rolled back: no fault left, the clear is journaled, pages recover.
    assert!(
        lab.get("/api/faults")["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let cleared = lab.get("/api/events?kind=fault.cleared");
    assert_eq!(cleared["data"].as_array().unwrap().len(), 1, "{cleared}");
    assert_eq!(
        lab.get("/api/events?kind=experiment.halted")["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        probe(&r, "after")["ok"],
        true,
        "recovered after the rollback: {r}"
    );
    println!("halted {at:.1}s into a 60s method");
}

#[test]
fn no_steady_state_no_experiment() {
    let lab = Lab::start("shop", &["--rps", "5"]);
    let (code, r) = experiment(
        &lab,
        "unsteady",
        "title: impossible\ntopology: shop\nhypothesis: nothing\nsteady_state:\n  - name: impossible\n    query: vector(0)\n    min: 1\nmethod:\n  - fault: {kind: cpu, service: cart}\n    for: 10s\n",
    );
    assert_eq!((r["verdict"].as_str(), code), (Some("not_run"), 5), "{r}");
    assert!(
        lab.get("/api/events?kind=fault.")["data"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing injected"
    );
}
