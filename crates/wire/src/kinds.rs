//! Every event kind the journal holds, with its source, subject and
//! attributes. Drills and incidents compute their timings from these, so
//! this list is the contract; `docs/events.md` documents it and a test keeps
//! the two in step. Kinds marked hidden reveal a drill's answer (faults,
//! scenarios): only an instructor reads them while they are hidden.

/// One kind of event.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    pub kind: &'static str,
    /// Which component appends it.
    pub source: &'static str,
    /// What the subject names.
    pub subject: &'static str,
    /// Attribute names with a short meaning.
    pub attributes: &'static [(&'static str, &'static str)],
    /// Reveals hidden state: shown to instructors only.
    pub hidden: bool,
    pub meaning: &'static str,
}

const fn k(
    kind: &'static str,
    source: &'static str,
    subject: &'static str,
    attributes: &'static [(&'static str, &'static str)],
    meaning: &'static str,
) -> Kind {
    Kind {
        kind,
        source,
        subject,
        attributes,
        hidden: false,
        meaning,
    }
}

const fn hidden(mut kind: Kind) -> Kind {
    kind.hidden = true;
    kind
}

/// The catalogue, grouped by the component that appends them.
pub const KINDS: &[Kind] = &[
    // The lab (supervisor, load generator).
    k(
        "lab.started",
        "supervisor",
        "lab name",
        &[("instances", "instances started")],
        "every instance of the lab is up and healthy",
    ),
    k(
        "lab.stopped",
        "supervisor",
        "lab name",
        &[],
        "the lab stopped (Ctrl-C, SIGTERM, `firedrill down`)",
    ),
    k(
        "instance.crashed",
        "supervisor",
        "service/index",
        &[("reason", "exit status or signal"), ("pid", "process id")],
        "an instance's process exited without being asked",
    ),
    k(
        "instance.restarted",
        "supervisor, or who asked",
        "service/index",
        &[
            ("reason", "`operator restart`, `deploy` or `crashed`"),
            ("version", "version it runs (operator restarts and deploys)"),
            ("backoff_ms", "wait before a crash restart"),
            ("restarts", "restarts so far"),
        ],
        "an instance was started again",
    ),
    k(
        "instance.drained",
        "person or api",
        "service/index",
        &[],
        "an instance was taken out of rotation",
    ),
    k(
        "instance.undrained",
        "person or api",
        "service/index",
        &[],
        "an instance was put back into rotation",
    ),
    k(
        "deploy.started",
        "person or api",
        "service",
        &[("from", "version before"), ("to", "version deployed")],
        "a rolling deploy began",
    ),
    k(
        "deploy.finished",
        "person or api",
        "service",
        &[("from", "version before"), ("to", "version deployed")],
        "every instance runs the new version",
    ),
    k(
        "deploy.failed",
        "person or api",
        "service",
        &[("to", "version deployed"), ("error", "why")],
        "a rolling deploy stopped part way",
    ),
    k(
        "rollback.started",
        "person or api",
        "service",
        &[("from", "bad version"), ("to", "version rolled back to")],
        "a rollback began",
    ),
    k(
        "rollback.finished",
        "person or api",
        "service",
        &[("from", "bad version"), ("to", "version rolled back to")],
        "every instance runs the previous version",
    ),
    k(
        "service.scaled",
        "person or api",
        "service",
        &[("from", "instances before"), ("to", "instances after")],
        "a service was scaled",
    ),
    k(
        "config.changed",
        "person or api",
        "service",
        &[("set", "the key=value pairs set")],
        "runtime config changed on every instance",
    ),
    k(
        "load.changed",
        "person or api",
        "loadgen",
        &[
            ("rps", "journeys per second"),
            ("pattern", "daily pattern on"),
        ],
        "the load generator's rate or pattern changed",
    ),
    // Alerting.
    k(
        "alert.firing",
        "rules",
        "alert name",
        &[
            ("labels", "alert labels"),
            ("annotations", "alert annotations"),
            ("value", "value that made it fire"),
        ],
        "an alerting rule's alert went from pending to firing",
    ),
    k(
        "alert.resolved",
        "rules",
        "alert name",
        &[("labels", "alert labels")],
        "a firing alert resolved",
    ),
    k(
        "silence.created",
        "person or api",
        "silence id",
        &[
            ("matchers", "matchers"),
            ("starts_at", "start"),
            ("ends_at", "end"),
            ("created_by", "author"),
            ("comment", "comment"),
        ],
        "a silence was created or updated",
    ),
    k(
        "silence.expired",
        "person or api",
        "silence id",
        &[],
        "a silence was expired early (DELETE)",
    ),
    k(
        "notification.sent",
        "notify",
        "receiver",
        &[
            ("integration", "webhook, slack, pagerduty, email, …"),
            ("target", "where it went"),
            ("attempts", "attempts it took"),
        ],
        "a notification was delivered",
    ),
    k(
        "notification.failed",
        "notify",
        "receiver",
        &[
            ("integration", "webhook, slack, pagerduty, email, …"),
            ("target", "where it went"),
            ("attempts", "attempts made"),
            ("error", "last error"),
        ],
        "a notification could not be delivered after every retry",
    ),
    k(
        "notification.dropped",
        "notify",
        "queue",
        &[
            ("count", "notifications dropped since the last such event"),
            ("total", "dropped since the lab started"),
            ("queue", "the queue's capacity"),
            ("in_flight", "deliveries under way at most"),
        ],
        "the sender's queue was full: notifications were neither stored nor sent",
    ),
    // On call.
    k(
        "page.triggered",
        "oncall",
        "page/ID",
        &[
            ("title", "alert group title"),
            ("step", "escalation step"),
            ("round", "repeat round"),
            ("assignee", "who is responsible"),
            ("recipients", "who was paged (shadows marked)"),
            ("group_key", "alert group"),
        ],
        "a page was opened",
    ),
    k(
        "page.escalated",
        "oncall",
        "page/ID",
        &[
            ("step", "new step"),
            ("round", "round"),
            ("assignee", "new assignee"),
            ("recipients", "who was paged"),
        ],
        "an unacknowledged page moved to the next step",
    ),
    k(
        "page.exhausted",
        "oncall",
        "page/ID",
        &[("step", "last step"), ("round", "last round")],
        "the policy has no step left; the page stays open",
    ),
    k(
        "page.acknowledged",
        "oncall",
        "page/ID",
        &[
            ("by", "who"),
            ("seconds_to_acknowledge", "since the page opened"),
            ("step", "step at ack"),
        ],
        "someone took the page",
    ),
    k(
        "page.resolved",
        "oncall",
        "page/ID",
        &[
            ("by", "who, or `alerting`"),
            ("automatic", "resolved because its alerts resolved"),
        ],
        "the page was closed",
    ),
    k(
        "page.snoozed",
        "oncall",
        "page/ID",
        &[
            ("by", "who"),
            ("until", "wake-up time"),
            ("seconds", "length"),
        ],
        "an acknowledged page was snoozed",
    ),
    k(
        "page.unsnoozed",
        "oncall",
        "page/ID",
        &[],
        "a snoozed page woke up and pages again",
    ),
    k(
        "page.reassigned",
        "oncall",
        "page/ID",
        &[
            ("by", "who"),
            ("from", "previous assignee"),
            ("to", "new assignee"),
        ],
        "a page was handed to someone else",
    ),
    k(
        "page.noted",
        "oncall",
        "page/ID",
        &[("by", "who"), ("text", "the note")],
        "a note was added to a page",
    ),
    k(
        "page.alerts_resolved",
        "oncall",
        "page/ID",
        &[("group_key", "alert group")],
        "every alert of the page resolved (the page stays open unless auto-resolve is on)",
    ),
    k(
        "ticket.opened",
        "oncall",
        "ticket/ID",
        &[("title", "alert group title"), ("assignee", "owner")],
        "a ticket was opened by the tickets receiver",
    ),
    k(
        "ticket.assigned",
        "oncall",
        "ticket/ID",
        &[("by", "who"), ("to", "new owner")],
        "a ticket changed owner",
    ),
    k(
        "ticket.closed",
        "oncall",
        "ticket/ID",
        &[("by", "who")],
        "a ticket was closed",
    ),
    // Access.
    k(
        "token.created",
        "instructor",
        "token name",
        &[("role", "instructor, trainee or viewer")],
        "a named token was created (its secret is never journaled)",
    ),
    k(
        "token.revoked",
        "instructor",
        "token name",
        &[],
        "a named token was revoked",
    ),
    // Chaos.
    hidden(k(
        "fault.injected",
        "chaos",
        "service",
        &[
            ("id", "fault id"),
            ("kind", "fault kind"),
            ("target", "instances or edge"),
            ("until", "expiry"),
        ],
        "a fault is in place",
    )),
    hidden(k(
        "fault.cleared",
        "chaos",
        "service",
        &[("id", "fault id"), ("kind", "fault kind")],
        "a fault was cleared",
    )),
    hidden(k(
        "fault.expired",
        "chaos",
        "service",
        &[("id", "fault id"), ("kind", "fault kind")],
        "a fault ran out of time",
    )),
    hidden(k(
        "experiment.started",
        "cli",
        "experiment id",
        &[("title", "title"), ("hypothesis", "hypothesis")],
        "a chaos experiment began",
    )),
    hidden(k(
        "experiment.halted",
        "cli",
        "experiment id",
        &[
            ("condition", "halt condition that tripped"),
            ("value", "its value"),
        ],
        "an experiment stopped early",
    )),
    hidden(k(
        "experiment.finished",
        "cli",
        "experiment id",
        &[("verdict", "held, deviated, halted or not_run")],
        "an experiment ended",
    )),
    // Drills.
    k(
        "drill.started",
        "drill",
        "drill id",
        &[
            ("drill", "drill id"),
            ("scenario", "scenario id"),
            ("title", "scenario title"),
            ("trainee", "who is on call"),
            ("shadow", "who shadows them, if anyone"),
            ("seed", "seed of the plan"),
            ("scale", "time scale"),
            ("time_limit_s", "time limit in seconds"),
        ],
        "a drill began (its briefing never names the fault)",
    ),
    k(
        "drill.resumed",
        "drill",
        "drill id",
        &[("drill", "drill id"), ("scenario", "scenario id")],
        "the lab restarted during a drill; the drill goes on where it was",
    ),
    k(
        "drill.hint",
        "drill",
        "drill id",
        &[
            ("drill", "drill id"),
            ("index", "hint number"),
            ("cost", "points it costs"),
            ("text", "the hint"),
        ],
        "the trainee took a hint",
    ),
    k(
        "drill.ended",
        "drill",
        "drill id",
        &[
            ("drill", "drill id"),
            ("outcome", "completed, timed_out or stopped"),
            ("score", "score out of 100"),
            ("by", "who stopped it, or `drill`"),
        ],
        "a drill ended",
    ),
    hidden(k(
        "drill.fault_started",
        "drill",
        "drill id",
        &[
            ("drill", "drill id"),
            ("fault", "fault id of the scenario"),
            ("title", "what the fault is"),
            ("action", "the fault action (JSON)"),
            ("planned_s", "planned start, seconds after the drill began"),
        ],
        "a fault of the drill began",
    )),
    hidden(k(
        "drill.fault_remedied",
        "drill",
        "drill id",
        &[
            ("drill", "drill id"),
            ("fault", "fault id of the scenario"),
            ("note", "what remedied it"),
            ("by", "who"),
            ("event_id", "the event that remedied it"),
        ],
        "a fault of the drill was remedied",
    )),
    hidden(k(
        "drill.fault_relieved",
        "drill",
        "drill id",
        &[
            ("drill", "drill id"),
            ("fault", "fault id of the scenario"),
            ("note", "what relieved it"),
            ("until", "when the relief ends"),
            ("by", "who"),
        ],
        "a fault of the drill is relieved for a while",
    )),
    hidden(k(
        "drill.wrong_op",
        "drill",
        "drill id",
        &[
            ("drill", "drill id"),
            ("event_id", "the operation's event"),
            ("kind", "its kind"),
            ("subject", "its subject"),
            ("by", "who"),
            ("why", "why it was wrong"),
            ("cost", "points it costs"),
        ],
        "an operation the scenario counts as wrong",
    )),
    hidden(k(
        "drill.objective_met",
        "drill",
        "drill id",
        &[
            ("drill", "drill id"),
            ("objective", "objective id"),
            ("title", "objective title"),
            (
                "since",
                "when it held from (RFC 3339; query objectives: start of the hold window)",
            ),
            ("value", "the query's value, if a query objective"),
        ],
        "an objective of the drill was met",
    )),
    // The Wheel of Expertise.
    k(
        "wheel.spun",
        "the person who spun",
        "player",
        &[
            ("card", "card id"),
            ("session", "session id"),
            ("seed", "the session's seed"),
            ("n", "the card's number in the session"),
            ("template", "question template id"),
            ("category", "who, what or where"),
            ("question", "the question"),
        ],
        "a question card was drawn for a player",
    ),
    k(
        "wheel.answered",
        "the person who answered",
        "player",
        &[
            ("card", "card id"),
            ("template", "question template id"),
            ("answer", "what the player answered"),
            ("correct", "whether it matched the truth taken at the spin"),
            ("seconds", "time from the spin"),
        ],
        "a player answered their card",
    ),
    k(
        "wheel.escalated",
        "the person who escalated",
        "player",
        &[
            ("card", "card id"),
            ("template", "question template id"),
            ("person", "whom the player would ask"),
            ("correct", "whether that is the primary on call at the spin"),
            ("seconds", "time from the spin"),
        ],
        "a player escalated their card instead of answering",
    ),
    k(
        "command.run",
        "the person of the token",
        "the same person",
        &[
            ("card", "the player's open wheel card"),
            (
                "command",
                "the CLI's command line (`x-firedrill-command`), if sent",
            ),
            ("method", "HTTP method of the request"),
            ("path", "its path"),
            ("query", "its query string, if any"),
        ],
        "a person with an open wheel card ran a command or called the API (once per CLI invocation)",
    ),
];

/// Families (the part before the dot) whose events reveal hidden state.
pub const HIDDEN_FAMILIES: &[&str] = &["fault", "experiment"];

/// Single kinds of otherwise visible families that reveal hidden state
/// (a drill's faults, remedies, wrong operations and objectives).
pub const HIDDEN_KINDS: &[&str] = &[
    "drill.fault_started",
    "drill.fault_remedied",
    "drill.fault_relieved",
    "drill.wrong_op",
    "drill.objective_met",
];

/// Whether an event of `kind` reveals hidden state: its family is hidden,
/// or the kind itself (kinds posted by tools with `POST /api/events`
/// included).
pub fn is_hidden(kind: &str) -> bool {
    let family = kind.split('.').next().unwrap_or("");
    HIDDEN_FAMILIES.contains(&family) || HIDDEN_KINDS.contains(&kind)
}

/// The section of the catalogue a kind belongs to.
fn section(kind: &str) -> &'static str {
    match kind.split('.').next().unwrap_or("") {
        "alert" | "silence" | "notification" => "Alerting",
        "page" | "ticket" => "On call",
        "token" => "Access",
        "fault" | "experiment" => "Chaos",
        "drill" => "Drills",
        "wheel" | "command" => "Wheel of Expertise",
        _ => "The lab",
    }
}

/// The catalogue as markdown tables, one per section (docs/events.md
/// carries this text; a test keeps them equal).
pub fn markdown() -> String {
    let mut out = String::new();
    let mut current = "";
    for k in KINDS {
        let sec = section(k.kind);
        if sec != current {
            current = sec;
            out += &format!(
                "\n## {sec}\n\n| kind | subject (source) | attributes | meaning |\n|---|---|---|---|\n"
            );
        }
        let attrs = if k.attributes.is_empty() {
            "—".to_string()
        } else {
            k.attributes
                .iter()
                .map(|(n, d)| format!("`{n}`: {d}"))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let hidden = if k.hidden { " **hidden**" } else { "" };
        out += &format!(
            "| `{}`{hidden} | {} ({}) | {attrs} | {} |\n",
            k.kind, k.subject, k.source, k.meaning
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_unique_and_dotted() {
        let mut seen = std::collections::BTreeSet::new();
        for k in KINDS {
            assert!(seen.insert(k.kind), "{} listed twice", k.kind);
            assert_eq!(k.kind.split('.').count(), 2, "{}", k.kind);
        }
    }

    /// docs/events.md carries the catalogue; `UPDATE_DOCS=1 cargo test -p
    /// wire` rewrites it after a change here.
    #[test]
    fn docs_carry_the_catalogue() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/events.md");
        let doc = std::fs::read_to_string(path).expect("docs/events.md exists");
        const MARK: &str = "<!-- catalogue: generated from crates/wire/src/kinds.rs -->\n";
        let head = doc.split(MARK).next().unwrap_or_default().to_string();
        let want = format!("{head}{MARK}{}", markdown());
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &want).expect("write docs/events.md");
            return;
        }
        assert!(
            doc == want,
            "docs/events.md is out of date: run UPDATE_DOCS=1 cargo test -p wire"
        );
    }

    #[test]
    fn hidden_flags_agree_with_families() {
        for k in KINDS {
            assert_eq!(k.hidden, is_hidden(k.kind), "{}", k.kind);
        }
    }

    #[test]
    fn faults_are_hidden_pages_are_not() {
        assert!(is_hidden("fault.injected"));
        assert!(is_hidden("experiment.whatever"));
        assert!(!is_hidden("page.triggered"));
        assert!(!is_hidden("deploy.started"));
    }

    #[test]
    fn drill_answers_are_hidden_its_course_is_not() {
        for kind in HIDDEN_KINDS {
            assert!(is_hidden(kind), "{kind}");
            assert!(
                KINDS.iter().any(|k| k.kind == *kind),
                "{kind} is catalogued"
            );
        }
        assert!(!is_hidden("drill.started"));
        assert!(!is_hidden("drill.hint"));
        assert!(!is_hidden("drill.ended"));
        assert!(!is_hidden("drill.whatever"));
    }
}
