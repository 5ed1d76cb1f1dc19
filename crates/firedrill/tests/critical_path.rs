//! Critical-path analysis against real labs: on the shop, the checkout
//! path's services break checkout while ad and recommendation only degrade
//! pages; on a small topology with a hidden critical dependency (a
//! "non-critical" call without a fallback) the mismatch is reported.

mod common;

use common::{Lab, eventually};
use serde_json::Value;

fn matrix(lab: &Lab, extra: &[&str]) -> (Value, String) {
    let mut args = vec![
        "--output",
        "json",
        "chaos",
        "critical-path",
        "--window",
        "4s",
        "--settle",
        "2s",
        "--recover",
        "2s",
    ];
    args.extend_from_slice(extra);
    let (_, out, err) = lab.cli(&args);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (v, err)
}

fn observed<'a>(m: &'a Value, journey: &str, service: &str) -> &'a Value {
    m["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["journey"] == journey && c["service"] == service)
        .unwrap_or_else(|| panic!("no cell {journey} × {service}"))
}

#[test]
fn the_shop_checkout_path_breaks_checkout_and_extras_only_degrade() {
    let lab = Lab::start("shop", &["--rps", "60"]);
    eventually(30, || {
        (lab.journeys(&["journey=\"checkout\"", "outcome=\"success\""]) >= 2.0).then_some(())
    })
    .expect("checkouts flow");
    let (m, _) = matrix(
        &lab,
        &["--services", "payment,shipping,checkout,ad,recommendation"],
    );
    for s in ["payment", "shipping", "checkout"] {
        let c = observed(&m, "checkout", s);
        assert_eq!(c["observed"], "broken", "checkout without {s}: {c}");
        assert_eq!(c["mismatch"], false, "{c}");
    }
    for s in ["ad", "recommendation"] {
        let c = observed(&m, "product", s);
        assert_eq!(c["observed"], "degraded", "product page without {s}: {c}");
        let c = observed(&m, "checkout", s);
        assert_ne!(c["observed"], "broken", "checkout without {s}: {c}");
    }
    // Other cells can pick up the lab's noise on a busy machine: reported, not asserted.
    let mismatches: Vec<&Value> = m["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["mismatch"] == true)
        .collect();
    println!("mismatches on the shop (none expected): {mismatches:?}");
    assert!(
        lab.get("/api/faults")["data"]
            .as_array()
            .unwrap()
            .is_empty(),
        "no fault left behind"
    );
    println!(
        "shop matrix (5 services) in {:.0}s",
        m["seconds"].as_f64().unwrap()
    );
}

const HIDDEN: &str = "\
name: hidden
entry: web
services:
  - name: web
    instances: 2
    endpoints:
      - route: /
        calls:
          - {service: profile, path: /me}
          - {service: ads, path: /ads, critical: false, fallback: omit, timeout: 200ms}
          - {service: recs, path: /recs, critical: false, timeout: 200ms}
  - name: profile
    endpoints:
      - route: /me
  - name: ads
    endpoints:
      - route: /ads
  - name: recs
    endpoints:
      - route: /recs
journeys:
  - name: home
    steps:
      - {path: /}
";

#[test]
fn a_hidden_critical_dependency_is_reported_as_a_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let topo = dir.path().join("hidden.yaml");
    std::fs::write(&topo, HIDDEN).unwrap();
    let lab = Lab::start(topo.to_str().unwrap(), &["--rps", "40"]);
    eventually(30, || {
        (lab.journeys(&["outcome=\"success\""]) >= 5.0).then_some(())
    })
    .expect("traffic");
    let (m, _) = matrix(&lab, &[]);
    let recs = observed(&m, "home", "recs");
    assert_eq!(
        (recs["expected"].as_str(), recs["observed"].as_str()),
        (Some("degraded"), Some("broken")),
        "{recs}"
    );
    assert_eq!(recs["mismatch"], true);
    let ads = observed(&m, "home", "ads");
    assert_eq!(
        (ads["observed"].as_str(), ads["mismatch"].as_bool()),
        (Some("degraded"), Some(false)),
        "{ads}"
    );
    let profile = observed(&m, "home", "profile");
    assert_eq!(
        (profile["observed"].as_str(), profile["mismatch"].as_bool()),
        (Some("broken"), Some(false)),
        "{profile}"
    );
    // The text report names it and exits non-zero for scripts.
    let (ok, out, _) = lab.cli(&[
        "chaos",
        "critical-path",
        "--services",
        "recs",
        "--window",
        "3s",
        "--settle",
        "2s",
        "--recover",
        "1s",
    ]);
    assert!(!ok, "mismatches make the command fail");
    assert!(
        out.contains("home without recs") && out.contains("hidden critical dependency"),
        "{out}"
    );
}
