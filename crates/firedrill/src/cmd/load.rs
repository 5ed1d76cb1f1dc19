//! `firedrill load show|set`.

use anyhow::{Result, bail};
use serde_json::{Value, json};

use crate::cli::{Cli, LoadCmd};
use crate::client::LabClient;
use crate::output;

fn print(v: &Value) {
    let pattern = if v["pattern"].is_null() {
        "flat".to_string()
    } else {
        format!(
            "daily (day of {:.0}s, trough {:.0}%)",
            v["pattern"]["period"].as_f64().unwrap_or(0.0),
            v["pattern"]["trough"].as_f64().unwrap_or(0.0) * 100.0
        )
    };
    println!(
        "target {:.1} journeys/s (now {:.1}), pattern {pattern}, {} in flight",
        v["rps"].as_f64().unwrap_or(0.0),
        v["effective_rps"].as_f64().unwrap_or(0.0),
        v["in_flight"]
    );
}

pub async fn run(cli: &Cli, cmd: &LoadCmd) -> Result<()> {
    let client = LabClient::new(cli);
    let v = match cmd {
        LoadCmd::Show => client.get("/api/lab/load").await?,
        LoadCmd::Set {
            rps,
            daily,
            flat,
            day_length,
        } => {
            if rps.is_none() && !daily && !flat {
                bail!("nothing to set: give --rps N, --daily or --flat");
            }
            let pattern = if *daily {
                Some("daily")
            } else if *flat {
                Some("flat")
            } else {
                None
            };
            client
                .post(
                    "/api/lab/load",
                    json!({"rps": rps, "pattern": pattern, "day_seconds": day_length.map(|d| d.as_secs_f64())}),
                )
                .await?
        }
    };
    output::emit(cli.output, &v, || print(&v));
    Ok(())
}
