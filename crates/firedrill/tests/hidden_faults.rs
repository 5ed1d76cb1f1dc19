//! The answer stays hidden: with faults of several kinds injected into a
//! running shop (a bad release, server- and client-side errors, a
//! blackhole, latency, a reset, a memory leak), nothing a trainee's token
//! can read names them: not the metrics (every series' labels, and every
//! instance's own /metrics), the request logs, the traces, the status
//! table, the topology (a version keeps its name but not what it does),
//! the journal, nor `firedrill topology show`. The fault list answers 403
//! to the trainee; the instructor sees everything.

mod common;

use common::{Lab, eventually};
use serde_json::{Value, json};

/// Words that would name an injected fault.
const GIVEAWAYS: &[&str] = &["fault", "inject", "blackhole", "chaos"];

/// The bad release's own description in the bundled shop.
const BAD_RELEASE: &str = "Bad release";

/// Whether `text` names `id` as a whole token (fault ids like `f3` are
/// also hex digits inside trace ids, which are not mentions).
fn names_id(text: &str, id: &str) -> bool {
    let bytes = text.as_bytes();
    let apart = |b: Option<&u8>| b.is_none_or(|b| !b.is_ascii_alphanumeric());
    text.match_indices(id).any(|(i, _)| {
        apart(i.checked_sub(1).and_then(|j| bytes.get(j))) && apart(bytes.get(i + id.len()))
    })
}

/// Fails with the place and the word when `text` names a fault.
fn assert_hidden(what: &str, text: &str, fault_ids: &[String]) {
    let lower = text.to_ascii_lowercase();
    for w in GIVEAWAYS {
        assert!(
            !lower.contains(w),
            "{what} says {w:?}:\n{}",
            excerpt(text, w)
        );
    }
    for id in fault_ids {
        assert!(
            !names_id(text, id),
            "{what} names fault {id}:\n{}",
            excerpt(text, id)
        );
    }
    assert!(
        !text.contains(BAD_RELEASE) && !text.contains("error_rate"),
        "{what} describes the bad release"
    );
}

fn excerpt(text: &str, word: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let i = lower.find(&word.to_ascii_lowercase()).unwrap_or(0);
    let start = lower[..i]
        .char_indices()
        .rev()
        .nth(200)
        .map_or(0, |(j, _)| j);
    text[start..].chars().take(400).collect()
}

fn get_as(lab: &Lab, token: &str, path: &str) -> (u16, Value) {
    lab.call("GET", path, Some(token), None)
}

/// Every series' labels the trainee can query, as text.
fn all_series(lab: &Lab, token: &str) -> String {
    let (status, v) = get_as(
        lab,
        token,
        "/api/v1/series?match[]=%7B__name__%3D~%22.%2B%22%7D",
    );
    assert_eq!(status, 200, "{v}");
    let n = v["data"].as_array().map_or(0, Vec::len);
    assert!(n > 100, "the lab's series are there ({n})");
    v["data"].to_string()
}

#[test]
fn a_trainee_sees_failures_never_the_faults_behind_them() {
    let lab = Lab::start("shop", &["--rps", "40"]);
    eventually(30, || {
        (lab.journeys(&["outcome=\"success\""]) >= 5.0).then_some(())
    })
    .expect("traffic flows");
    let trainee = lab.new_token("tia", "trainee");

    // The bad release first: its deploy restarts productcatalog.
    let faults = [
        json!({"kind": "bad_version", "service": "productcatalog", "for": "10m"}),
        json!({"kind": "error", "service": "currency", "status": 500, "percent": 30, "for": "10m"}),
        json!({"kind": "error", "service": "recommendation", "caller": "frontend", "status": 503, "for": "10m"}),
        json!({"kind": "blackhole", "service": "ad", "percent": 30, "for": "10m"}),
        json!({"kind": "latency", "service": "shipping", "delay": "200ms", "for": "10m"}),
        json!({"kind": "reset", "service": "discount", "percent": 50, "for": "10m"}),
        json!({"kind": "memory", "service": "cart", "mb_per_s": 5, "cap_mb": 20, "for": "10m"}),
    ];
    let mut ids = Vec::new();
    for f in &faults {
        let r = lab.post("/api/faults", f.clone());
        assert_eq!(r["status"], "success", "{f} -> {r}");
        ids.push(r["data"]["id"].as_str().expect("fault id").to_string());
    }

    // The failures show: the release's and currency's 500s in the logs.
    let logs = lab.data_dir().join("logs");
    let read_logs = || {
        let mut all = String::new();
        for e in std::fs::read_dir(&logs).expect("logs dir").flatten() {
            all += &std::fs::read_to_string(e.path()).unwrap_or_default();
        }
        all
    };
    let failing = |log: &str, service: &str| {
        log.lines().any(|l| {
            l.contains(&format!("\"service\":\"{service}\"")) && l.contains("\"status\":500")
        })
    };
    let text = eventually(60, || {
        let t = read_logs();
        (failing(&t, "productcatalog") && failing(&t, "currency")).then_some(t)
    })
    .expect("the faults' failures reach the request logs");

    // Logs: failures with their routes, nothing about faults.
    assert_hidden("the request logs", &text, &ids);
    let line = text
        .lines()
        .find(|l| l.contains("\"service\":\"productcatalog\"") && l.contains("\"status\":500"))
        .expect("a failed product lookup");
    assert!(
        line.contains("GET /products/{id} failed: internal server error"),
        "{line}"
    );

    // Traces of failed requests.
    let traces: Vec<String> = text
        .lines()
        .filter(|l| l.contains("\"level\":\"error\""))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["trace_id"].as_str().map(str::to_string))
        .filter(|t| !t.is_empty())
        .take(20)
        .collect();
    assert!(!traces.is_empty(), "failed requests carry trace ids");
    let mut seen = 0;
    for t in &traces {
        let (status, v) = get_as(&lab, &trainee, &format!("/api/lab/traces/{t}"));
        if status == 200 {
            seen += 1;
            assert_hidden(&format!("trace {t}"), &v.to_string(), &ids);
        }
    }
    assert!(seen > 0, "some traces are still held by the instances");

    // Metrics: every series' labels, and every instance's own exposition.
    assert_hidden("the series' labels", &all_series(&lab, &trainee), &ids);
    let (status, services) = get_as(&lab, &trainee, "/api/lab/services");
    assert_eq!(status, 200);
    for s in services["data"]["services"].as_array().expect("services") {
        for i in s["instances"].as_array().into_iter().flatten() {
            let Some(addr) = i["addr"].as_str() else {
                continue;
            };
            if let Ok(r) = lab.http.get(format!("http://{addr}/metrics")).send() {
                let body = r.text().unwrap_or_default();
                assert_hidden(&format!("{addr}/metrics"), &body, &ids);
            }
        }
    }

    // The status table and the topology.
    assert_hidden("/api/lab/services", &services.to_string(), &ids);
    let (status, topo) = get_as(&lab, &trainee, "/api/lab/topology");
    assert_eq!(status, 200);
    assert_hidden("/api/lab/topology", &topo.to_string(), &ids);
    let catalog = topo["data"]["services"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == "productcatalog"))
        .expect("productcatalog");
    assert_eq!(
        catalog["versions"],
        json!({"v1": {}, "v2": {}}),
        "versions keep their names only"
    );
    let (ok, out, err) = lab.cli(&["--token", &trainee, "topology", "show", "--output", "json"]);
    assert!(ok, "{err}");
    assert_hidden("`topology show` as the trainee", &out, &ids);
    assert!(out.contains("productcatalog"), "{out}");

    // The journal: the deploy is there, by the pipeline; the faults are not.
    let (status, events) = get_as(&lab, &trainee, "/api/events?limit=1000");
    assert_eq!(status, 200);
    assert_hidden("the journal", &events.to_string(), &ids);
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"deploy.finished"), "{kinds:?}");

    // The fault list is the instructor's.
    let (status, _) = get_as(&lab, &trainee, "/api/faults");
    assert_eq!(status, 403);
    let listed = lab.get("/api/faults");
    let listed: Vec<&str> = listed["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["id"].as_str())
        .collect();
    for id in &ids {
        assert!(listed.contains(&id.as_str()), "{id} in {listed:?}");
    }
    let (_, events) = get_as(&lab, &lab.token(), "/api/events?kind=fault.&limit=1000");
    assert_eq!(
        events["data"].as_array().map_or(0, Vec::len),
        ids.len(),
        "the instructor reads every fault.injected"
    );
    let topo = lab.get("/api/lab/topology");
    assert!(topo.to_string().contains(BAD_RELEASE));
    let (ok, out, _) = lab.cli(&["topology", "show", "--output", "json"]);
    assert!(ok && out.contains(BAD_RELEASE), "the instructor reads it");
}
