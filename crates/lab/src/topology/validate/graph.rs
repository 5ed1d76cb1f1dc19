//! The call graph: every call reaches a service that serves it, and no
//! service depends on itself through its calls.

use std::collections::HashMap;

use super::ctx::Ctx;
use super::service::CallSite;
use super::{METHODS, matching_endpoints, service_list};
use crate::topology::model::Service;

/// Checks each call's target, then looks for dependency cycles.
pub(super) fn check_calls(ctx: &mut Ctx, services: &[Service], sites: &[CallSite]) {
    let edges = call_targets(ctx, services, sites);
    let mut walk = Walk {
        edges: &edges,
        state: vec![Visit::New; services.len()],
        stack: Vec::new(),
        services,
        sites,
    };
    for start in 0..services.len() {
        walk.visit(start, ctx);
    }
}

/// The callee exists and serves the method and path; returns, per caller,
/// its callees with the call site's index.
fn call_targets(
    ctx: &mut Ctx,
    services: &[Service],
    sites: &[CallSite],
) -> Vec<Vec<(usize, usize)>> {
    let index: HashMap<&str, usize> = services
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); services.len()];
    for (n, site) in sites.iter().enumerate() {
        let Some(&callee) = index.get(site.call.service.as_str()) else {
            ctx.at(
                &site.raw.service.referenced,
                format!("{}.service", site.field),
                format!(
                    "{:?} is not a service (services: {})",
                    site.call.service,
                    service_list(services)
                ),
            );
            continue;
        };
        edges[site.caller].push((callee, n));
        let target = &services[callee];
        if site.call.path.starts_with('/')
            && METHODS.contains(&site.call.method.as_str())
            && matching_endpoints(target, &site.call.method, &site.call.path).is_empty()
        {
            let served: Vec<String> = target
                .endpoints
                .iter()
                .map(|e| format!("{} {}", e.method, e.route))
                .collect();
            ctx.at(
                &site.raw.path.referenced,
                format!("{}.path", site.field),
                format!(
                    "{} does not serve {} {} (it serves: {})",
                    target.name,
                    site.call.method,
                    site.call.path,
                    if served.is_empty() {
                        "nothing".to_string()
                    } else {
                        served.join(", ")
                    }
                ),
            );
        }
    }
    edges
}

#[derive(Clone, Copy, PartialEq)]
enum Visit {
    New,
    OnStack,
    Done,
}

/// Depth-first search for dependency cycles.
struct Walk<'a, 'r> {
    edges: &'a [Vec<(usize, usize)>],
    state: Vec<Visit>,
    stack: Vec<usize>,
    services: &'a [Service],
    sites: &'a [CallSite<'r>],
}

impl Walk<'_, '_> {
    fn visit(&mut self, node: usize, ctx: &mut Ctx) {
        if self.state[node] != Visit::New {
            return;
        }
        self.state[node] = Visit::OnStack;
        self.stack.push(node);
        for &(callee, site) in &self.edges[node] {
            match self.state[callee] {
                Visit::New => self.visit(callee, ctx),
                Visit::OnStack => {
                    let from = self.stack.iter().position(|&s| s == callee).unwrap_or(0);
                    let mut names: Vec<&str> = self.stack[from..]
                        .iter()
                        .map(|&s| self.services[s].name.as_str())
                        .collect();
                    names.push(self.services[callee].name.as_str());
                    let s = &self.sites[site];
                    ctx.at(
                        &s.raw.service.referenced,
                        format!("{}.service", s.field),
                        format!("dependency cycle: {}", names.join(" -> ")),
                    );
                }
                Visit::Done => {}
            }
        }
        self.stack.pop();
        self.state[node] = Visit::Done;
    }
}
