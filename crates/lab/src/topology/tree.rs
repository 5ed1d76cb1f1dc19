//! `firedrill topology show`: the dependency tree from the entry service down.

use std::collections::{BTreeSet, VecDeque};

use super::duration::format_duration;
use super::model::*;
use super::validate::matching_endpoints;

/// How deep the tree follows calls before it writes `…`.
const MAX_DEPTH: usize = 12;

struct Node {
    label: String,
    children: Vec<Node>,
}

impl Node {
    fn leaf(label: impl Into<String>) -> Node {
        Node {
            label: label.into(),
            children: Vec::new(),
        }
    }
}

fn service_label(s: &Service) -> String {
    let plural = if s.instances == 1 { "" } else { "s" };
    format!(
        "{} ({} instance{plural}, {})",
        s.name, s.instances, s.version
    )
}

fn endpoint_label(e: &Endpoint) -> String {
    match e.handler {
        Handler::Generic => format!("{} {}", e.method, e.route),
        h => format!(
            "{} {} [{}]",
            e.method,
            e.route,
            serde_json::to_value(h)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
    }
}

/// `currency GET /convert (critical, timeout 300ms, retries 2)`.
pub fn call_label(c: &Call) -> String {
    let mut attrs = vec![match (&c.critical, &c.fallback) {
        (true, _) => "critical".to_string(),
        (false, Some(Fallback::Omit)) => "optional: omit".to_string(),
        (false, Some(Fallback::Static(v))) => format!("optional: static {v:?}"),
        (false, None) => "optional without fallback: failure propagates".to_string(),
    }];
    attrs.push(format!("timeout {}", format_duration(c.timeout)));
    if c.retries > 0 {
        attrs.push(format!("retries {}", c.retries));
    }
    if c.probability < 1.0 {
        attrs.push(format!("probability {}", c.probability));
    }
    format!(
        "{} {} {} ({})",
        c.service,
        c.method,
        c.path,
        attrs.join(", ")
    )
}

fn call_node(t: &Topology, c: &Call, stack: &mut Vec<(String, String, String)>) -> Node {
    let mut node = Node::leaf(call_label(c));
    let Some(callee) = t.service(&c.service) else {
        node.label.push_str(" [unknown service]");
        return node;
    };
    let matched = matching_endpoints(callee, &c.method, &c.path);
    if matched.is_empty() {
        node.label.push_str(" [no such endpoint]");
        return node;
    }
    if stack.len() >= MAX_DEPTH {
        node.children.push(Node::leaf("…"));
        return node;
    }
    let several = matched.len() > 1;
    for e in matched {
        let key = (callee.name.clone(), e.method.clone(), e.route.clone());
        let children = if stack.contains(&key) {
            vec![Node::leaf(format!(
                "↻ {} {} {} (repeats above)",
                callee.name, e.method, e.route
            ))]
        } else {
            stack.push(key);
            let ch = e.calls.iter().map(|c| call_node(t, c, stack)).collect();
            stack.pop();
            ch
        };
        if several {
            node.children.push(Node {
                label: format!("→ {}", endpoint_label(e)),
                children,
            });
        } else {
            node.children.extend(children);
        }
    }
    node
}

fn service_node(t: &Topology, s: &Service) -> Node {
    let mut children = Vec::new();
    for e in &s.endpoints {
        let mut stack = vec![(s.name.clone(), e.method.clone(), e.route.clone())];
        children.push(Node {
            label: endpoint_label(e),
            children: e
                .calls
                .iter()
                .map(|c| call_node(t, c, &mut stack))
                .collect(),
        });
    }
    if let Some(b) = &s.background {
        let mut stack = vec![(s.name.clone(), "background".to_string(), String::new())];
        children.push(Node {
            label: format!("every {} (background)", format_duration(b.every)),
            children: b
                .calls
                .iter()
                .map(|c| call_node(t, c, &mut stack))
                .collect(),
        });
    }
    Node {
        label: service_label(s),
        children,
    }
}

fn render(node: &Node, prefix: &str, out: &mut String) {
    let n = node.children.len();
    for (i, child) in node.children.iter().enumerate() {
        let last = i + 1 == n;
        out.push_str(prefix);
        out.push_str(if last { "└── " } else { "├── " });
        out.push_str(&child.label);
        out.push('\n');
        let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
        render(child, &deeper, out);
    }
}

/// Services reachable from `from` through calls (endpoints and background work).
fn reachable(t: &Topology, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([from.to_string()]);
    while let Some(name) = queue.pop_front() {
        let Some(s) = t.service(&name) else {
            continue;
        };
        if !seen.insert(name) {
            continue;
        }
        let calls = s
            .endpoints
            .iter()
            .flat_map(|e| e.calls.iter())
            .chain(s.background.iter().flat_map(|b| b.calls.iter()));
        for c in calls {
            if !seen.contains(&c.service) {
                queue.push_back(c.service.clone());
            }
        }
    }
    seen
}

/// The dependency tree from the entry service down, then the services that
/// user traffic does not reach (workers and the like).
pub fn render_tree(t: &Topology) -> String {
    let mut out = String::new();
    match t.service(&t.entry) {
        Some(entry) => {
            let node = service_node(t, entry);
            out.push_str(&node.label);
            out.push('\n');
            render(&node, "", &mut out);
        }
        None => out.push_str(&format!("(entry {:?} is not a service)\n", t.entry)),
    }
    let seen = reachable(t, &t.entry);
    let rest: Vec<&Service> = t
        .services
        .iter()
        .filter(|s| !seen.contains(&s.name))
        .collect();
    if !rest.is_empty() {
        out.push_str(&format!("\nnot reachable from {}:\n", t.entry));
        for s in rest {
            let node = service_node(t, s);
            out.push_str(&node.label);
            out.push('\n');
            render(&node, "", &mut out);
        }
    }
    out
}
