//! The bad-input suite of issue 11: every file format, every CLI flag that
//! takes a value and every HTTP route, with generated hostile inputs (huge,
//! deep, binary, non-UTF-8, overflowing numbers, far timestamps) and the
//! issue's own cases. Each must end with a non-zero exit or a 4xx whose
//! message names the problem, with no panic and no hang (a 10 s detector; no
//! timing is asserted), and the lab must lose nothing: what it stored
//! before the HTTP cases is all there after them, and no bad request
//! changed anything.
//!
//! Other hostile-input tests stay where their code is: PromQL limits and
//! deadlines (`crates/telemetry/tests/hostile_input.rs`, `fuzz_inputs.rs`),
//! tokens per role (`tests/access.rs`), loaders' located errors (each
//! crate's tests).

mod common;

#[path = "bad_inputs/files.rs"]
mod files;
#[path = "bad_inputs/flags.rs"]
mod flags;
#[path = "bad_inputs/generate.rs"]
mod generate;
#[path = "bad_inputs/http.rs"]
mod http;
#[path = "bad_inputs/runner.rs"]
mod runner;

use std::collections::BTreeSet;

use common::Lab;
use serde_json::Value;

/// What the lab holds that a bad request must not change.
fn holdings(lab: &Lab) -> (BTreeSet<i64>, Value, Value, Value, Value, Value) {
    let events: BTreeSet<i64> = lab.get("/api/events?limit=100000")["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    (
        events,
        lab.get("/api/v2/silences"),
        lab.get("/api/faults")["data"].clone(),
        lab.get("/api/tokens")["data"].clone(),
        lab.get("/api/pages?status=all")["data"].clone(),
        // What was set (rate, pattern, journeys), not what is under way.
        {
            let mut load = lab.get("/api/lab/load")["data"].clone();
            if let Some(o) = load.as_object_mut() {
                o.remove("in_flight");
                o.remove("effective_rps");
            }
            load
        },
    )
}

/// Events appended by a request (their source is a principal, not a
/// component of the lab).
fn caused_by_requests(lab: &Lab, after: i64) -> Vec<Value> {
    lab.get(&format!("/api/events?limit=100000&after_id={after}"))["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["id"].as_i64().is_some_and(|id| id > after))
        .filter(|e| {
            matches!(
                e["source"].as_str(),
                Some("instructor" | "anonymous" | "api")
            )
        })
        .collect()
}

#[test]
fn every_bad_input_gets_a_clear_error() {
    let bin = common::bin();
    // No pooled connections: a refused huge body closes its connection.
    let http_client = reqwest::blocking::Client::builder()
        .timeout(runner::HANG)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();

    let file_cases = files::cases();
    let flag_cases = flags::cases(bin);
    let http_cases = http::cases(bin);
    let offline = runner::Target {
        bin,
        lab_url: None,
        token: None,
        http: &http_client,
    };
    let mut failures = Vec::new();
    let (f, slow_files) = runner::run(&offline, &file_cases);
    failures.extend(f);
    let (f, slow_flags) = runner::run(&offline, &flag_cases);
    failures.extend(f);

    // One lab for every HTTP case.
    let lab = Lab::start("shop", &["--rps", "5"]);
    let token = lab.token();
    let before = holdings(&lab);
    let last_event = before.0.iter().max().copied().unwrap_or(0);
    let online = runner::Target {
        bin,
        lab_url: Some(&lab.url),
        token: Some(&token),
        http: &http_client,
    };
    let (f, slow_http) = runner::run(&online, &http_cases);
    failures.extend(f);

    // The lab still answers, and lost or changed nothing.
    for f in &failures {
        eprintln!("{f}");
    }
    assert!(
        !lab.services().is_empty(),
        "the lab stopped answering; its log ends:\n{}",
        lab.log()
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let after = holdings(&lab);
    let lost: Vec<&i64> = before.0.difference(&after.0).collect();
    assert!(lost.is_empty(), "events lost: {lost:?}");
    assert_eq!(before.1, after.1, "silences changed");
    assert_eq!(before.2, after.2, "faults changed");
    assert_eq!(before.3, after.3, "tokens changed");
    assert_eq!(before.4, after.4, "pages changed");
    assert_eq!(before.5, after.5, "the load generator changed");
    let caused = caused_by_requests(&lab, last_event);
    assert!(
        caused.is_empty(),
        "bad requests changed the lab: {caused:?}"
    );

    let total = file_cases.len() + flag_cases.len() + http_cases.len();
    println!(
        "bad inputs: {total} cases ({} file, {} flag, {} HTTP); slowest: {:?}",
        file_cases.len(),
        flag_cases.len(),
        http_cases.len(),
        [slow_files, slow_flags, slow_http]
    );
    assert!(
        failures.is_empty(),
        "{} of {total} bad inputs were not refused clearly:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 200, "only {total} cases");
}
