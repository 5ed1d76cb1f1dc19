//! The instance's listener, able to refuse connections: while a server-side
//! `refuse` fault is active the listening socket is closed (new connections
//! get ECONNREFUSED), and it is bound again on the same address when the
//! fault ends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

pub struct RefusingListener {
    addr: SocketAddr,
    inner: Option<TcpListener>,
    refusing: Arc<AtomicBool>,
}

impl RefusingListener {
    pub fn new(listener: TcpListener, refusing: Arc<AtomicBool>) -> std::io::Result<Self> {
        Ok(RefusingListener {
            addr: listener.local_addr()?,
            inner: Some(listener),
            refusing,
        })
    }
}

impl axum::serve::Listener for RefusingListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            if self.refusing.load(Ordering::Acquire) {
                self.inner = None;
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            let Some(l) = &self.inner else {
                match TcpListener::bind(self.addr).await {
                    Ok(l) => self.inner = Some(l),
                    Err(e) => {
                        tracing::warn!(error = %e, addr = %self.addr, "cannot listen again yet");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                continue;
            };
            tokio::select! {
                r = l.accept() => match r {
                    Ok((s, a)) => {
                        let _ = s.set_nodelay(true);
                        return (s, a);
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
                // Look at the refusal flag again now and then.
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }
}
