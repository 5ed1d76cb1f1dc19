//! `firedrill chaos critical-path` and `firedrill experiment run|validate|list|show`.

use anyhow::Result;

use crate::cli::{ChaosCmd, Cli, ExperimentCmd, Output};
use crate::client::LabClient;
use crate::output;

pub async fn run(cli: &Cli, cmd: &ChaosCmd) -> Result<()> {
    let client = LabClient::new(cli);
    let cp = client.control_plane()?;
    match cmd {
        ChaosCmd::CriticalPath {
            services,
            window,
            settle,
            recover,
            max_time,
        } => {
            let opts = chaos::critical::Options {
                settle: *settle,
                window: *window,
                recover: *recover,
                max_time: *max_time,
                services: services.clone(),
            };
            let bar = progress_bar();
            let m = chaos::critical::run(&cp, &opts, |done, total, what| {
                let msg = if what == "baseline" || what == "done" {
                    what.to_string()
                } else {
                    format!("{what} down")
                };
                if bar.is_hidden() {
                    // Not a terminal: one line per step on stderr.
                    eprintln!("[{done}/{total}] {msg}");
                }
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                bar.set_message(msg);
            })
            .await;
            bar.finish_and_clear();
            let m = m?;
            match cli.output {
                Output::Json => output::json(&serde_json::to_value(&m)?),
                Output::Text => {
                    print!("{}", chaos::critical::render(&m));
                    println!(
                        "({:.0}s, {:.0}s per service window)",
                        m.seconds, m.window_seconds
                    );
                }
            }
            if m.mismatches().next().is_some() {
                // Scripts can tell a clean matrix from one with findings.
                std::process::exit(3);
            }
        }
    }
    Ok(())
}

fn progress_bar() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(1)
    } else {
        indicatif::ProgressBar::hidden()
    };
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({elapsed})")
    {
        bar.set_style(style);
    }
    bar
}

/// The SLOs `up` loads for a topology (its bundled SLO spec), by name: what
/// an experiment's `slo_burn` may name. None for a topology without one.
fn bundled_slo_names(topology: &str) -> Option<Vec<String>> {
    let spec = alerting::slo::bundled::bundled_spec(topology)?;
    let slos = alerting::slo::parse_spec(spec, &format!("bundled:{topology}")).ok()?;
    Some(slos.into_iter().map(|s| s.name).collect())
}

pub async fn experiment(cli: &Cli, cmd: &ExperimentCmd) -> Result<()> {
    match cmd {
        ExperimentCmd::List => {
            let rows: Vec<Vec<String>> = chaos::experiment::BUNDLED
                .iter()
                .filter_map(|(n, _)| chaos::experiment::resolve(n).ok().map(|x| (n, x)))
                .map(|(n, x)| vec![n.to_string(), x.topology, x.title])
                .collect();
            let v = serde_json::to_value(&rows)?;
            output::emit(cli.output, &v, || {
                output::table(&["NAME", "LAB", "TITLE"], &rows)
            });
        }
        ExperimentCmd::Show { name } => {
            let Some((_, text)) = chaos::experiment::BUNDLED.iter().find(|(n, _)| n == name) else {
                anyhow::bail!("no bundled experiment {name:?}: see `firedrill experiment list`");
            };
            print!("{text}");
        }
        ExperimentCmd::Validate { experiment } => {
            let x = chaos::experiment::resolve_with(experiment, &bundled_slo_names)?;
            let v = serde_json::to_value(&x)?;
            output::emit(cli.output, &v, || {
                println!(
                    "{experiment}: ok ({} probes, {} faults over {:.0}s, {} halt conditions) for the {} lab",
                    x.steady_state.len(),
                    x.method.len(),
                    x.method_duration().as_secs_f64(),
                    x.halt.len(),
                    x.topology
                )
            });
        }
        ExperimentCmd::Run { experiment } => {
            let x = chaos::experiment::resolve_with(experiment, &bundled_slo_names)?;
            let cp = LabClient::new(cli).control_plane()?;
            let spinner = crate::progress::Spinner::new(&format!("{}: starting", x.title));
            // Ctrl-C, a closed terminal or a kill: roll back before leaving.
            let stop = async {
                use tokio::signal::unix::{SignalKind, signal};
                let mut term = signal(SignalKind::terminate()).ok();
                let mut hup = signal(SignalKind::hangup()).ok();
                let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                    match s {
                        Some(mut s) => {
                            s.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = wait(term.take()) => {}
                    _ = wait(hup.take()) => {}
                }
            };
            let report = chaos::experiment::run(&cp, &x, stop, |what| spinner.set(what)).await;
            spinner.done("experiment finished");
            let report = report?;
            match cli.output {
                Output::Json => output::json(&serde_json::to_value(&report)?),
                Output::Text => print!("{}", chaos::experiment::render(&report)),
            }
            let code = match report.verdict {
                chaos::experiment::Verdict::Held => 0,
                chaos::experiment::Verdict::Deviated => 3,
                chaos::experiment::Verdict::Halted => 4,
                chaos::experiment::Verdict::NotRun => 5,
            };
            if code != 0 {
                std::process::exit(code);
            }
        }
    }
    Ok(())
}
