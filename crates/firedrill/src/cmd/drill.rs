//! `firedrill drill list|start|brief|status|hint|watch|push-hint|inject|end|debrief|history`.

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::cli::{Cli, DrillCmd};
use crate::client::LabClient;
use crate::output;

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn minutes(secs: f64) -> String {
    let t = secs.max(0.0).round() as u64;
    format!("{}:{:02}", t / 60, t % 60)
}

/// Whether a drill is running in the lab (normal commands then keep its
/// answer out of sight, even for the lab's own token).
pub async fn running(cli: &Cli) -> bool {
    LabClient::new(cli).get("/api/drills/current").await.is_ok()
}

/// The latest drill's id (running or not).
async fn latest(client: &LabClient) -> Result<i64> {
    let v = client
        .get_query("/api/drills", &[("limit", "1".to_string())])
        .await?;
    v.as_array()
        .and_then(|a| a.first())
        .and_then(|d| d["drill"].as_i64())
        .context("no drill has run in this lab yet: start one with `firedrill drill start`")
}

/// `drill check`: every file, every mistake; fails if any has one.
fn check(files: &[std::path::PathBuf]) -> Result<()> {
    let mut bad = 0;
    for f in files {
        match drills::scenario::load(f) {
            Ok(s) => println!(
                "{}: ok ({}, {} fault(s), {} objective(s))",
                f.display(),
                s.id,
                s.faults.len(),
                s.objectives.len()
            ),
            Err(problems) => {
                bad += 1;
                eprintln!("{problems}");
            }
        }
    }
    if bad > 0 {
        anyhow::bail!("{bad} of {} scenario file(s) have mistakes", files.len());
    }
    Ok(())
}

pub async fn run(cli: &Cli, cmd: &DrillCmd) -> Result<()> {
    if let DrillCmd::Check { files } = cmd {
        return check(files);
    }
    let client = LabClient::new(cli);
    match cmd {
        DrillCmd::Check { .. } => {}
        DrillCmd::List => {
            let v = client.get("/api/drills/scenarios").await?;
            output::emit(cli.output, &v, || {
                let rows: Vec<Vec<String>> = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| {
                        vec![
                            s(&d["id"]),
                            s(&d["title"]),
                            s(&d["topology"]),
                            "★".repeat(d["difficulty"].as_u64().unwrap_or(0) as usize),
                            d["skills"]
                                .as_array()
                                .map(|a| a.iter().map(s).collect::<Vec<_>>().join(", "))
                                .unwrap_or_default(),
                            format!(
                                "{} min",
                                (d["typical_s"].as_f64().unwrap_or(0.0) / 60.0).round()
                            ),
                        ]
                    })
                    .collect();
                output::table(
                    &["ID", "TITLE", "TOPOLOGY", "DIFFICULTY", "SKILLS", "TYPICAL"],
                    &rows,
                );
            });
        }
        DrillCmd::Start {
            scenario,
            trainee,
            shadow,
            seed,
            scale,
        } => {
            let mut body = json!({
                "scenario": scenario, "trainee": trainee, "shadow": shadow,
                "seed": seed, "scale": scale,
            });
            // A scenario file of one's own: its text goes to the lab, which
            // checks it like the bundled ones.
            let path = std::path::Path::new(scenario);
            if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading the scenario file {}", path.display()))?;
                body["text"] = json!(text);
            }
            let v = client.post("/api/drills", body).await?;
            output::emit(cli.output, &v, || {
                println!(
                    "drill #{} started: {} (seed {}, time limit {} min). {} is on call{}.",
                    v["id"],
                    s(&v["title"]),
                    v["seed"],
                    minutes(v["time_limit_s"].as_f64().unwrap_or(0.0)),
                    s(&v["trainee"]),
                    v["shadow"]
                        .as_str()
                        .map(|sh| format!(", {sh} shadows"))
                        .unwrap_or_default()
                );
                println!("\n{}", s(&v["briefing"]).trim_end());
                println!(
                    "\nNext: `firedrill drill brief` to read this again, `firedrill drill hint` if stuck."
                );
            });
        }
        DrillCmd::Brief => {
            let v = client.get("/api/drills/current").await?;
            output::emit(cli.output, &v, || {
                println!("{} (drill #{})\n", s(&v["title"]), v["id"]);
                println!("{}", s(&v["briefing"]).trim_end());
            });
        }
        DrillCmd::Status => {
            let v = client.get("/api/drills/current").await?;
            output::emit(cli.output, &v, || print_status(&v));
        }
        DrillCmd::Hint | DrillCmd::PushHint => {
            let path = if matches!(cmd, DrillCmd::Hint) {
                "/api/drills/current/hint"
            } else {
                "/api/drills/current/push-hint"
            };
            let v = client.post(path, json!({})).await?;
            output::emit(cli.output, &v, || {
                println!(
                    "hint {} (costs {} points): {}",
                    v["index"],
                    v["cost"],
                    s(&v["text"])
                );
            });
        }
        DrillCmd::Inject(a) => {
            let mut body = crate::cmd::fault::request(a);
            if let Some(o) = body.as_object_mut() {
                o.remove("for");
            }
            let v = client.post("/api/drills/current/faults", body).await?;
            output::emit(cli.output, &v, || {
                println!("{} added to the drill", s(&v["fault"]))
            });
        }
        DrillCmd::Watch { once } => loop {
            let v = client.get("/api/drills/current/state").await;
            let v = match v {
                Ok(v) => v,
                Err(e) if !once => {
                    println!("the drill is over ({e}); see `firedrill drill debrief`");
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            output::emit(cli.output, &v, || print_watch(&v));
            if *once {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            println!();
        },
        DrillCmd::End => {
            let v = client.post("/api/drills/current/end", json!({})).await?;
            output::emit(cli.output, &v, || {
                println!(
                    "drill #{} ended; `firedrill drill debrief` shows what happened",
                    v["id"]
                );
            });
        }
        DrillCmd::Debrief { id, html } => {
            // A file that cannot be written fails before the lab is asked.
            if let Some(file) = html {
                let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
                if let Some(d) = dir
                    && !d.is_dir()
                {
                    anyhow::bail!("--html {}: no directory {}", file.display(), d.display());
                }
            }
            let id = match id {
                Some(i) => *i,
                None => latest(&client).await?,
            };
            let path = format!("/api/drills/{id}/debrief");
            if let Some(file) = html {
                let text = client
                    .get_text(&path, &[("format", "html".to_string())])
                    .await?;
                std::fs::write(file, text)
                    .with_context(|| format!("writing {}", file.display()))?;
                println!("debrief of drill #{id} written to {}", file.display());
            } else if matches!(cli.output, crate::cli::Output::Json) {
                output::json(&client.get(&path).await?);
            } else {
                let text = client
                    .get_text(&path, &[("format", "text".to_string())])
                    .await?;
                print!("{text}");
            }
        }
        DrillCmd::History {
            trainee,
            scenario,
            limit,
        } => {
            let mut q = vec![("limit", limit.to_string())];
            if let Some(t) = trainee {
                q.push(("trainee", t.clone()));
            }
            if let Some(sc) = scenario {
                q.push(("scenario", sc.clone()));
            }
            if matches!(cli.output, crate::cli::Output::Json) {
                output::json(&client.get_query("/api/drills", &q).await?);
            } else {
                q.push(("format", "text".to_string()));
                print!("{}", client.get_text("/api/drills", &q).await?);
                // A trainee's history also holds their wheel cards.
                if let Some(t) = trainee {
                    let cards = client
                        .get_query("/api/wheel/cards", &[("player", t.clone())])
                        .await?;
                    if cards.as_array().is_some_and(|a| !a.is_empty()) {
                        println!("\nWheel of Expertise cards of {t}:");
                        crate::cmd::wheel::print_cards(&cards);
                    }
                }
            }
        }
    }
    Ok(())
}

fn print_status(v: &Value) {
    let limit = v["time_limit_s"].as_f64().unwrap_or(0.0);
    let elapsed = v["elapsed_s"].as_f64().unwrap_or(0.0);
    println!(
        "drill #{} {} — {} on call{}",
        v["id"],
        s(&v["title"]),
        s(&v["trainee"]),
        v["shadow"]
            .as_str()
            .map(|sh| format!(" (shadow {sh})"))
            .unwrap_or_default()
    );
    println!(
        "time {} of {} ({} left); hints {} of {} taken (−{} points)",
        minutes(elapsed),
        minutes(limit),
        minutes(limit - elapsed),
        v["hints_taken"],
        v["hints_available"],
        v["hints_cost"]
    );
}

fn print_watch(r: &Value) {
    let started = s(&r["started"]);
    println!(
        "drill #{} {} — trainee {} (seed {}, scale {})  started {}",
        r["id"],
        s(&r["scenario"]["title"]),
        s(&r["trainee"]),
        r["seed"],
        r["scale"],
        started.get(11..19).unwrap_or(&started)
    );
    let faults = r["plan"]["faults"].as_array().cloned().unwrap_or_default();
    let states = r["state"]["faults"].as_array().cloned().unwrap_or_default();
    let rows: Vec<Vec<String>> = faults
        .iter()
        .zip(states.iter())
        .map(|(f, st)| {
            let status = if !st["remedied"].is_null() {
                format!("remedied ({})", s(&st["remedy"]))
            } else if !st["relieved_until"].is_null() {
                format!(
                    "relieved until {}",
                    s(&st["relieved_until"]).get(11..19).unwrap_or("")
                )
            } else if !st["started"].is_null() {
                "ACTIVE".to_string()
            } else {
                format!("starts at +{}", minutes(f["at"].as_f64().unwrap_or(0.0)))
            };
            vec![s(&f["id"]), s(&f["title"]), status]
        })
        .collect();
    output::table(&["FAULT", "WHAT", "STATE"], &rows);
    let objectives = r["scenario"]["objectives"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ostates = r["state"]["objectives"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rows: Vec<Vec<String>> = objectives
        .iter()
        .zip(ostates.iter())
        .map(|(o, st)| {
            let state = if !st["met"].is_null() {
                "met".to_string()
            } else if !st["since"].is_null() {
                "holding".to_string()
            } else {
                "not yet".to_string()
            };
            vec![s(&o["id"]), s(&o["title"]), state, s(&st["value"])]
        })
        .collect();
    output::table(&["OBJECTIVE", "WHAT", "STATE", "VALUE"], &rows);
    let wrong = r["state"]["wrong"].as_array().cloned().unwrap_or_default();
    for w in wrong {
        println!(
            "wrong: {} {} by {} (−{}): {}",
            s(&w["kind"]),
            s(&w["subject"]),
            s(&w["source"]),
            w["cost"],
            s(&w["why"])
        );
    }
    println!(
        "hints taken: {} (−{} points)",
        r["state"]["hints_taken"], r["state"]["hints_cost"]
    );
}
