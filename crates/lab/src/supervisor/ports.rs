//! Loopback port assignment: services in topology order from the base port,
//! the entry service first so its address is stable.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use super::SupervisorError;

/// Hands out loopback ports upward from a base, never the same one twice
/// while it is held.
#[derive(Debug)]
pub struct PortAllocator {
    next: u16,
    held: BTreeSet<u16>,
}

impl PortAllocator {
    pub fn new(base: u16) -> Self {
        PortAllocator {
            next: base,
            held: BTreeSet::new(),
        }
    }

    /// The next port, checked free by binding it. `who` names the instance
    /// for the error message.
    pub fn allocate(&mut self, who: &str) -> Result<u16, SupervisorError> {
        let port = self.next;
        if port == u16::MAX {
            return Err(SupervisorError::NoPorts);
        }
        self.next += 1;
        check_free(port, who)?;
        self.held.insert(port);
        Ok(port)
    }

    /// A port for an instance added later (scale out): the next free one,
    /// skipping ports something else took meanwhile (an outgoing
    /// connection's ephemeral port, say).
    pub fn allocate_next_free(&mut self, who: &str) -> Result<u16, SupervisorError> {
        let mut last = None;
        for _ in 0..64 {
            match self.allocate(who) {
                Ok(p) => return Ok(p),
                Err(e @ SupervisorError::NoPorts) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(SupervisorError::NoPorts))
    }

    pub fn release(&mut self, port: u16) {
        self.held.remove(&port);
    }
}

/// Fails with a clear error when `127.0.0.1:port` cannot be bound.
pub fn check_free(port: u16, who: &str) -> Result<(), SupervisorError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpListener::bind(addr)
        .map(drop)
        .map_err(|source| SupervisorError::PortInUse {
            port,
            who: who.to_string(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_upward_and_reports_busy_ports() {
        let busy = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = busy.local_addr().unwrap().port();
        let mut alloc = PortAllocator::new(port);
        let err = alloc.allocate("cart/0").unwrap_err();
        assert!(err.to_string().contains(&port.to_string()), "{err}");
        assert!(err.to_string().contains("cart/0"), "{err}");
    }
}
