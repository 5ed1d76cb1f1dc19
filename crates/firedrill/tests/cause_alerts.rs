//! The bundled cause-based rules in a running lab: `/api/v1/rules` lists
//! them beside the SLO rules, the metrics they need are scraped, and a real
//! cause (a killed instance) fires its alert, which opens a ticket and no
//! page (page on symptoms, ticket on causes).

mod common;

use common::{Lab, bin, eventually, repo_root};
use serde_json::{Value, json};

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().or_else(|| x["name"].as_str()))
        .map(str::to_string)
        .collect()
}

/// Alerts, tickets or pages whose labels name `alert`.
fn with_alertname<'a>(list: &'a Value, alert: &str) -> Vec<&'a Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|x| x["labels"]["alertname"] == alert)
        .collect()
}

#[test]
fn a_killed_instance_fires_its_cause_alert_and_opens_a_ticket_not_a_page() {
    let lab = Lab::start("chatbot", &["--rps", "5"]);

    let groups = lab.get("/api/v1/rules")["data"]["groups"].clone();
    let group_names = names(&groups);
    for g in [
        "lab-instances",
        "lab-resources",
        "lab-disk",
        "lab-balancing",
        "chatbot-queue",
    ] {
        assert!(group_names.iter().any(|n| n == g), "{g} in {group_names:?}");
    }
    assert!(
        groups
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["file"].as_str().is_some_and(|f| f.starts_with("slo:"))),
        "the SLO rules are still loaded: {group_names:?}"
    );

    // The metrics the rules read are there (the restart counters from 0).
    let needed = [
        "lab_memory_limit_bytes",
        "lab_concurrency_limit",
        "lab_queue_oldest_job_age_seconds",
        "lab_data_dir_filesystem_avail_bytes",
        "lab_data_dir_filesystem_size_bytes",
        "lab_instance_restarts_total",
    ];
    eventually(30, || {
        let have = names(&lab.get("/api/v1/label/__name__/values")["data"]);
        needed
            .iter()
            .all(|n| have.iter().any(|h| h == n))
            .then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "metrics {needed:?} in {}",
            lab.get("/api/v1/label/__name__/values")
        )
    });
    let zero = "lab_instance_restarts_total{lab_instance=\"router/1\"}";
    eventually(30, || {
        let r: Value = lab
            .http
            .get(format!("{}/api/v1/query", lab.url))
            .query(&[("query", zero)])
            .send()
            .ok()?
            .json()
            .ok()?;
        (r["data"]["result"][0]["value"][1] == "0").then_some(())
    })
    .expect("router/1's restart counter is scraped at 0 before any crash");

    // A healthy lab has no cause to report (the disk rules watch this
    // machine's real disk, so they are left out).
    let active: Vec<Value> = lab.get("/api/v1/alerts")["data"]["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|a| {
            let name = a["labels"]["alertname"].as_str().unwrap_or_default();
            a["labels"]["category"] == "cause" && !name.starts_with("Disk")
        })
        .collect();
    assert!(active.is_empty(), "healthy lab, causes: {active:?}");

    let r = lab.post(
        "/api/faults",
        json!({"kind": "kill", "service": "router", "instances": [1]}),
    );
    assert_eq!(r["status"], "success", "{r}");

    let firing = eventually(60, || {
        let alerts = lab.get("/api/v1/alerts")["data"]["alerts"].clone();
        with_alertname(&alerts, "InstanceRestarting")
            .into_iter()
            .find(|a| a["state"] == "firing" && a["labels"]["lab_instance"] == "router/1")
            .cloned()
    })
    .unwrap_or_else(|| panic!("InstanceRestarting fires: {}", lab.get("/api/v1/alerts")));
    assert_eq!(firing["labels"]["severity"], "ticket", "{firing}");
    assert!(
        firing["annotations"]["runbook"]
            .as_str()
            .is_some_and(|r| r.contains("router/1")),
        "{firing}"
    );

    let ticket = eventually(60, || {
        let tickets = lab.get("/api/tickets")["data"].clone();
        with_alertname(&tickets, "InstanceRestarting")
            .first()
            .map(|t| (*t).clone())
    })
    .unwrap_or_else(|| panic!("a ticket is opened: {}", lab.get("/api/tickets")));
    assert!(
        ticket["summary"]
            .as_str()
            .is_some_and(|s| s.contains("router/1")),
        "{ticket}"
    );
    let pages = lab.get("/api/pages?status=all");
    assert_eq!(pages["status"], "success", "{pages}");
    assert!(
        with_alertname(&pages["data"], "InstanceRestarting").is_empty(),
        "a cause does not page: {pages}"
    );
}

#[test]
fn rules_check_accepts_the_bundled_rule_files() {
    let dir = repo_root().join("crates/alerting/rules");
    let out = std::process::Command::new(bin())
        .args(["rules", "check"])
        .arg(dir.join("lab.yaml"))
        .arg(dir.join("chatbot.yaml"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("lab.yaml: SUCCESS: 9 rules in 4 groups"),
        "{stdout}"
    );
    assert!(
        stdout.contains("chatbot.yaml: SUCCESS: 2 rules in 1 groups"),
        "{stdout}"
    );
}
