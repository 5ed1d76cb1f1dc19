//! SLO specs that ship with the bundled topologies.

/// The SLO spec of a bundled topology, if it has one.
pub fn bundled_spec(topology: &str) -> Option<&'static str> {
    match topology {
        "shop" => Some(include_str!("../../slos/shop.yaml")),
        "chatbot" => Some(include_str!("../../slos/chatbot.yaml")),
        _ => None,
    }
}
