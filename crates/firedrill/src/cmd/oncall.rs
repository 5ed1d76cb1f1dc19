//! `firedrill oncall who|schedule|export|check|report`: from the running
//! lab, or from an on-call file with `--config` (no lab needed).

use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::cli::{Cli, OncallCmd, ReportKind, TimeRange};
use crate::client::LabClient;
use crate::output;

fn local_config(path: &Path) -> Result<oncall::Config> {
    Ok(oncall::config::load(path)?)
}

fn range(
    r: &TimeRange,
    default_from: DateTime<Utc>,
    default_len: Duration,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let from = r.from.unwrap_or(default_from);
    let to = r.to.unwrap_or(from + default_len);
    if to <= from {
        anyhow::bail!("--to must be after --from");
    }
    if to - from > oncall::schedule::MAX_RANGE {
        anyhow::bail!(
            "a range spans at most {} days",
            oncall::schedule::MAX_RANGE.num_days()
        );
    }
    Ok((from, to))
}

fn q(pairs: &[(&'static str, Option<String>)]) -> Vec<(&'static str, String)> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| (*k, v)))
        .collect()
}

/// `2026-11-25 09:00 UTC` in the schedule's zone: `Wed 25 Nov 10:00`.
fn local(t: &Value, tz: &str) -> String {
    let Some(t) = t
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
    else {
        return "-".into();
    };
    match tz.parse::<oncall::chrono_tz::Tz>() {
        Ok(tz) => t.with_timezone(&tz).format("%a %d %b %H:%M").to_string(),
        Err(_) => t
            .with_timezone(&Utc)
            .format("%a %d %b %H:%M UTC")
            .to_string(),
    }
}

fn shift_rows(shifts: &[Value], tz_of: impl Fn(&str) -> String) -> Vec<Vec<String>> {
    shifts
        .iter()
        .map(|s| {
            let tz = tz_of(s["schedule"].as_str().unwrap_or(""));
            vec![
                s["schedule"].as_str().unwrap_or("").into(),
                s["role"].as_str().unwrap_or("").into(),
                s["person"].as_str().unwrap_or("").into(),
                local(&s["start"], &tz),
                local(&s["end"], &tz),
                s["source"].as_str().unwrap_or("").into(),
            ]
        })
        .collect()
}

pub async fn run(cli: &Cli, cmd: &OncallCmd) -> Result<()> {
    let client = LabClient::new(cli);
    match cmd {
        OncallCmd::Check { file } => {
            let c = local_config(file)?;
            let v = json!({"file": file, "people": c.people.len(), "schedules": c.schedules.len(), "escalation_policies": c.policies.len()});
            output::emit(cli.output, &v, || {
                println!(
                    "{}: ok ({} people, {} schedules, {} escalation policies)",
                    file.display(),
                    c.people.len(),
                    c.schedules.len(),
                    c.policies.len()
                )
            });
        }
        OncallCmd::Who { at, config } => {
            let v = match config {
                Some(f) => {
                    let at = at.unwrap_or_else(Utc::now);
                    json!({"at": at, "on_call": oncall::roster::who(&local_config(f)?, at, None)})
                }
                None => {
                    client
                        .get_query("/api/oncall/who", &q(&[("at", at.map(|t| t.to_rfc3339()))]))
                        .await?
                }
            };
            output::emit(cli.output, &v, || {
                let rows: Vec<Vec<String>> = v["on_call"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| {
                        let tz = r["time_zone"].as_str().unwrap_or("UTC");
                        let shadows: Vec<&str> = r["shadows"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .collect();
                        vec![
                            r["schedule"].as_str().unwrap_or("").into(),
                            r["role"].as_str().unwrap_or("").into(),
                            r["now"]["person"].as_str().unwrap_or("(nobody)").into(),
                            if r["now"].is_null() {
                                "-".into()
                            } else {
                                local(&r["now"]["end"], tz)
                            },
                            shadows.join(", "),
                            r["next"]["person"].as_str().unwrap_or("-").into(),
                            if r["next"].is_null() {
                                "-".into()
                            } else {
                                local(&r["next"]["start"], tz)
                            },
                        ]
                    })
                    .collect();
                output::table(
                    &[
                        "SCHEDULE", "ROLE", "ON CALL", "UNTIL", "SHADOW", "NEXT", "FROM",
                    ],
                    &rows,
                );
            });
        }
        OncallCmd::Schedule {
            range: r,
            person,
            config,
        } => {
            let (from, to) = range(r, Utc::now(), Duration::days(7))?;
            let (shifts, zones) = match config {
                Some(f) => {
                    let c = local_config(f)?;
                    let zones: Vec<(String, String)> = c
                        .schedules
                        .iter()
                        .map(|s| (s.name.clone(), s.tz.name().to_string()))
                        .collect();
                    (
                        serde_json::to_value(oncall::roster::shifts(
                            &c,
                            from,
                            to,
                            person.as_deref(),
                        ))?,
                        zones,
                    )
                }
                None => {
                    let v = client
                        .get_query(
                            "/api/oncall/schedule",
                            &q(&[
                                ("from", Some(from.to_rfc3339())),
                                ("to", Some(to.to_rfc3339())),
                                ("person", person.clone()),
                            ]),
                        )
                        .await?;
                    let who = client.get("/api/oncall/who").await?;
                    let zones = who["on_call"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|r| {
                            (
                                r["schedule"].as_str().unwrap_or("").to_string(),
                                r["time_zone"].as_str().unwrap_or("UTC").to_string(),
                            )
                        })
                        .collect();
                    (v, zones)
                }
            };
            output::emit(cli.output, &shifts, || {
                let list = shifts.as_array().cloned().unwrap_or_default();
                let tz_of = |s: &str| {
                    zones
                        .iter()
                        .find(|(n, _)| n == s)
                        .map(|(_, z)| z.clone())
                        .unwrap_or_else(|| "UTC".into())
                };
                output::table(
                    &["SCHEDULE", "ROLE", "PERSON", "FROM", "TO", "SOURCE"],
                    &shift_rows(&list, tz_of),
                );
                println!("(times in each schedule's own time zone)");
            });
        }
        OncallCmd::Export {
            ics: _,
            range: r,
            person,
            config,
        } => {
            let (from, to) = range(r, Utc::now(), Duration::days(28))?;
            let text = match config {
                Some(f) => {
                    let c = local_config(f)?;
                    oncall::ics::export(
                        &c,
                        &oncall::roster::whole_shifts(&c, from, to, person.as_deref()),
                        Utc::now(),
                    )
                }
                None => {
                    client
                        .get_text(
                            "/api/oncall/calendar.ics",
                            &q(&[
                                ("from", Some(from.to_rfc3339())),
                                ("to", Some(to.to_rfc3339())),
                                ("person", person.clone()),
                            ]),
                        )
                        .await?
                }
            };
            print!("{text}");
        }
        OncallCmd::Report { kind, range: r } => {
            let now = Utc::now();
            let (path, default) = match kind {
                ReportKind::Handoff => ("/api/oncall/reports/handoff", Duration::hours(12)),
                ReportKind::Load => ("/api/oncall/reports/load", Duration::days(7)),
            };
            let from = r.from.unwrap_or(now - default);
            let to = r.to.unwrap_or(now);
            let v = client
                .get_query(
                    path,
                    &q(&[
                        ("from", Some(from.to_rfc3339())),
                        ("to", Some(to.to_rfc3339())),
                    ]),
                )
                .await?;
            output::emit(cli.output, &v, || match kind {
                ReportKind::Handoff => print_handoff(&v),
                ReportKind::Load => print_load(&v),
            });
        }
    }
    Ok(())
}

fn secs(v: &Value) -> String {
    v.as_f64()
        .map(|s| format!("{s:.0}s"))
        .unwrap_or_else(|| "-".into())
}

fn print_handoff(v: &Value) {
    println!(
        "Handoff {} → {}",
        v["from"].as_str().unwrap_or(""),
        v["to"].as_str().unwrap_or("")
    );
    println!(
        "  pages opened {}, acknowledged {}, resolved {}, escalations {}; time to acknowledge: mean {}, median {}",
        v["opened"],
        v["acknowledged"],
        v["resolved"],
        v["escalations"],
        secs(&v["mean_seconds_to_acknowledge"]),
        secs(&v["median_seconds_to_acknowledge"])
    );
    let pages = |list: &Value| -> Vec<Vec<String>> {
        list.as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                vec![
                    p["id"].to_string(),
                    p["status"].as_str().unwrap_or("").into(),
                    p["assignee"].as_str().unwrap_or("").into(),
                    p["acknowledged_by"].as_str().unwrap_or("-").into(),
                    p["title"].as_str().unwrap_or("").into(),
                ]
            })
            .collect()
    };
    println!("\nPages in the shift:");
    output::table(
        &["ID", "STATUS", "ASSIGNEE", "ACKED BY", "TITLE"],
        &pages(&v["pages"]),
    );
    println!("\nOpen items handed over:");
    output::table(
        &["ID", "STATUS", "ASSIGNEE", "ACKED BY", "TITLE"],
        &pages(&v["open_pages"]),
    );
    let tickets: Vec<Vec<String>> = v["open_tickets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            vec![
                format!("T{}", t["id"]),
                t["assignee"].as_str().unwrap_or("").into(),
                t["title"].as_str().unwrap_or("").into(),
            ]
        })
        .collect();
    if !tickets.is_empty() {
        output::table(&["TICKET", "ASSIGNEE", "TITLE"], &tickets);
    }
}

fn print_load(v: &Value) {
    let rows: Vec<Vec<String>> = v["people"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            vec![
                p["person"].as_str().unwrap_or("").into(),
                p["pages"].to_string(),
                p["off_hours_pages"].to_string(),
                p["shadow_pages"].to_string(),
                p["acknowledged"].to_string(),
                secs(&p["mean_seconds_to_acknowledge"]),
                format!("{:.1}", p["hours_on_call"].as_f64().unwrap_or(0.0)),
            ]
        })
        .collect();
    output::table(
        &[
            "PERSON",
            "PAGES",
            "OFF-HOURS",
            "AS SHADOW",
            "ACKED",
            "MTTA",
            "HOURS ON CALL",
        ],
        &rows,
    );
    let shifts: Vec<Vec<String>> = v["shifts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            vec![
                s["shift"]["person"].as_str().unwrap_or("").into(),
                s["shift"]["role"].as_str().unwrap_or("").into(),
                s["shift"]["start"].as_str().unwrap_or("").into(),
                s["shift"]["end"].as_str().unwrap_or("").into(),
                s["pages"].to_string(),
                s["off_hours_pages"].to_string(),
            ]
        })
        .collect();
    println!();
    output::table(
        &["PERSON", "ROLE", "SHIFT FROM", "TO", "PAGES", "OFF-HOURS"],
        &shifts,
    );
}
