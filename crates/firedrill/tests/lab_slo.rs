//! SLOs end to end: the shop's SLO rules are evaluated in the lab, and a
//! broken checkout pages within the burn-rate arithmetic's bound.

mod common;

use std::time::{Duration, Instant};

use common::{Lab, eventually, webhook};
use serde_json::json;

#[test]
fn a_broken_checkout_fires_the_page_alert() {
    let (hook, received, _rt) = webhook();
    let dir = tempfile::tempdir().unwrap();
    let am = dir.path().join("am.yml");
    std::fs::write(
        &am,
        format!(
            "route:\n  receiver: hook\n  group_by: [alertname, sloth_severity]\n  group_wait: 1s\n  group_interval: 5s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: {hook}\n"
        ),
    )
    .unwrap();
    let am = am.display().to_string();
    let lab = Lab::start("shop", &["--rps", "40", "--alertmanager-config", &am]);
    eventually(30, || {
        (lab.journeys(&["journey=\"checkout\"", "outcome=\"success\""]) >= 2.0).then_some(())
    })
    .expect("checkouts succeed first");
    // The SLO rules are loaded and evaluated.
    let rules = lab.get("/api/v1/rules");
    let groups = rules["data"]["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        groups
            .iter()
            .any(|g| g["name"] == "sloth-slo-alerts-shop-checkout-availability"),
        "{rules}"
    );
    // The disk rules watch this machine's real disk, which other programs
    // may be filling: left out.
    let alerts = lab.get("/api/v1/alerts")["data"]["alerts"].clone();
    assert!(
        alerts
            .as_array()
            .is_some_and(|a| a.iter().all(|a| a["labels"]["alertname"]
                .as_str()
                .is_some_and(|n| n.starts_with("Disk")))),
        "healthy lab alerts nobody: {alerts}"
    );

    // Payment down: every checkout fails.
    let broke = Instant::now();
    let r = lab.post(
        "/api/lab/scale",
        json!({"service": "payment", "instances": 0}),
    );
    assert_eq!(r["status"], "success", "{r}");
    let fired = eventually(60, || {
        let a = lab.get("/api/v1/alerts");
        a["data"]["alerts"].as_array()?.iter().find(|a| {
            a["labels"]["alertname"] == "CheckoutAvailabilityBurn"
                && a["labels"]["sloth_severity"] == "page"
                && a["state"] == "firing"
        })?;
        Some(broke.elapsed())
    });
    let took = fired.unwrap_or_else(|| {
        panic!(
            "the page alert did not fire; rules: {}",
            lab.get("/api/v1/rules")
        )
    });
    println!(
        "page alert fired {:.1}s after checkout broke",
        took.as_secs_f64()
    );
    // The webhook receives Alertmanager's version-4 payload.
    let payload = eventually(30, || {
        received
            .lock()
            .unwrap()
            .iter()
            .find(|p| p["commonLabels"]["sloth_severity"] == "page")
            .cloned()
    })
    .unwrap_or_else(|| panic!("no webhook notification; log: {}", lab.log()));
    println!(
        "webhook notified {:.1}s after checkout broke",
        broke.elapsed().as_secs_f64()
    );
    assert_eq!(payload["version"], "4");
    assert_eq!(payload["status"], "firing");
    assert_eq!(payload["receiver"], "hook");
    assert_eq!(
        payload["commonLabels"]["alertname"],
        "CheckoutAvailabilityBurn"
    );
    assert!(
        payload["alerts"][0]["fingerprint"]
            .as_str()
            .is_some_and(|f| f.len() == 16)
    );
    let (ok, out, err) = lab.cli(&["notifications"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("hook") && out.contains("sent"), "{out}");

    // A silence mutes it: list shows it active; expire removes it.
    let (ok, out, err) = lab.cli(&[
        "silence",
        "add",
        "alertname=CheckoutAvailabilityBurn",
        "--for",
        "1h",
        "--comment",
        "drill",
    ]);
    assert!(ok, "{err}");
    let id = out.split_whitespace().nth(1).unwrap().to_string();
    let (ok, out, _) = lab.cli(&["silence", "list"]);
    assert!(ok && out.contains(&id) && out.contains("active"), "{out}");
    let am_alerts = lab
        .http
        .get(format!("{}/api/v2/alerts", lab.url))
        .send()
        .unwrap()
        .json::<serde_json::Value>()
        .unwrap();
    assert!(
        am_alerts
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["labels"]["alertname"] == "CheckoutAvailabilityBurn"
                && a["status"]["state"] == "suppressed"),
        "{am_alerts}"
    );
    let (ok, _, err) = lab.cli(&["silence", "expire", &id]);
    assert!(ok, "{err}");
    let (ok, _, err) = lab.cli(&["silence", "add", "nonsense"]);
    assert!(!ok && err.contains("not a matcher"), "{err}");

    // `firedrill slo status` and `firedrill alerts` show it.
    let (ok, out, err) = lab.cli(&["slo", "status"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("checkout-availability")
            && out.contains("CheckoutAvailabilityBurn page (firing)"),
        "{out}"
    );
    let (ok, out, _) = lab.cli(&["alerts", "--output", "json"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|a| a["labels"]["severity"] == "page"),
        "{v}"
    );
    let _ = Duration::ZERO;
}

#[test]
fn rule_and_slo_commands_report_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: rate(up[5m]\n",
    )
    .unwrap();
    let out = std::process::Command::new(common::bin())
        .args(["rules", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bad.yml:5:15: groups[0].rules[0].expr: could not parse expression"),
        "{text}"
    );

    let rules = dir.path().join("shop.rules.yml");
    let tests = dir.path().join("shop.test.yml");
    let out = std::process::Command::new(common::bin())
        .args(["slo", "generate", "shop", "--out"])
        .arg(&rules)
        .arg("--tests")
        .arg(&tests)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(common::bin())
        .args(["rules", "check"])
        .arg(&rules)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        std::fs::read_to_string(&tests)
            .unwrap()
            .contains("rule_files:")
    );
}

#[test]
fn slo_generate_takes_sloths_flags_and_kubernetes_specs() {
    let dir = tempfile::tempdir().unwrap();
    // Sloth's examples/k8s-multifile.yml: two PrometheusServiceLevels.
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../alerting/tests/sloth/examples/k8s-multifile.yml");
    let rules = dir.path().join("k8s.rules.yml");
    let out = std::process::Command::new(common::bin())
        .args(["slo", "generate"])
        .arg(&spec)
        .args([
            "--default-slo-period",
            "28d",
            "-l",
            "team=payments",
            "--out",
        ])
        .arg(&rules)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&rules).unwrap();
    assert_eq!(
        text.matches("- record: sloth_slo_info").count(),
        2,
        "{text}"
    );
    assert!(
        text.contains("record: slo:sli_error:ratio_rate4w"),
        "{text}"
    );
    assert!(text.contains("> (13.44 * "), "{text}");
    assert!(text.contains("team: \"payments\""), "{text}");
    assert!(text.contains("sloth_spec: \"sloth.slok.dev/v1\""), "{text}");

    let out = std::process::Command::new(common::bin())
        .args(["slo", "generate"])
        .arg(&spec)
        .args(["--default-slo-period", "7d"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--default-slo-period: SLO period \"7d\" is not supported"),
        "{err}"
    );
}
