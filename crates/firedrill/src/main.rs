//! firedrill: the binary. CLI parsing and wiring; the work is in the crates.

mod chart;
mod cli;
mod client;
mod cmd;
mod datadir;
mod drills;
mod monitoring;
mod oncall;
mod output;
mod progress;
mod routes;
mod wheel;

use clap::Parser;
use cli::{Cli, Command};

fn init_tracing(command: &Command) {
    use tracing_subscriber::EnvFilter;
    let default = match command {
        Command::Instance(_) => "warn",
        Command::Up(_) => "warn",
        _ => "warn",
    };
    let filter =
        EnvFilter::try_from_env("FIREDRILL_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(output::color())
        .try_init();
}

async fn dispatch(cli: &Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Up(args) => cmd::up::run(cli, args).await,
        Command::Down => cmd::ops::down(cli).await,
        Command::Status => cmd::status::run(cli).await,
        Command::Restart { target } => cmd::ops::restart(cli, target).await,
        Command::Scale { service, instances } => cmd::ops::scale(cli, service, *instances).await,
        Command::Drain { target, undo } => cmd::ops::drain(cli, target, *undo).await,
        Command::Config(c) => cmd::ops::config(cli, c).await,
        Command::Deploy { service, version } => cmd::ops::deploy(cli, service, version).await,
        Command::Rollback { service } => cmd::ops::rollback(cli, service).await,
        Command::Load(c) => cmd::load::run(cli, c).await,
        Command::Topology(c) => cmd::topology::run(cli, c).await,
        Command::Token(c) => cmd::token::run(cli, c).await,
        Command::Routes => {
            for r in routes::all() {
                println!("{} {} {:?}", r.method, r.path, r.access);
            }
            Ok(())
        }
        Command::Events {
            kind,
            subject,
            since,
            follow,
            limit,
            reveal,
        } => {
            let f = cmd::events::Selection {
                kind: kind.clone(),
                subject: subject.clone(),
                since: *since,
                hide: !*reveal && cmd::drill::running(cli).await,
            };
            cmd::events::run(cli, &f, *follow, *limit).await
        }
        Command::Trace { id } => cmd::trace::run(cli, id).await,
        Command::Query(args) => cmd::query::run(cli, args).await,
        Command::Targets => cmd::query::targets(cli).await,
        Command::Rules(c) => cmd::slo::rules(cli, c).await,
        Command::Slo(c) => cmd::slo::run(cli, c).await,
        Command::Alerts => cmd::slo::alerts(cli).await,
        Command::Alertmanager(c) => cmd::alertmanager::run(cli, c).await,
        Command::Silence(c) => cmd::silence::run(cli, c).await,
        Command::Oncall(c) => cmd::oncall::run(cli, c).await,
        Command::Pager { person, duration } => {
            cmd::pager::run(cli, person.as_deref(), *duration).await
        }
        Command::Page(c) => cmd::page::run(cli, c).await,
        Command::Ticket(c) => cmd::page::ticket(cli, c).await,
        Command::Fault(c) => cmd::fault::run(cli, c).await,
        Command::Drill(c) => cmd::drill::run(cli, c).await,
        Command::Wheel(c) => cmd::wheel::run(cli, c).await,
        Command::Chaos(c) => cmd::chaos::run(cli, c).await,
        Command::Experiment(c) => cmd::chaos::experiment(cli, c).await,
        Command::Notifications { limit, before } => {
            cmd::silence::notifications(cli, *limit, *before).await
        }
        Command::Promql(c) => cmd::promql::run(cli, c).await,
        Command::Tsdb(c) => cmd::tsdb::run(cli, c).await,
        Command::Instance(args) => cmd::instance::run(cli, args).await,
    }
}

/// Commands that only print end quietly when their reader goes away
/// (`firedrill events | head`), as other Unix tools do, instead of
/// panicking on a broken pipe. The lab's servers keep SIGPIPE ignored.
fn quiet_on_broken_pipe(command: &Command) {
    if matches!(command, Command::Up(_) | Command::Instance(_)) {
        return;
    }
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: set once at start, before any thread exists.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}

/// Parses the command line; clap's "invalid UTF-8 was detected" is told
/// with the argument it is about.
fn parse_args() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidUtf8 => {
            let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
            let at = args.iter().position(|a| a.to_str().is_none());
            let what = match at {
                Some(i) => {
                    let arg = args[i].to_string_lossy().to_string();
                    match args.get(i.wrapping_sub(1)).and_then(|p| p.to_str()) {
                        Some(flag) if i > 1 && flag.starts_with('-') => {
                            format!("the value of {flag} ({arg:?}) is not valid UTF-8")
                        }
                        _ => match arg.split_once('=') {
                            Some((flag, _)) if arg.starts_with('-') => {
                                format!("the value of {flag} ({arg:?}) is not valid UTF-8")
                            }
                            _ => format!("argument {i} ({arg:?}) is not valid UTF-8"),
                        },
                    }
                }
                None => "an argument is not valid UTF-8".to_string(),
            };
            eprintln!("error: {what}\n\nFor more information, try '--help'.");
            std::process::exit(2);
        }
        Err(e) => e.exit(),
    }
}

fn main() -> std::process::ExitCode {
    let cli = parse_args();
    quiet_on_broken_pipe(&cli.command);
    init_tracing(&cli.command);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(&cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{} {e:#}", output::paint("error:", "31;1"));
            std::process::ExitCode::FAILURE
        }
    }
}
