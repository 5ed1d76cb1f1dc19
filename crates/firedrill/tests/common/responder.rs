//! A scripted responder for drill tests: it plays the ideal path by
//! carrying out, through the lab's API with the trainee's token, the
//! operations that the scenario's remedies and journal objectives name.
//! It reads the drill's hidden state (as an instructor) only to know when
//! a fault has begun, standing in for the trainee noticing the symptom.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::Lab;

pub struct People {
    pub trainee: String,
    pub trainee_token: String,
    pub shadow: Option<(String, String)>,
}

/// The API call a matcher describes, if it names a person's operation.
fn operation(m: &Value) -> Option<(&'static str, String, Value)> {
    let kind = m["kind"].as_str()?;
    let subject = m["subject"].as_str().unwrap_or("");
    let attrs = &m["attrs"];
    let service = subject.split('/').next().unwrap_or("").to_string();
    let index = subject
        .split('/')
        .nth(1)
        .and_then(|i| i.parse::<u32>().ok());
    match kind {
        "rollback.finished" | "rollback.started" => Some((
            "POST",
            "/api/lab/rollback".into(),
            json!({"service": service}),
        )),
        "deploy.finished" | "deploy.started" => {
            let version = attrs["to"]["equals"].as_str()?;
            Some((
                "POST",
                "/api/lab/deploy".into(),
                json!({"service": service, "version": version}),
            ))
        }
        "service.scaled" => {
            let n = attrs["to"]["gte"]
                .as_f64()
                .or_else(|| attrs["to"]["equals"].as_f64())?;
            Some((
                "POST",
                "/api/lab/scale".into(),
                json!({"service": service, "instances": n.ceil() as u32}),
            ))
        }
        "instance.restarted" => {
            let mut body = json!({"service": service});
            if let Some(i) = index {
                body["index"] = json!(i);
            }
            Some(("POST", "/api/lab/restart".into(), body))
        }
        "instance.drained" => Some((
            "POST",
            "/api/lab/drain".into(),
            json!({"service": service, "index": index.unwrap_or(0), "on": true}),
        )),
        "config.changed" => {
            let mut set = serde_json::Map::new();
            for (path, cond) in attrs.as_object()? {
                let key = path.strip_prefix("set/")?;
                let value = if let Some(v) = cond["equals"].as_str() {
                    v.to_string()
                } else if let Some(v) = cond["equals"].as_f64() {
                    v.to_string()
                } else {
                    let bound = cond["lte"].as_f64().or_else(|| cond["gte"].as_f64())?;
                    if key.starts_with("timeout")
                        || key.ends_with("interval")
                        || key == "ejection_time"
                    {
                        format!("{}ms", (bound * 1000.0).round() as u64)
                    } else {
                        (bound.round() as u64).to_string()
                    }
                };
                set.insert(key.to_string(), json!(value));
            }
            Some((
                "POST",
                "/api/lab/config".into(),
                json!({"service": service, "set": set}),
            ))
        }
        _ => None,
    }
}

/// The open page's id, if any.
fn open_page(lab: &Lab) -> Option<i64> {
    let pages = lab.get("/api/pages?status=open");
    pages["data"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(|p| p["id"].as_i64())
}

/// Does what a journal matcher names; `Ok(true)` once done.
fn act(lab: &Lab, m: &Value, people: &People, done_ops: &mut BTreeSet<String>) -> bool {
    let kind = m["kind"].as_str().unwrap_or("");
    let token = match m["actor"].as_str() {
        Some("shadow") => people.shadow.as_ref().map(|s| s.1.clone()),
        _ => Some(people.trainee_token.clone()),
    };
    let Some(token) = token else { return false };
    let page_action = match kind {
        "page.acknowledged" => Some(("acknowledge", json!({}))),
        "page.resolved" => Some(("resolve", json!({}))),
        "page.noted" => Some((
            "notes",
            json!({"text": "looking at the checkout errors with my mentor"}),
        )),
        _ => None,
    };
    if let Some((action, body)) = page_action {
        let Some(id) = open_page(lab) else {
            return false;
        };
        let (status, _) = lab.call(
            "POST",
            &format!("/api/pages/{id}/{action}"),
            Some(&token),
            Some(body),
        );
        return status < 300;
    }
    match operation(m) {
        // Each operation once: a remedy and an objective may name the same.
        Some((_, path, body)) if done_ops.contains(&format!("{path} {body}")) => true,
        Some((method, path, body)) => {
            done_ops.insert(format!("{path} {body}"));
            let (status, answer) = lab.call(method, &path, Some(&token), Some(body));
            if status >= 300 {
                // As a person would: note it and go on (the drill's state
                // says whether the fault is still there).
                eprintln!("{path} answered {status}: {answer}");
            }
            true
        }
        None => false,
    }
}

fn matchers(w: &Value) -> Vec<Value> {
    match w {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

/// Plays the ideal path until the drill ends (or `limit` passes); returns
/// the drill's id.
pub fn play_ideal(lab: &Lab, drill: i64, people: &People, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut done_ops: BTreeSet<String> = BTreeSet::new();
    while Instant::now() < deadline {
        let (status, state) =
            lab.call("GET", "/api/drills/current/state", Some(&lab.token()), None);
        if status == 404 || state["data"]["id"].as_i64() != Some(drill) {
            return;
        }
        let r = &state["data"];
        let faults = r["plan"]["faults"].as_array().cloned().unwrap_or_default();
        let fstates = r["state"]["faults"].as_array().cloned().unwrap_or_default();
        // As on call: the page first, then the fix.
        let page_pending = r["scenario"]["objectives"]
            .as_array()
            .into_iter()
            .flatten()
            .zip(r["state"]["objectives"].as_array().into_iter().flatten())
            .any(|(o, st)| {
                st["met"].is_null()
                    && o["check"]["event"]["kind"]
                        .as_str()
                        .is_some_and(|k| k.starts_with("page.acknowledged"))
            });
        for (i, (f, st)) in faults.iter().zip(fstates.iter()).enumerate() {
            if page_pending {
                break;
            }
            if st["started"].is_null() || !st["remedied"].is_null() {
                continue;
            }
            // The first remedy that ends the fault is the ideal one.
            let Some(remedy) = f["remedies"]
                .as_array()
                .and_then(|rs| rs.iter().find(|r| r["effect"]["effect"] == "end"))
            else {
                continue;
            };
            for (k, m) in matchers(&remedy["when"]).iter().enumerate() {
                let key = format!("fault{i}/{k}");
                if !done.contains(&key) && act(lab, m, people, &mut done_ops) {
                    done.insert(key);
                }
            }
        }
        let objectives = r["scenario"]["objectives"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let ostates = r["state"]["objectives"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let any_started = fstates.iter().any(|s| !s["started"].is_null());
        for (k, (o, st)) in objectives.iter().zip(ostates.iter()).enumerate() {
            let key = format!("objective{k}");
            if !any_started || !st["met"].is_null() || done.contains(&key) {
                continue;
            }
            if o["check"]["type"] == "journal"
                && act(lab, &o["check"]["event"], people, &mut done_ops)
            {
                done.insert(key);
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Waits until drill `id` has ended; its public view.
pub fn wait_end(lab: &Lab, id: i64, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let v = lab.get(&format!("/api/drills/{id}"));
        if v["data"]["running"] == false {
            return v["data"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "drill {id} did not end in {limit:?}: {v}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
