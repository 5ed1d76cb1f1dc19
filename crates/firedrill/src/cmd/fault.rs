//! `firedrill fault inject|list|clear`.

use anyhow::Result;
use serde_json::{Value, json};

use crate::cli::{Cli, FaultArgs, FaultCmd, FaultKindArg};
use crate::client::LabClient;
use crate::output;

fn kind(k: FaultKindArg) -> &'static str {
    match k {
        FaultKindArg::Latency => "latency",
        FaultKindArg::Error => "error",
        FaultKindArg::Blackhole => "blackhole",
        FaultKindArg::Refuse => "refuse",
        FaultKindArg::Reset => "reset",
        FaultKindArg::SlowBody => "slow_body",
        FaultKindArg::Cpu => "cpu",
        FaultKindArg::Memory => "memory",
        FaultKindArg::Disk => "disk",
        FaultKindArg::Kill => "kill",
        FaultKindArg::Pause => "pause",
        FaultKindArg::BadVersion => "bad_version",
    }
}

/// The request body for `POST /api/faults`.
pub fn request(a: &FaultArgs) -> Value {
    let mut v = json!({"kind": kind(a.kind), "service": a.service, "for": a.duration});
    let mut set = |k: &str, val: Value| {
        if !val.is_null() {
            v[k] = val;
        }
    };
    set("instances", json!(a.instances));
    set("instance_percent", json!(a.instance_percent));
    set("route", json!(a.route));
    set("caller", json!(a.caller));
    set("percent", json!(a.percent));
    set("delay", json!(a.delay));
    set("jitter", json!(a.jitter));
    set("status", json!(a.status));
    set("share", json!(a.share));
    set("mb_per_s", json!(a.mb_per_s));
    set("cap_mb", json!(a.cap_mb));
    set("size_mb", json!(a.size_mb));
    set("version", json!(a.version));
    v
}

fn row(f: &Value) -> Vec<String> {
    let target = match f["caller"].as_str() {
        Some(c) => format!("{c} → {}", f["service"].as_str().unwrap_or("")),
        None => f["service"].as_str().unwrap_or("").to_string(),
    };
    let params: Vec<String> = f["params"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| *k != "kind")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    vec![
        f["id"].as_str().unwrap_or("").into(),
        f["kind"].as_str().unwrap_or("").into(),
        target,
        f["route"].as_str().unwrap_or("*").into(),
        format!("{}%", f["percent"]),
        f["instances"]
            .as_array()
            .map(|a| a.len())
            .unwrap_or(0)
            .to_string(),
        params.join(" "),
        f["until"]
            .as_str()
            .unwrap_or("")
            .get(11..19)
            .unwrap_or("")
            .into(),
    ]
}

const HEADER: [&str; 8] = [
    "ID",
    "KIND",
    "TARGET",
    "ROUTE",
    "REQUESTS",
    "INSTANCES",
    "PARAMS",
    "UNTIL",
];

pub async fn run(cli: &Cli, cmd: &FaultCmd) -> Result<()> {
    let client = LabClient::new(cli);
    match cmd {
        FaultCmd::Inject(a) => {
            let v = client.post("/api/faults", request(a)).await?;
            output::emit(cli.output, &v, || {
                println!(
                    "fault {} injected: {} on {} ({} instance(s)) until {}",
                    v["id"].as_str().unwrap_or(""),
                    v["kind"].as_str().unwrap_or(""),
                    v["service"].as_str().unwrap_or(""),
                    v["instances"].as_array().map(|a| a.len()).unwrap_or(0),
                    v["until"].as_str().unwrap_or("")
                )
            });
        }
        FaultCmd::List { reveal } => {
            if !reveal && crate::cmd::drill::running(cli).await {
                anyhow::bail!(
                    "a drill is running and its faults are the answer: wait for `firedrill drill debrief`, or (game master) use `firedrill drill watch` or `fault list --reveal`"
                );
            }
            let v = client.get("/api/faults").await?;
            output::emit(cli.output, &v, || {
                let rows: Vec<Vec<String>> = v.as_array().into_iter().flatten().map(row).collect();
                output::table(&HEADER, &rows);
            });
        }
        FaultCmd::Clear { id, all } => {
            let v = match (id, all) {
                (Some(id), _) => client.delete(&format!("/api/faults/{id}")).await?,
                (None, true) => client.delete("/api/faults").await?,
                (None, false) => {
                    anyhow::bail!("say which fault (an ID from `firedrill fault list`) or --all")
                }
            };
            output::emit(cli.output, &v, || {
                let ids: Vec<&str> = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["id"].as_str())
                    .collect();
                println!("cleared {} fault(s) {}", ids.len(), ids.join(" "));
            });
        }
    }
    Ok(())
}
