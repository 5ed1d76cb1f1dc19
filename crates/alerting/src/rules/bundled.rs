//! Cause-based rule files that ship with the bundled topologies, loaded by
//! `firedrill up` beside the topology's SLO rules (docs/alerting.md,
//! "Cause-based rules"). The SLO alerts page on symptoms; these say why.

/// A rule file compiled into the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundledRules {
    /// Its name under `crates/alerting/rules/` (`lab.yaml`).
    pub name: &'static str,
    pub text: &'static str,
}

/// Rules of every bundled lab: instances, memory, CPU, concurrency, disk,
/// load balancing.
pub const LAB: BundledRules = BundledRules {
    name: "lab.yaml",
    text: include_str!("../../rules/lab.yaml"),
};

/// The chatbot's job queue.
pub const CHATBOT: BundledRules = BundledRules {
    name: "chatbot.yaml",
    text: include_str!("../../rules/chatbot.yaml"),
};

/// The cause-based rule files of a bundled topology (none for other labs).
pub fn bundled_rules(topology: &str) -> &'static [BundledRules] {
    match topology {
        "shop" => &[LAB],
        "chatbot" => &[LAB, CHATBOT],
        _ => &[],
    }
}
