//! `firedrill rules check`, `firedrill slo generate|status`, `firedrill alerts`.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::cli::{Cli, RulesCmd, SloCmd};
use crate::client::LabClient;
use crate::output;

pub async fn rules(cli: &Cli, cmd: &RulesCmd) -> Result<()> {
    let RulesCmd::Check { files } = cmd;
    let mut failed = 0;
    let mut results = Vec::new();
    for f in files {
        match alerting::rules::load_rules(f) {
            Ok(groups) => {
                let n: usize = groups.iter().map(|g| g.rules.len()).sum();
                results.push(json!({"file": f.display().to_string(), "ok": true, "groups": groups.len(), "rules": n}));
            }
            Err(e) => {
                failed += 1;
                results.push(json!({"file": f.display().to_string(), "ok": false, "problems": e.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>()}));
            }
        }
    }
    output::emit(cli.output, &json!(results), || {
        for r in &results {
            if r["ok"] == true {
                println!(
                    "{}: SUCCESS: {} rules in {} groups",
                    r["file"].as_str().unwrap_or(""),
                    r["rules"],
                    r["groups"]
                );
            } else {
                println!("{}: FAILED:", r["file"].as_str().unwrap_or(""));
                for p in r["problems"].as_array().into_iter().flatten() {
                    println!("  {}", p.as_str().unwrap_or(""));
                }
            }
        }
    });
    if failed > 0 {
        bail!("{failed} of {} file(s) have problems", files.len());
    }
    Ok(())
}

fn read_spec(spec: &str) -> Result<(String, String)> {
    if let Some(text) = alerting::slo::bundled::bundled_spec(spec) {
        return Ok((text.to_string(), format!("bundled:{spec}")));
    }
    let text = std::fs::read_to_string(spec).with_context(|| {
        format!("reading {spec} (not a file, nor a bundled topology: shop, chatbot)")
    })?;
    Ok((text, spec.to_string()))
}

pub async fn run(cli: &Cli, cmd: &SloCmd) -> Result<()> {
    match cmd {
        SloCmd::Generate {
            spec,
            out,
            tests,
            default_slo_period,
            extra_labels,
        } => {
            let (text, name) = read_spec(spec)?;
            let opts = alerting::slo::Options {
                default_period: alerting::slo::Period::parse(default_slo_period)
                    .map_err(|e| anyhow::anyhow!("--default-slo-period: {e}"))?,
            };
            let mut extra = BTreeMap::new();
            for kv in extra_labels {
                let Some((k, v)) = kv.split_once('=') else {
                    bail!("--extra-labels {kv:?}: write KEY=VALUE");
                };
                alerting::slo::check_label_name(k)
                    .map_err(|e| anyhow::anyhow!("--extra-labels {kv:?}: {e}"))?;
                extra.insert(k.to_string(), v.to_string());
            }
            let mut slos = alerting::slo::parse_spec_with(&text, &name, &opts)?;
            for s in &mut slos {
                s.labels.extend(extra.clone());
            }
            let rules = alerting::slo::rule_file(&slos);
            match out {
                Some(p) => {
                    std::fs::write(p, &rules)
                        .with_context(|| format!("writing {}", p.display()))?;
                    eprintln!("wrote {} ({} SLOs)", p.display(), slos.len());
                }
                None => print!("{rules}"),
            }
            if let Some(t) = tests {
                let rule_path = match out {
                    // promtool resolves rule_files relative to the test file.
                    Some(p) => relative_to(p, t),
                    None => bail!("--tests needs --out: the tests name the rule file"),
                };
                let text = alerting::slo::tests_gen::test_file(&slos, &rule_path);
                std::fs::write(t, text).with_context(|| format!("writing {}", t.display()))?;
                eprintln!(
                    "wrote {} (run: promtool test rules {})",
                    t.display(),
                    t.display()
                );
            }
        }
        SloCmd::Status => status(cli).await?,
    }
    Ok(())
}

fn relative_to(target: &std::path::Path, from_file: &std::path::Path) -> String {
    let dir = from_file.parent().filter(|d| !d.as_os_str().is_empty());
    match dir {
        Some(d) => target
            .strip_prefix(d)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| {
                std::fs::canonicalize(target)
                    .unwrap_or(target.to_path_buf())
                    .display()
                    .to_string()
            }),
        None => target.display().to_string(),
    }
}

const WINDOWS: [&str; 6] = ["5m", "30m", "1h", "6h", "1d", "3d"];

async fn by_slo(client: &LabClient, expr: &str) -> Result<BTreeMap<String, f64>> {
    let v = client.query(expr).await?;
    Ok(v.iter()
        .filter_map(|s| {
            let name = s["metric"]["sloth_slo"].as_str()?.to_string();
            let val: f64 = s["value"][1].as_str()?.parse().ok()?;
            Some((name, val))
        })
        .collect())
}

async fn status(cli: &Cli) -> Result<()> {
    let client = LabClient::new(cli);
    let objective = by_slo(&client, "slo:objective:ratio").await?;
    if objective.is_empty() {
        bail!("the lab has no SLOs (its topology ships none and no --rules were given)");
    }
    let budget = by_slo(&client, "slo:error_budget:ratio").await?;
    let remaining = by_slo(&client, "slo:period_error_budget_remaining:ratio").await?;
    let mut rates: Vec<BTreeMap<String, f64>> = Vec::new();
    for w in WINDOWS {
        rates.push(by_slo(&client, &format!("slo:sli_error:ratio_rate{w}")).await?);
    }
    let alerts = client.get("/api/v1/alerts").await?;
    let mut rows = Vec::new();
    let mut out = Vec::new();
    for (slo, obj) in &objective {
        let b = budget.get(slo).copied().unwrap_or(f64::NAN);
        let sli = rates[0].get(slo).map(|e| 1.0 - e);
        let burns: Vec<Option<f64>> = rates.iter().map(|r| r.get(slo).map(|e| e / b)).collect();
        let firing: Vec<String> = alerts["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["labels"]["sloth_slo"] == slo.as_str())
            .map(|a| {
                format!(
                    "{} {} ({})",
                    a["labels"]["alertname"].as_str().unwrap_or(""),
                    a["labels"]["sloth_severity"].as_str().unwrap_or(""),
                    a["state"].as_str().unwrap_or("")
                )
            })
            .collect();
        let pct = |v: Option<f64>| {
            v.filter(|x| x.is_finite())
                .map(|x| format!("{:.3}%", x * 100.0))
                .unwrap_or_else(|| "-".into())
        };
        let burn = |v: &Option<f64>| {
            v.filter(|x| x.is_finite())
                .map(|x| format!("{x:.2}x"))
                .unwrap_or_else(|| "-".into())
        };
        let mut row = vec![
            slo.clone(),
            format!("{}%", obj * 100.0),
            pct(sli),
            pct(remaining.get(slo).copied()),
        ];
        row.extend(burns.iter().map(burn));
        row.push(if firing.is_empty() {
            "-".into()
        } else {
            firing.join(", ")
        });
        rows.push(row);
        out.push(json!({
            "slo": slo,
            "objective": obj,
            "sli": sli,
            "error_budget_remaining": remaining.get(slo),
            "burn_rates": WINDOWS.iter().zip(&burns).map(|(w, b)| (w.to_string(), json!(b))).collect::<BTreeMap<_, _>>(),
            "alerts": firing,
        }));
    }
    output::emit(cli.output, &Value::Array(out), || {
        output::table(
            &[
                "SLO",
                "OBJECTIVE",
                "SLI (5m)",
                "BUDGET LEFT",
                "BURN 5m",
                "30m",
                "1h",
                "6h",
                "1d",
                "3d",
                "ALERTS",
            ],
            &rows,
        )
    });
    Ok(())
}

pub async fn alerts(cli: &Cli) -> Result<()> {
    let data = LabClient::new(cli).get("/api/v1/alerts").await?;
    let list = data["alerts"].as_array().cloned().unwrap_or_default();
    output::emit(cli.output, &Value::Array(list.clone()), || {
        if list.is_empty() {
            println!("no pending or firing alerts");
            return;
        }
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|a| {
                let labels: Vec<String> = a["labels"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| k.as_str() != "alertname")
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                    .collect();
                vec![
                    a["labels"]["alertname"].as_str().unwrap_or("").to_string(),
                    a["state"].as_str().unwrap_or("").to_string(),
                    a["activeAt"].as_str().unwrap_or("").to_string(),
                    labels.join(" "),
                ]
            })
            .collect();
        output::table(&["ALERT", "STATE", "ACTIVE SINCE", "LABELS"], &rows);
    });
    Ok(())
}
