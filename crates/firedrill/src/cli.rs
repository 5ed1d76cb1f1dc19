//! The command line: every command, its flags and its `--help` example.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "firedrill",
    version,
    about = "A training ground for Site Reliability Engineering: a real multi-service lab with the tools of the trade around it",
    after_help = "Example:\n  firedrill up                 # start the shop lab with traffic\n  firedrill status             # in another terminal: how is it doing?"
)]
pub struct Cli {
    /// Where the lab keeps its state (database, metrics, logs, token).
    #[arg(
        long,
        global = true,
        env = "FIREDRILL_DATA_DIR",
        default_value = "firedrill-data"
    )]
    pub data_dir: PathBuf,
    /// Control-plane URL for commands that talk to a running lab
    /// (default: the one recorded by `up` in the data dir, else http://127.0.0.1:9700).
    #[arg(long, global = true, env = "FIREDRILL_URL")]
    pub url: Option<String>,
    /// Token to send to the control plane (a trainee's or viewer's from
    /// `firedrill token create`; default: the data dir's own token).
    #[arg(long, global = true, env = "FIREDRILL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Output format of listing commands.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create a named token; its secret is printed once (stored hashed).
    #[command(
        after_help = "Example:\n  firedrill token create --role trainee --name alice\n  FIREDRILL_TOKEN=fd_trainee_… firedrill status   # as alice"
    )]
    Create {
        /// Who holds it (letters, digits, '-', '_', '.'); journaled as the source of their actions.
        #[arg(long)]
        name: String,
        /// instructor (everything), trainee (operate, ack, query; no hidden state) or viewer (read only).
        #[arg(long, value_parser = parse_role)]
        role: wire::Role,
    },
    /// List named tokens (never their secrets).
    #[command(
        after_help = "Example:\n  firedrill token list\n  firedrill token list --output json"
    )]
    List,
    /// Revoke a named token: it stops working at once.
    #[command(after_help = "Example:\n  firedrill token revoke alice")]
    Revoke { name: String },
}

fn parse_role(s: &str) -> Result<wire::Role, String> {
    s.parse()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a lab: services, traffic, metrics and the control plane.
    #[command(
        after_help = "Example:\n  firedrill up\n  firedrill up --topology chatbot --rps 50\n  firedrill up --topology ./my-lab.yaml --base-port 19710 --listen 127.0.0.1:19700"
    )]
    Up(UpArgs),
    /// Stop the running lab (all its processes).
    #[command(after_help = "Example:\n  firedrill down")]
    Down,
    /// Services with instances, health, version, requests/s, error %, p50/p99.
    #[command(after_help = "Example:\n  firedrill status\n  firedrill status --output json")]
    Status,
    /// Rolling restart of a service, or restart of one instance.
    #[command(
        after_help = "Example:\n  firedrill restart cart        # every instance, one at a time\n  firedrill restart cart/1      # only instance 1"
    )]
    Restart {
        /// SERVICE or SERVICE/N
        target: String,
    },
    /// Change the number of instances of a service.
    #[command(after_help = "Example:\n  firedrill scale frontend 4")]
    Scale { service: String, instances: u32 },
    /// Take an instance out of rotation (callers stop sending it traffic).
    #[command(after_help = "Example:\n  firedrill drain cart/0\n  firedrill drain cart/0 --undo")]
    Drain {
        /// SERVICE/N
        target: String,
        /// Put the instance back into rotation.
        #[arg(long)]
        undo: bool,
    },
    /// Read or change a service's runtime config (timeouts, retries, limits).
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Roll out another version of a service, one instance at a time.
    #[command(after_help = "Example:\n  firedrill deploy productcatalog v2")]
    Deploy { service: String, version: String },
    /// Roll a service back to the version it ran before the last deploy.
    #[command(after_help = "Example:\n  firedrill rollback productcatalog")]
    Rollback { service: String },
    /// Show or change the load generator.
    #[command(subcommand)]
    Load(LoadCmd),
    /// Named tokens with roles (instructor, trainee, viewer): create, list, revoke.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Validate, show and list topologies.
    #[command(subcommand)]
    Topology(TopologyCmd),
    /// The event journal: every operation and change of state, stored.
    #[command(
        after_help = "Example:\n  firedrill events\n  firedrill events --kind page. --follow\n  firedrill events --subject checkout --since 1h"
    )]
    Events {
        /// Only events whose kind starts with this (e.g. `instance.` or `page.`).
        #[arg(long)]
        kind: Option<String>,
        /// Only events about this subject (a service, a page id, a person).
        #[arg(long)]
        subject: Option<String>,
        /// Only events of the last DURATION (e.g. `30m`, `2h`).
        #[arg(long, value_parser = parse_duration)]
        since: Option<std::time::Duration>,
        /// Keep printing new events as they happen.
        #[arg(long)]
        follow: bool,
        /// Show at most this many past events.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// During a drill, also show its hidden events (faults): the answer.
        #[arg(long)]
        reveal: bool,
    },
    /// Fetch a trace by id from every instance and print its spans as a tree.
    #[command(after_help = "Example:\n  firedrill trace 4bf92f3577b34da6a3ce929d0e0e4736")]
    Trace { id: String },
    /// Evaluate PromQL against the lab: a table, or a chart with --range.
    #[command(
        after_help = "Example:\n  firedrill query 'sum by (job) (rate(http_server_request_duration_seconds_count[1m]))'\n  firedrill query --range 15m 'sum(rate(loadgen_journeys_total{outcome=\"failure\"}[1m]))'"
    )]
    Query(QueryArgs),
    /// Check Prometheus rule files (every mistake with file:line:column).
    #[command(subcommand)]
    Rules(RulesCmd),
    /// SLOs: compile specs to rules, and see their status in the running lab.
    #[command(subcommand)]
    Slo(SloCmd),
    /// Alertmanager config files: check them, test where labels are routed (offline, like amtool).
    #[command(subcommand)]
    Alertmanager(AlertmanagerCmd),
    /// Silence alerts: add, list, expire (Alertmanager API v2 on the control plane).
    #[command(subcommand)]
    Silence(SilenceCmd),
    /// On call: who is on call, the schedule, a calendar, reports; check a file.
    #[command(subcommand)]
    Oncall(OncallCmd),
    /// A live view of open pages; rings the terminal bell on each new one.
    #[command(after_help = "Example:\n  firedrill pager\n  firedrill pager --as erin")]
    Pager {
        /// Show only pages sent to this person (default: all open pages).
        #[arg(long = "as", env = "FIREDRILL_AS")]
        person: Option<String>,
        /// Stop after this long (default: until Ctrl-C).
        #[arg(long = "for", value_parser = parse_duration)]
        duration: Option<std::time::Duration>,
    },
    /// Pages: list, show, ack, resolve, snooze, reassign, note, open.
    #[command(subcommand)]
    Page(PageCmd),
    /// Tickets (non-urgent alerts): list, assign, close.
    #[command(subcommand)]
    Ticket(TicketCmd),
    /// Faults: inject one into the lab, list them, clear them.
    #[command(subcommand)]
    Fault(FaultCmd),
    /// Drills: scored incidents with a hidden fault; start, hint, end, debrief, history.
    #[command(subcommand)]
    Drill(DrillCmd),
    /// Wheel of Expertise: question cards about the live lab; answer by showing how.
    #[command(subcommand)]
    Wheel(WheelCmd),
    /// Chaos: critical-path analysis of the running lab.
    #[command(subcommand)]
    Chaos(ChaosCmd),
    /// Chaos experiments: hypothesis, steady state, faults, halt, verdict.
    #[command(subcommand)]
    Experiment(ExperimentCmd),
    /// Notifications sent to receivers, with their delivery state and errors.
    #[command(
        after_help = "Example:\n  firedrill notifications\n  firedrill notifications --limit 20 --before 345\n  firedrill notifications --output json"
    )]
    Notifications {
        /// Show the newest this many deliveries (1 to 1000).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=1000))]
        limit: i64,
        /// Only deliveries with an id below this one (the next page back).
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
        before: Option<i64>,
    },
    /// Pending and firing alerts of the running lab.
    #[command(after_help = "Example:\n  firedrill alerts\n  firedrill alerts --output json")]
    Alerts,
    /// Scrape targets and their health.
    #[command(after_help = "Example:\n  firedrill targets\n  firedrill targets --output json")]
    Targets,
    /// PromQL tools.
    #[command(subcommand)]
    Promql(PromqlCmd),
    /// Time-series store tools.
    #[command(subcommand)]
    Tsdb(TsdbCmd),
    /// Every route of the control plane with the access it declares (tests walk them).
    #[command(hide = true, name = "__routes")]
    Routes,
    /// Run one instance of a service (used by the supervisor).
    #[command(hide = true, name = "__instance")]
    Instance(InstanceArgs),
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// A bundled topology (`shop`, `chatbot`) or a topology YAML file.
    #[arg(long, short, default_value = "shop")]
    pub topology: String,
    /// Control-plane address (API, Prometheus-compatible /api/v1).
    #[arg(long, default_value = "127.0.0.1:9700")]
    pub listen: SocketAddr,
    /// First instance port; the entry service's first instance gets it.
    #[arg(long, default_value_t = 9710)]
    pub base_port: u16,
    /// Journeys per second from the load generator (0 to 100000).
    #[arg(long, default_value_t = 20.0, value_parser = parse_rps)]
    pub rps: f64,
    /// Traffic follows a daily pattern (quiet nights, busy afternoons).
    #[arg(long)]
    pub daily: bool,
    /// Length of one "day" for --daily, e.g. 1h to see a cycle in a lesson (at least 60s).
    #[arg(long, default_value = "24h", value_parser = parse_day_length)]
    pub day_length: std::time::Duration,
    /// Scrape interval (at least 1s).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub scrape_interval: std::time::Duration,
    /// How long metrics are kept (at least 1m).
    #[arg(long, default_value = "24h", value_parser = parse_retention)]
    pub retention: std::time::Duration,
    /// Rule evaluation interval (default: the scrape interval).
    #[arg(long, value_parser = parse_duration)]
    pub evaluation_interval: Option<std::time::Duration>,
    /// Extra Prometheus rule files to evaluate (the topology's SLO rules are always loaded).
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Alert routing in Alertmanager's format (route tree, receivers, inhibit rules).
    /// Default: pages and tickets to log-only receivers (see /api/lab/notifications).
    #[arg(long, value_name = "FILE")]
    pub alertmanager_config: Option<PathBuf>,
    /// Also forward every alert to this Alertmanager (e.g. http://127.0.0.1:9093).
    #[arg(long, value_name = "URL")]
    pub forward_alerts: Option<String>,
    /// The database of the event journal (default: SQLite in the data dir),
    /// e.g. postgres://user:pass@127.0.0.1/firedrill.
    #[arg(long, value_name = "URL", env = "FIREDRILL_DATABASE_URL")]
    pub database_url: Option<String>,
    /// On-call file: people, schedules, shadows, escalation (docs/oncall.md);
    /// default: the bundled example (a week-long rotation of four, one apprentice).
    #[arg(long, value_name = "FILE")]
    pub oncall: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The PromQL expression.
    pub expr: String,
    /// Evaluation time (unix seconds; default now). With --range: the end.
    #[arg(long, value_parser = parse_unix_time)]
    pub time: Option<f64>,
    /// Draw the last RANGE (e.g. 15m) as a chart instead of one value.
    #[arg(long, value_parser = parse_duration)]
    pub range: Option<std::time::Duration>,
    /// Resolution of --range (default: range / 120, at least 1s).
    #[arg(long, value_parser = parse_duration)]
    pub step: Option<std::time::Duration>,
}

#[derive(Debug, Subcommand)]
pub enum RulesCmd {
    /// Check rule files: syntax, PromQL, templates, durations.
    #[command(after_help = "Example:\n  firedrill rules check rules/*.yml")]
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SilenceCmd {
    /// Silence alerts matching all MATCHERS (name=value, name=~regex, name!=value).
    #[command(
        after_help = "Example:\n  firedrill silence add alertname=CheckoutAvailabilityBurn --for 1h --comment \"payment migration\""
    )]
    Add {
        #[arg(required = true)]
        matchers: Vec<String>,
        /// How long the silence lasts.
        #[arg(long = "for", default_value = "1h", value_parser = parse_duration)]
        duration: std::time::Duration,
        #[arg(long, default_value = "")]
        comment: String,
        /// Who silences (default: $USER).
        #[arg(long)]
        author: Option<String>,
    },
    /// List silences with their state.
    #[command(after_help = "Example:\n  firedrill silence list")]
    List,
    /// Expire a silence now.
    #[command(after_help = "Example:\n  firedrill silence expire 18b3c0f5d2a1e7f00001")]
    Expire { id: String },
}

#[derive(Debug, Subcommand)]
pub enum AlertmanagerCmd {
    /// Check Alertmanager config files (every mistake with file:line:column), like `amtool check-config`.
    #[command(after_help = "Example:\n  firedrill alertmanager check alertmanager.yml")]
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Routing tree commands.
    #[command(subcommand)]
    Routes(RoutesCmd),
}

#[derive(Debug, Subcommand)]
pub enum RoutesCmd {
    /// The receivers an alert with these labels goes to, in order, like `amtool config routes test`.
    #[command(
        after_help = "Example:\n  firedrill alertmanager routes test alertmanager.yml service=database severity=critical\n  firedrill alertmanager routes test alertmanager.yml --verify-receivers team-DB-pager service=database"
    )]
    Test {
        /// The Alertmanager config file.
        file: PathBuf,
        /// Labels as name=value.
        labels: Vec<String>,
        /// Fail unless the receivers are exactly these (comma-separated, in order).
        #[arg(long)]
        verify_receivers: Option<String>,
        /// Also print the matching part of the routing tree.
        #[arg(long)]
        tree: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SloCmd {
    /// Compile Sloth specs (prometheus/v1, Kubernetes PrometheusServiceLevel) or OpenSLO v1 SLOs into the Prometheus rules Sloth generates.
    #[command(
        after_help = "Example:\n  firedrill slo generate slos.yaml -o slo.rules.yml --tests slo.test.yml\n  promtool check rules slo.rules.yml && promtool test rules slo.test.yml\n  firedrill slo generate slos.yaml --default-slo-period 28d -l team=payments\n  firedrill slo generate shop          # the bundled shop's SLOs"
    )]
    Generate {
        /// A spec file (one or more `---`-separated documents), or the name of a bundled topology (shop, chatbot).
        spec: String,
        /// The period of SLOs whose spec gives none: 30d or 28d (Sloth's --default-slo-period).
        #[arg(long, default_value = "30d")]
        default_slo_period: String,
        /// A label added to every SLO's recordings, KEY=VALUE, repeatable (Sloth's --extra-labels).
        #[arg(long = "extra-labels", short = 'l', value_name = "KEY=VALUE")]
        extra_labels: Vec<String>,
        /// Write the rules here instead of standard output.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Also write `promtool test rules` unit tests for the alerts here.
        #[arg(long)]
        tests: Option<PathBuf>,
    },
    /// Each SLO of the running lab: SLI now, budget left, burn rates, firing alerts.
    #[command(
        after_help = "Example:\n  firedrill slo status\n  firedrill slo status --output json"
    )]
    Status,
}

#[derive(Debug, Subcommand)]
pub enum PromqlCmd {
    /// Run PromQL test scripts (Prometheus's promqltest format) against our engine.
    #[command(after_help = "Example:\n  firedrill promql test ../shared/conformance/promql/*.test")]
    Test {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also list skipped cases with their reason.
        #[arg(long, short)]
        verbose: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TsdbCmd {
    /// Backfill samples with timestamps from a text or OpenMetrics exposition file
    /// into the data dir's store (run while no lab uses that data dir).
    #[command(
        after_help = "Example:\n  firedrill tsdb import metrics.om --data-dir firedrill-data"
    )]
    Import { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Set runtime config keys on every instance of a service.
    #[command(
        after_help = "Keys: concurrency_limit, panic_threshold_percent, health_check_interval,\n      eject_after_failures, ejection_time, timeout, timeout.<service>,\n      retries, retries.<service>, draining\n\nExample:\n  firedrill config set frontend timeout.currency=200ms retries.currency=1"
    )]
    Set {
        service: String,
        /// key=value pairs
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// Show the runtime config of a service's first instance.
    #[command(after_help = "Example:\n  firedrill config get frontend")]
    Get { service: String },
}

#[derive(Debug, Subcommand)]
pub enum LoadCmd {
    /// Show the load generator's settings.
    #[command(after_help = "Example:\n  firedrill load show")]
    Show,
    /// Change the load generator's rate or pattern.
    #[command(
        after_help = "Example:\n  firedrill load set --rps 200\n  firedrill load set --daily --day-length 1h"
    )]
    Set {
        #[arg(long, value_parser = parse_rps)]
        rps: Option<f64>,
        /// Turn the daily pattern on.
        #[arg(long, conflicts_with = "flat")]
        daily: bool,
        /// Turn the daily pattern off.
        #[arg(long)]
        flat: bool,
        #[arg(long, value_parser = parse_day_length)]
        day_length: Option<std::time::Duration>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TopologyCmd {
    /// Check a topology file; every mistake is reported with file:line:column.
    #[command(after_help = "Example:\n  firedrill topology validate my-lab.yaml")]
    Validate { file: PathBuf },
    /// Print a topology's dependency tree, marking critical edges.
    #[command(
        after_help = "Example:\n  firedrill topology show\n  firedrill topology show chatbot --output json"
    )]
    Show {
        /// Bundled name or file (default: the running lab's, as your token may
        /// see it: versions without what they do unless you are an
        /// instructor; else `shop`).
        name: Option<String>,
    },
    /// List the bundled topologies.
    #[command(after_help = "Example:\n  firedrill topology list")]
    List,
}

#[derive(Debug, Args)]
pub struct InstanceArgs {
    #[arg(long)]
    pub lab: String,
    #[arg(long)]
    pub topology_json: PathBuf,
    #[arg(long)]
    pub service: String,
    #[arg(long)]
    pub index: u32,
    #[arg(long)]
    pub version: String,
    #[arg(long)]
    pub listen: SocketAddr,
    #[arg(long)]
    pub registry_url: String,
}

/// Duration flags: `250ms`, `1.5s`, `10m`, `1h30m`, `7d` — the grammar of
/// every file ([`diag::duration`], `docs/formats.md`).
pub use diag::duration::parse as parse_duration;

/// The load generator's rate: finite, 0 to 100000 (as the load API enforces).
fn parse_rps(s: &str) -> Result<f64, String> {
    let rps: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of journeys per second"))?;
    if !rps.is_finite() || !(0.0..=100_000.0).contains(&rps) {
        return Err(format!("{s} is out of range: the rate must be 0 to 100000"));
    }
    Ok(rps)
}

/// A duration in the files' grammar, kept as written (the lab's API reads it).
fn duration_text(s: &str) -> Result<String, String> {
    parse_duration(s).map_err(|e| e.to_string())?;
    Ok(s.to_string())
}

/// A percentage: finite, 0 to 100.
fn parse_percent(s: &str) -> Result<f64, String> {
    let p: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a percentage"))?;
    if !p.is_finite() || !(0.0..=100.0).contains(&p) {
        return Err(format!("{s} is out of range: a percentage is 0 to 100"));
    }
    Ok(p)
}

/// A share of a core: finite, 0.05 to 1 (as the fault API enforces).
fn parse_share(s: &str) -> Result<f64, String> {
    let p: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a share of a core"))?;
    if !p.is_finite() || !(0.05..=1.0).contains(&p) {
        return Err(format!(
            "{s} is out of range: a share of a core is 0.05 to 1"
        ));
    }
    Ok(p)
}

/// Unix seconds within the times the PromQL API takes (Prometheus's
/// bounds: about ±292 million years).
fn parse_unix_time(s: &str) -> Result<f64, String> {
    let t: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a time in unix seconds"))?;
    if !t.is_finite() || t.abs() > 9.2e15 {
        return Err(format!("{s} is out of range: a time in unix seconds"));
    }
    Ok(t)
}

/// A duration of at least `min` (shown as `shown` in the message).
fn duration_at_least(
    s: &str,
    min: std::time::Duration,
    shown: &str,
) -> Result<std::time::Duration, String> {
    let d = parse_duration(s).map_err(|e| e.to_string())?;
    if d < min {
        return Err(format!("{s} is too short: at least {shown}"));
    }
    Ok(d)
}

/// How long metrics are kept: at least a minute.
fn parse_retention(s: &str) -> Result<std::time::Duration, String> {
    duration_at_least(s, std::time::Duration::from_secs(60), "1m")
}

/// The daily pattern's day: at least 60s (as the load API enforces).
fn parse_day_length(s: &str) -> Result<std::time::Duration, String> {
    duration_at_least(s, std::time::Duration::from_secs(60), "60s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms").unwrap().as_millis(), 250);
        assert_eq!(parse_duration("1.5s").unwrap().as_millis(), 1500);
        assert_eq!(parse_duration("2m").unwrap().as_secs(), 120);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("1y").unwrap().as_secs(), 365 * 86400);
        assert!(parse_duration("fast").is_err());
        // As in files: a unit is required, overflow is too large.
        assert!(
            parse_duration("3")
                .unwrap_err()
                .to_string()
                .contains("no unit")
        );
        assert!(
            parse_duration("99999999999h")
                .unwrap_err()
                .to_string()
                .contains("too large")
        );
    }

    #[test]
    fn every_command_has_an_example() {
        fn walk(cmd: &clap::Command, path: &str) {
            for sub in cmd.get_subcommands() {
                if sub.is_hide_set() {
                    continue;
                }
                let p = format!("{path} {}", sub.get_name());
                if sub.get_subcommands().next().is_some() {
                    walk(sub, &p);
                } else {
                    let help = sub
                        .get_after_help()
                        .map(|h| h.to_string())
                        .unwrap_or_default();
                    assert!(
                        help.contains("Example"),
                        "`{p}` has no example in its --help"
                    );
                }
            }
        }
        walk(&Cli::command(), "firedrill");
    }
}

/// Who acts (default: $FIREDRILL_AS, else the page's assignee).
#[derive(Debug, Args, Clone)]
pub struct Actor {
    #[arg(long = "as", env = "FIREDRILL_AS", value_name = "HANDLE")]
    pub person: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct TimeRange {
    /// Start: RFC 3339, YYYY-MM-DD (UTC), `now`, or relative (`-7d`, `+2h`).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// End, in the same forms.
    #[arg(long, value_parser = parse_time)]
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Subcommand)]
pub enum OncallCmd {
    /// Who is on call now (or --at), and who is next, per schedule and role.
    #[command(
        after_help = "Example:\n  firedrill oncall who\n  firedrill oncall who --at 2026-12-24T20:00:00Z --config oncall.yaml"
    )]
    Who {
        #[arg(long, value_parser = parse_time)]
        at: Option<chrono::DateTime<chrono::Utc>>,
        /// Read this on-call file instead of asking the running lab.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// The final schedule as a table: shifts per role, overrides applied.
    #[command(
        after_help = "Example:\n  firedrill oncall schedule --from 2026-12-01 --to 2026-12-15\n  firedrill oncall schedule --config oncall.yaml --person alice"
    )]
    Schedule {
        #[command(flatten)]
        range: TimeRange,
        #[arg(long)]
        person: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Export the schedule as an iCalendar file (one event per shift).
    #[command(
        after_help = "Example:\n  firedrill oncall export --ics > oncall.ics\n  firedrill oncall export --ics --person alice --from now --to +90d"
    )]
    Export {
        /// iCalendar (RFC 5545); the only format so far.
        #[arg(long, required = true)]
        ics: bool,
        #[command(flatten)]
        range: TimeRange,
        #[arg(long)]
        person: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Check an on-call file: every mistake with file:line:column.
    #[command(after_help = "Example:\n  firedrill oncall check oncall.yaml")]
    Check { file: PathBuf },
    /// Reports: `handoff` (end of a shift) and `load` (per person and shift).
    #[command(
        after_help = "Example:\n  firedrill oncall report handoff --from -12h\n  firedrill oncall report load --from -7d"
    )]
    Report {
        #[arg(value_enum)]
        kind: ReportKind,
        #[command(flatten)]
        range: TimeRange,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportKind {
    Handoff,
    Load,
}

#[derive(Debug, Subcommand)]
pub enum PageCmd {
    /// Pages, newest first (default: open ones).
    #[command(after_help = "Example:\n  firedrill page list\n  firedrill page list --status all")]
    List {
        /// open, triggered, acknowledged, resolved or all.
        #[arg(long, default_value = "open")]
        status: String,
    },
    /// One page: recipients, notes and its timeline.
    #[command(after_help = "Example:\n  firedrill page show 3")]
    Show { id: i64 },
    /// Acknowledge: you have it; escalation stops.
    #[command(after_help = "Example:\n  firedrill page ack 3 --as alice")]
    Ack {
        id: i64,
        #[command(flatten)]
        actor: Actor,
    },
    /// Resolve: the problem is over.
    #[command(after_help = "Example:\n  firedrill page resolve 3 --as alice")]
    Resolve {
        id: i64,
        #[command(flatten)]
        actor: Actor,
    },
    /// Snooze: acknowledged for now, triggers again after DURATION.
    #[command(after_help = "Example:\n  firedrill page snooze 3 10m --as alice")]
    Snooze {
        id: i64,
        #[arg(value_parser = parse_duration)]
        duration: std::time::Duration,
        #[command(flatten)]
        actor: Actor,
    },
    /// Reassign to another person, who is paged now.
    #[command(after_help = "Example:\n  firedrill page reassign 3 carol --as alice")]
    Reassign {
        id: i64,
        to: String,
        #[command(flatten)]
        actor: Actor,
    },
    /// Add a note to the page's timeline (shadows may, too).
    #[command(
        after_help = "Example:\n  firedrill page note 3 \"payment 5xx since the deploy\" --as erin"
    )]
    Note {
        id: i64,
        text: String,
        #[command(flatten)]
        actor: Actor,
    },
    /// Page the on-call by hand (a drill, a human report).
    #[command(after_help = "Example:\n  firedrill page open \"Customers report failed checkouts\"")]
    Open {
        title: String,
        #[arg(long, default_value = "")]
        summary: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TicketCmd {
    /// Tickets, newest first (default: open ones).
    #[command(after_help = "Example:\n  firedrill ticket list --status all")]
    List {
        /// open, closed or all.
        #[arg(long, default_value = "open")]
        status: String,
    },
    /// Assign a ticket to a person.
    #[command(after_help = "Example:\n  firedrill ticket assign 2 dave")]
    Assign {
        id: i64,
        to: String,
        #[command(flatten)]
        actor: Actor,
    },
    /// Close a ticket.
    #[command(after_help = "Example:\n  firedrill ticket close 2")]
    Close {
        id: i64,
        #[command(flatten)]
        actor: Actor,
    },
}

/// A time: RFC 3339, `YYYY-MM-DD` (UTC midnight), `now`, or `+D`/`-D` from now.
pub fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let s = s.trim();
    let now = chrono::Utc::now();
    if s == "now" {
        return Ok(now);
    }
    if let Some(rest) = s.strip_prefix('+').or_else(|| s.strip_prefix('-')) {
        let d = chrono::Duration::from_std(parse_duration(rest)?).map_err(|e| e.to_string())?;
        return Ok(if s.starts_with('-') { now - d } else { now + d });
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Err(format!(
        "{s:?} is not a time: use RFC 3339 (2026-12-01T09:00:00Z), a date (2026-12-01), `now`, or -7d / +2h"
    ))
}

#[derive(Debug, Subcommand)]
pub enum FaultCmd {
    /// Inject a fault; it reverts by itself after --for (default 10m, at most 1h).
    #[command(
        after_help = "Examples:\n  firedrill fault inject latency --service recommendation --delay 800ms --jitter 200ms --percent 50 --for 10m\n  firedrill fault inject error --service cart --status 503 --percent 20\n  firedrill fault inject blackhole --service ad --caller frontend\n  firedrill fault inject refuse --service payment --instances 0\n  firedrill fault inject cpu --service checkout --share 0.8\n  firedrill fault inject memory --service cart --mb-per-s 20 --cap-mb 300\n  firedrill fault inject disk --service email --size-mb 200\n  firedrill fault inject kill --service cart --instances 1\n  firedrill fault inject pause --service currency --for 30s\n  firedrill fault inject bad-version --service productcatalog"
    )]
    Inject(Box<FaultArgs>),
    /// Active faults (during a drill they are its answer: needs --reveal).
    #[command(after_help = "Example:\n  firedrill fault list")]
    List {
        /// Show them even while a drill runs.
        #[arg(long)]
        reveal: bool,
    },
    /// End a fault now (or all of them).
    #[command(after_help = "Example:\n  firedrill fault clear f3\n  firedrill fault clear --all")]
    Clear {
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FaultKindArg {
    Latency,
    Error,
    Blackhole,
    Refuse,
    Reset,
    SlowBody,
    Cpu,
    Memory,
    Disk,
    Kill,
    Pause,
    BadVersion,
}

#[derive(Debug, Subcommand)]
pub enum WheelCmd {
    /// Draw a question card (who, what, where) for a player from the session's seed and the live lab.
    #[command(
        after_help = "Examples:\n  firedrill wheel spin --player alice\n  firedrill wheel spin --player alice --seed 42 --category where\n  FIREDRILL_TOKEN=fd_trainee_… firedrill wheel spin     # as yourself"
    )]
    Spin {
        /// Who plays the card (default: the token's person; only an instructor may name another).
        #[arg(long)]
        player: Option<String>,
        /// Same seed, same cards in the same lab (a new seed starts a new session).
        #[arg(long)]
        seed: Option<u64>,
        /// Only questions of this category.
        #[arg(long, value_parser = ["who", "what", "where"])]
        category: Option<String>,
        /// Instructors: this template (see `firedrill wheel templates`).
        #[arg(long)]
        template: Option<String>,
        /// Start a new session even with the same seed.
        #[arg(long)]
        new_session: bool,
    },
    /// Answer the open card: a name, a number, or a comma-separated list (`none` for an empty one).
    #[command(
        after_help = "Examples:\n  firedrill wheel answer cart/1\n  firedrill wheel answer 'ad, cart, currency' --player alice\n  firedrill wheel answer 120 --card 7"
    )]
    Answer {
        value: String,
        /// Whose open card (default: the token's person, or the only open card).
        #[arg(long)]
        player: Option<String>,
        /// This card instead of the player's open one.
        #[arg(long)]
        card: Option<i64>,
    },
    /// Don't know? Name whom you would ask: good when it is the service's primary on call.
    #[command(after_help = "Example:\n  firedrill wheel escalate bob --player alice")]
    Escalate {
        person: String,
        #[arg(long)]
        player: Option<String>,
        #[arg(long)]
        card: Option<i64>,
    },
    /// A card (default: the latest) with the commands and queries its player ran, in order.
    #[command(
        after_help = "Examples:\n  firedrill wheel show\n  firedrill wheel show 7 --output json"
    )]
    Show {
        card: Option<i64>,
        /// The latest card of this player.
        #[arg(long)]
        player: Option<String>,
    },
    /// The session's board: players, cards, correct, escalated, time.
    #[command(
        after_help = "Examples:\n  firedrill wheel board\n  firedrill wheel board --session 2 --output json"
    )]
    Board {
        #[arg(long)]
        session: Option<i64>,
    },
    /// Cards played (a player's history with `--player`).
    #[command(
        after_help = "Examples:\n  firedrill wheel cards\n  firedrill wheel cards --player alice --output json"
    )]
    Cards {
        #[arg(long)]
        player: Option<String>,
        #[arg(long)]
        session: Option<i64>,
    },
    /// The question templates.
    #[command(after_help = "Example:\n  firedrill wheel templates")]
    Templates,
}

#[derive(Debug, Subcommand)]
pub enum DrillCmd {
    /// The catalogue: id, title, topology, difficulty, skills, typical length.
    #[command(
        after_help = "Example:\n  firedrill drill list\n  firedrill drill list --output json"
    )]
    List,
    /// Check scenario files (every mistake with file:line:column), without a lab.
    #[command(after_help = "Example:\n  firedrill drill check my-drill.yaml")]
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Start a drill for a trainee (one at a time per lab).
    #[command(
        after_help = "Examples:\n  firedrill drill start bad-release --trainee alice --seed 42\n  firedrill drill start shadow-checkout --trainee alice --shadow erin\n  firedrill drill start bad-release --trainee alice --scale 0.2   # a 25-minute drill in 5"
    )]
    Start {
        /// Scenario id (see `firedrill drill list`), or a scenario file (docs/drills.md).
        scenario: String,
        /// Who is on call for the drill (a handle of the on-call file).
        #[arg(long)]
        trainee: String,
        /// The apprentice who shadows the trainee (shadow drills).
        #[arg(long)]
        shadow: Option<String>,
        /// Same seed, same fault times and choices (default: drawn and shown).
        #[arg(long)]
        seed: Option<u64>,
        /// Clock compression: every duration of the scenario times this.
        #[arg(long, value_parser = parse_scale)]
        scale: Option<f64>,
    },
    /// The running drill's briefing: what the trainee knows at the start.
    #[command(after_help = "Example:\n  firedrill drill brief")]
    Brief,
    /// The running drill's clock and hints (nothing of the answer).
    #[command(after_help = "Example:\n  firedrill drill status")]
    Status,
    /// The next hint (it costs points).
    #[command(after_help = "Example:\n  firedrill drill hint")]
    Hint,
    /// Game master: the live hidden state (faults, objectives, the trainee's actions).
    #[command(
        after_help = "Example:\n  firedrill drill watch\n  firedrill drill watch --once --output json"
    )]
    Watch {
        /// One snapshot instead of following.
        #[arg(long)]
        once: bool,
    },
    /// Game master: give the trainee the next hint, free of charge.
    #[command(
        name = "push-hint",
        after_help = "Example:\n  firedrill drill push-hint"
    )]
    PushHint,
    /// Game master: inject one more fault into the running drill.
    #[command(
        after_help = "Example:\n  firedrill drill inject latency --service currency --delay 400ms"
    )]
    Inject(Box<FaultArgs>),
    /// End the running drill now.
    #[command(after_help = "Example:\n  firedrill drill end")]
    End,
    /// What happened: the revealed fault, timings, score, your path beside the ideal one.
    #[command(
        after_help = "Examples:\n  firedrill drill debrief\n  firedrill drill debrief 7 --output json\n  firedrill drill debrief --html debrief.html"
    )]
    Debrief {
        /// Drill id (default: the latest).
        id: Option<i64>,
        /// Write one self-contained HTML file with charts instead.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
    },
    /// Every drill, its score and timings, newest first.
    #[command(
        after_help = "Examples:\n  firedrill drill history --trainee alice\n  firedrill drill history --scenario bad-release --output json"
    )]
    History {
        #[arg(long)]
        trainee: Option<String>,
        #[arg(long)]
        scenario: Option<String>,
        /// At most this many drills (1 to 10000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
}

fn parse_scale(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number (e.g. 0.2)"))?;
    if v.is_finite() && v > 0.0 && v <= 10.0 {
        Ok(v)
    } else {
        Err(format!("{v} is not in (0, 10]"))
    }
}

#[derive(Debug, Args)]
pub struct FaultArgs {
    #[arg(value_enum)]
    pub kind: FaultKindArg,
    /// The service it hits (for --caller: the callee).
    #[arg(long)]
    pub service: String,
    /// Instance indices, comma-separated (default: all instances).
    #[arg(long, value_delimiter = ',')]
    pub instances: Option<Vec<u32>>,
    /// A share of the instances instead, in percent.
    #[arg(long, value_parser = parse_percent)]
    pub instance_percent: Option<f64>,
    /// Only this route (server-side request faults).
    #[arg(long)]
    pub route: Option<String>,
    /// Client side: only calls from this service to --service.
    #[arg(long)]
    pub caller: Option<String>,
    /// Share of requests affected, in percent (request faults).
    #[arg(long, value_parser = parse_percent)]
    pub percent: Option<f64>,
    /// latency: added delay; slow-body: how long the body takes.
    #[arg(long, value_parser = duration_text)]
    pub delay: Option<String>,
    /// latency: ± uniform jitter.
    #[arg(long, value_parser = duration_text)]
    pub jitter: Option<String>,
    /// error: the HTTP status (default 500).
    #[arg(long)]
    pub status: Option<u16>,
    /// cpu: share of a core (0.05 to 1).
    #[arg(long, value_parser = parse_share)]
    pub share: Option<f64>,
    /// memory, disk: megabytes per second.
    #[arg(long)]
    pub mb_per_s: Option<u64>,
    /// memory: cap in megabytes.
    #[arg(long)]
    pub cap_mb: Option<u64>,
    /// disk: file size in megabytes.
    #[arg(long)]
    pub size_mb: Option<u64>,
    /// bad-version: the version (default: the service's first buggy one).
    #[arg(long)]
    pub version: Option<String>,
    /// How long it lasts.
    #[arg(long = "for", default_value = "10m", value_parser = duration_text)]
    pub duration: String,
}

#[derive(Debug, Subcommand)]
pub enum ChaosCmd {
    /// Take each service down in turn under load; print a journey × service
    /// matrix (ok / degraded / broken) and every cell that contradicts the
    /// topology's declared criticality.
    #[command(
        after_help = "Example:\n  firedrill chaos critical-path\n  firedrill chaos critical-path --services ad,recommendation,payment --window 10s --output json"
    )]
    CriticalPath {
        /// Only these services (comma-separated; default: all).
        #[arg(long, value_delimiter = ',')]
        services: Vec<String>,
        /// How long journeys are counted while a service is down.
        #[arg(long, default_value = "6s", value_parser = parse_duration)]
        window: std::time::Duration,
        /// Wait after taking a service down before counting.
        #[arg(long, default_value = "2s", value_parser = parse_duration)]
        settle: std::time::Duration,
        /// Wait after bringing it back before the next one.
        #[arg(long, default_value = "3s", value_parser = parse_duration)]
        recover: std::time::Duration,
        /// Refuse to run longer than this.
        #[arg(long, default_value = "15m", value_parser = parse_duration)]
        max_time: std::time::Duration,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExperimentCmd {
    /// Run an experiment (a bundled name or a file) against the running lab.
    #[command(
        after_help = "Example:\n  firedrill experiment run ad-outage\n  firedrill experiment run experiments/my-test.yaml --output json\n\nExit status: 0 held, 3 did not hold, 4 halted, 5 no steady state to start from."
    )]
    Run { experiment: String },
    /// Check an experiment file: every mistake with file:line:column.
    #[command(after_help = "Example:\n  firedrill experiment validate experiments/my-test.yaml")]
    Validate { experiment: String },
    /// The bundled experiments.
    #[command(after_help = "Example:\n  firedrill experiment list")]
    List,
    /// Print a bundled experiment's YAML (a starting point for your own).
    #[command(after_help = "Example:\n  firedrill experiment show ad-outage > mine.yaml")]
    Show { name: String },
}
