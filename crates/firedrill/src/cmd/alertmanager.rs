//! `firedrill alertmanager`: check Alertmanager config files and test
//! routing offline, as `amtool check-config` and `amtool config routes
//! test` do.

use std::collections::BTreeMap;
use std::path::PathBuf;

use alerting::route::config::{GroupBy, Route};
use alerting::route::matcher::{Matcher, Op};
use anyhow::{Result, bail};
use serde_json::json;

use crate::cli::{AlertmanagerCmd, Cli, RoutesCmd};
use crate::output;

pub async fn run(cli: &Cli, cmd: &AlertmanagerCmd) -> Result<()> {
    match cmd {
        AlertmanagerCmd::Check { files } => check(cli, files),
        AlertmanagerCmd::Routes(RoutesCmd::Test {
            file,
            labels,
            verify_receivers,
            tree,
        }) => routes_test(cli, file, labels, verify_receivers.as_deref(), *tree),
    }
}

fn check(cli: &Cli, files: &[PathBuf]) -> Result<()> {
    let mut failed = 0;
    let mut results = Vec::new();
    for f in files {
        let name = f.display().to_string();
        match alerting::route::load_config(f) {
            Ok(c) => results.push(json!({
                "file": name,
                "ok": true,
                "receivers": c.receivers.len(),
                "inhibit_rules": c.inhibit.len(),
                "time_intervals": c.time_intervals.len(),
                "templates": c.template_files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "notes": c.notes.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            })),
            Err(e) => {
                failed += 1;
                results.push(json!({
                    "file": name,
                    "ok": false,
                    "problems": e.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                }));
            }
        }
    }
    output::emit(cli.output, &json!(results), || {
        for r in &results {
            let file = r["file"].as_str().unwrap_or("");
            if r["ok"] == true {
                println!("Checking '{file}'  SUCCESS");
                println!("Found:");
                println!(" - global config");
                println!(" - route");
                println!(" - {} inhibit rules", r["inhibit_rules"]);
                println!(" - {} receivers", r["receivers"]);
                println!(" - {} time intervals", r["time_intervals"]);
                let t = r["templates"].as_array().cloned().unwrap_or_default();
                println!(" - {} templates", t.len());
                for p in &t {
                    println!("  SUCCESS {}", p.as_str().unwrap_or(""));
                }
                for n in r["notes"].as_array().into_iter().flatten() {
                    println!("  note: {}", n.as_str().unwrap_or(""));
                }
            } else {
                println!("Checking '{file}'  FAILED:");
                for p in r["problems"].as_array().into_iter().flatten() {
                    println!("  {}", p.as_str().unwrap_or(""));
                }
            }
            println!();
        }
    });
    if failed > 0 {
        bail!("{failed} of {} file(s) have problems", files.len());
    }
    Ok(())
}

/// `name=value` arguments, parsed as amtool parses them (matcher syntax,
/// equality only).
fn label_set(args: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for a in args {
        let m = Matcher::parse(a).map_err(|e| anyhow::anyhow!("failed to parse labels: {e}"))?;
        if m.op != Op::Eq {
            bail!("labels must be specified as key=value pairs (got {a:?})");
        }
        out.insert(m.name, m.value);
    }
    Ok(out)
}

fn tree_lines(r: &Route, labels: &BTreeMap<String, String>, depth: usize, out: &mut Vec<String>) {
    if !r.matchers.iter().all(|m| m.matches(labels)) {
        return;
    }
    let group_by = match &r.group_by {
        GroupBy::All => "...".to_string(),
        GroupBy::Labels(l) => l.join(","),
    };
    out.push(format!(
        "{}{}  receiver: {}  group_by: [{group_by}]",
        "  ".repeat(depth),
        alerting::route::matcher::list_string(&r.matchers),
        r.receiver
    ));
    for c in &r.routes {
        let before = out.len();
        tree_lines(c, labels, depth + 1, out);
        if out.len() > before && !c.cont {
            break;
        }
    }
}

fn routes_test(
    cli: &Cli,
    file: &std::path::Path,
    args: &[String],
    verify: Option<&str>,
    tree: bool,
) -> Result<()> {
    let config = alerting::route::load_config(file).map_err(|e| anyhow::anyhow!("{e}"))?;
    let labels = label_set(args)?;
    let mut routes = Vec::new();
    config.route.matching(&labels, &mut routes);
    let receivers: Vec<&str> = routes.iter().map(|r| r.receiver.as_str()).collect();
    let slug = receivers.join(",");
    let v = json!({
        "labels": labels,
        "receivers": receivers,
        "routes": routes.iter().map(|r| r.key.clone()).collect::<Vec<_>>(),
    });
    output::emit(cli.output, &v, || {
        if tree {
            let mut lines = Vec::new();
            tree_lines(&config.route, &labels, 0, &mut lines);
            println!("Matching routes:");
            for l in lines {
                println!("{l}");
            }
            println!();
        }
        println!("{slug}");
    });
    if let Some(want) = verify
        && want != slug
    {
        bail!("expected receivers {want:?}, the labels route to {slug:?}");
    }
    Ok(())
}
