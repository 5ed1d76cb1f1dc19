//! `firedrill wheel spin|answer|escalate|show|board|cards|templates`.

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::cli::{Cli, WheelCmd};
use crate::client::LabClient;
use crate::output;

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn secs(v: &Value) -> String {
    let t = v.as_f64().unwrap_or(0.0).max(0.0).round() as u64;
    format!("{}:{:02}", t / 60, t % 60)
}

/// The card as the player reads it.
fn print_card(c: &Value) {
    println!(
        "#{}  {}  {}",
        s(&c["id"]),
        output::paint(&s(&c["category"]).to_uppercase(), "1"),
        s(&c["question"])
    );
    println!(
        "    for {} · answer with a {} · {}",
        s(&c["player"]),
        s(&c["kind"]),
        s(&c["state"])
    );
    if c["state"] != "open" {
        let verdict = match (c["state"].as_str(), c["correct"].as_bool()) {
            (Some("escalated"), Some(true)) => "escalated to the right person",
            (Some("escalated"), _) => "escalated to the wrong person",
            (_, Some(true)) => "correct",
            _ => "wrong",
        };
        println!(
            "    {}: {} after {}",
            output::paint(verdict, if c["correct"] == true { "32" } else { "31" }),
            s(&c["given"]),
            secs(&c["seconds"])
        );
    }
    if let Some(t) = c.get("truth_text") {
        println!("    truth: {}", s(t));
        if let Some(o) = c.get("on_call").filter(|o| !o.is_null()) {
            println!("    on call at the spin: {}", s(o));
        }
        println!("    how:   {}", s(&c["how"]));
    }
}

/// Cards as a table (`wheel cards`, and a player's `drill history`).
pub fn print_cards(v: &Value) {
    let rows: Vec<Vec<String>> = v
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|c| {
            vec![
                s(&c["id"]),
                s(&c["player"]),
                c["spun"]
                    .as_str()
                    .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
                s(&c["category"]),
                s(&c["template"]),
                s(&c["state"]),
                match c["correct"].as_bool() {
                    Some(true) => "yes".into(),
                    Some(false) => "no".into(),
                    None => "-".into(),
                },
                secs(&c["seconds"]),
            ]
        })
        .collect();
    output::table(
        &[
            "CARD", "PLAYER", "SPUN", "CATEGORY", "TEMPLATE", "STATE", "GOOD", "TIME",
        ],
        &rows,
    );
}

pub async fn run(cli: &Cli, c: &WheelCmd) -> Result<()> {
    let client = LabClient::new(cli);
    match c {
        WheelCmd::Spin {
            player,
            seed,
            category,
            template,
            new_session,
        } => {
            let v = client
                .post(
                    "/api/wheel/spin",
                    json!({
                        "player": player,
                        "seed": seed,
                        "category": category,
                        "template": template,
                        "new_session": new_session,
                    }),
                )
                .await?;
            output::emit(cli.output, &v, || print_card(&v));
        }
        WheelCmd::Answer {
            value,
            player,
            card,
        } => {
            let v = client
                .post(
                    "/api/wheel/answer",
                    json!({"answer": value, "player": player, "card": card}),
                )
                .await?;
            output::emit(cli.output, &v, || print_card(&v));
        }
        WheelCmd::Escalate {
            person,
            player,
            card,
        } => {
            let v = client
                .post(
                    "/api/wheel/escalate",
                    json!({"person": person, "player": player, "card": card}),
                )
                .await?;
            output::emit(cli.output, &v, || print_card(&v));
        }
        WheelCmd::Show { card, player } => {
            let id = match card {
                Some(id) => *id,
                None => {
                    let mut q = vec![("limit", "1".to_string())];
                    if let Some(p) = player {
                        q.push(("player", p.clone()));
                    }
                    let cards = client.get_query("/api/wheel/cards", &q).await?;
                    cards
                        .as_array()
                        .and_then(|a| a.last())
                        .and_then(|c| c["id"].as_i64())
                        .context("no card yet: spin one with `firedrill wheel spin`")?
                }
            };
            let v = client.get(&format!("/api/wheel/cards/{id}")).await?;
            output::emit(cli.output, &v, || {
                print_card(&v);
                let cmds = v["commands"].as_array().cloned().unwrap_or_default();
                println!();
                if cmds.is_empty() {
                    println!("no commands recorded while the card was open");
                }
                let start = v["spun"]
                    .as_str()
                    .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok());
                for (i, e) in cmds.iter().enumerate() {
                    let at = e["time"]
                        .as_str()
                        .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
                        .zip(start)
                        .map(|(t, s0)| secs(&json!((t - s0).num_milliseconds() as f64 / 1000.0)))
                        .unwrap_or_default();
                    let what = match e.get("command").filter(|c| !c.is_null()) {
                        Some(c) => s(c),
                        None => {
                            let q = s(&e["query"]);
                            let q = if q.is_empty() { q } else { format!("?{q}") };
                            format!("{} {}{q}", s(&e["method"]), s(&e["path"]))
                        }
                    };
                    println!("{:>3}. +{at}  {what}", i + 1);
                }
            });
        }
        WheelCmd::Board { session } => {
            let q: Vec<(&str, String)> =
                session.iter().map(|s| ("session", s.to_string())).collect();
            let v = client.get_query("/api/wheel/board", &q).await?;
            output::emit(cli.output, &v, || {
                match v.get("session").filter(|x| !x.is_null()) {
                    Some(sess) => println!(
                        "session #{} (seed {}), started by {}",
                        s(&sess["id"]),
                        s(&sess["seed"]),
                        s(&sess["started_by"])
                    ),
                    None => println!("no session yet: spin a card with `firedrill wheel spin`"),
                }
                let rows: Vec<Vec<String>> = v["players"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|r| {
                        vec![
                            s(&r["player"]),
                            s(&r["cards"]),
                            s(&r["correct"]),
                            format!("{}/{}", s(&r["escalated_right"]), s(&r["escalated"])),
                            s(&r["good"]),
                            s(&r["open"]),
                            secs(&r["time_s"]),
                        ]
                    })
                    .collect();
                output::table(
                    &[
                        "PLAYER",
                        "CARDS",
                        "CORRECT",
                        "ESCALATED (RIGHT/ALL)",
                        "GOOD",
                        "OPEN",
                        "TIME",
                    ],
                    &rows,
                );
            });
        }
        WheelCmd::Cards { player, session } => {
            let mut q = Vec::new();
            if let Some(p) = player {
                q.push(("player", p.clone()));
            }
            if let Some(x) = session {
                q.push(("session", x.to_string()));
            }
            let v = client.get_query("/api/wheel/cards", &q).await?;
            output::emit(cli.output, &v, || print_cards(&v));
        }
        WheelCmd::Templates => {
            let v = client.get("/api/wheel/templates").await?;
            output::emit(cli.output, &v, || {
                let rows: Vec<Vec<String>> = v
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|t| vec![s(&t["id"]), s(&t["summary"])])
                    .collect();
                output::table(&["TEMPLATE", "QUESTION"], &rows);
            });
        }
    }
    Ok(())
}
