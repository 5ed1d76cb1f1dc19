//! `firedrill silence add|list|expire` and `firedrill notifications`.

use anyhow::{Result, bail};
use serde_json::{Value, json};

use crate::cli::{Cli, SilenceCmd};
use crate::client::LabClient;
use crate::output;

pub async fn run(cli: &Cli, cmd: &SilenceCmd) -> Result<()> {
    let client = LabClient::new(cli);
    match cmd {
        SilenceCmd::Add {
            matchers,
            duration,
            comment,
            author,
        } => {
            let matchers =
                alerting::route::silence::api_matchers(matchers).map_err(anyhow::Error::msg)?;
            let now = chrono::Utc::now();
            let body = json!({
                "matchers": matchers,
                "startsAt": now,
                "endsAt": now + chrono::Duration::from_std(*duration)?,
                "createdBy": author.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "firedrill".into()),
                "comment": comment,
            });
            let v = client.post("/api/v2/silences", body).await?;
            let id = v["silenceID"].as_str().unwrap_or("").to_string();
            output::emit(cli.output, &v, || {
                println!(
                    "silence {id} active until {}",
                    (now + chrono::Duration::from_std(*duration).unwrap_or_default()).to_rfc3339()
                )
            });
        }
        SilenceCmd::List => {
            let v = client.get("/api/v2/silences").await?;
            let list = v.as_array().cloned().unwrap_or_default();
            output::emit(cli.output, &v, || {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|s| {
                        let m: Vec<String> = s["matchers"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|m| {
                                let op = match (m["isRegex"].as_bool(), m["isEqual"].as_bool()) {
                                    (Some(true), Some(false)) => "!~",
                                    (Some(true), _) => "=~",
                                    (_, Some(false)) => "!=",
                                    _ => "=",
                                };
                                format!(
                                    "{}{op}{}",
                                    m["name"].as_str().unwrap_or(""),
                                    m["value"].as_str().unwrap_or("")
                                )
                            })
                            .collect();
                        vec![
                            s["id"].as_str().unwrap_or("").into(),
                            s["status"]["state"].as_str().unwrap_or("").into(),
                            m.join(" "),
                            s["endsAt"].as_str().unwrap_or("").into(),
                            s["createdBy"].as_str().unwrap_or("").into(),
                            s["comment"].as_str().unwrap_or("").into(),
                        ]
                    })
                    .collect();
                output::table(&["ID", "STATE", "MATCHERS", "ENDS", "BY", "COMMENT"], &rows);
            });
        }
        SilenceCmd::Expire { id } => {
            client.delete(&format!("/api/v2/silence/{id}")).await?;
            output::emit(cli.output, &json!({"expired": id}), || {
                println!("silence {id} expired")
            });
        }
    }
    Ok(())
}

/// A page of the notification log: the newest `limit` deliveries (below
/// `before`), oldest first.
pub async fn notifications(cli: &Cli, limit: i64, before: Option<i64>) -> Result<()> {
    let mut query = vec![("limit", limit.to_string())];
    if let Some(b) = before {
        query.push(("before", b.to_string()));
    }
    let data = LabClient::new(cli)
        .get_query("/api/lab/notifications", &query)
        .await?;
    let list = data.as_array().cloned().unwrap_or_default();
    if list.len() as i64 == limit
        && let Some(first) = list.first().and_then(|d| d["id"].as_i64())
    {
        eprintln!("older deliveries: firedrill notifications --before {first}");
    }
    output::emit(cli.output, &Value::Array(list.clone()), || {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|d| {
                vec![
                    d["id"].to_string(),
                    d["created"].as_str().unwrap_or("").into(),
                    d["receiver"].as_str().unwrap_or("").into(),
                    d["integration"].as_str().unwrap_or("").into(),
                    d["body"]["status"].as_str().unwrap_or("").into(),
                    d["state"].as_str().unwrap_or("").into(),
                    d["attempts"].to_string(),
                    d["last_error"].as_str().unwrap_or("").into(),
                ]
            })
            .collect();
        output::table(
            &[
                "ID", "TIME", "RECEIVER", "VIA", "STATUS", "DELIVERY", "ATTEMPTS", "ERROR",
            ],
            &rows,
        );
    });
    if list.iter().any(|d| d["state"] == "failed") {
        bail!("some notifications failed (see ERROR)");
    }
    Ok(())
}
