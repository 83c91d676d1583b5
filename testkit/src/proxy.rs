//! A TCP proxy in this process, in front of a hub: it can cut, restore, delay and freeze the
//! link, or cut it after a given number of bytes, and counts what went through. It runs on its
//! own tokio runtime on a background thread, so synchronous and async tests both drive it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct ProxyShared {
    upstream_port: AtomicU16,
    cut: AtomicBool,
    delay_us: AtomicU64,
    /// Bumped by `cut()`: every live connection watches it and closes when it changes.
    epoch: tokio::sync::watch::Sender<u64>,
    accepted: AtomicU64,
    refused: AtomicU64,
    linked: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    trip: std::sync::Mutex<Option<Trip>>,
    trips: AtomicU64,
    /// Set by a freezing trip: nothing is forwarded until `thaw()`.
    frozen: AtomicBool,
}

/// An armed fault: after `remaining` more bytes in direction `dir`, the chunk that crosses the
/// line is held back and the link is cut or frozen.
#[derive(Debug, Clone, Copy)]
struct Trip {
    dir: Direction,
    remaining: u64,
    freeze: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Cut,
    Freeze,
}

/// Which way bytes flow through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Node to hub (pushes).
    Up,
    /// Hub to node (acknowledgements, pulled changes).
    Down,
}

impl ProxyShared {
    fn delay(&self) -> Duration {
        Duration::from_micros(self.delay_us.load(Ordering::SeqCst))
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.epoch.send_modify(|e| *e += 1);
    }

    /// Whether the chunk of `n` bytes going `dir` sets off the armed fault, and which. The fault
    /// has happened (cut, or frozen) when this returns.
    fn trips(&self, dir: Direction, n: u64) -> Option<Fault> {
        let mut trip = self.trip.lock().unwrap_or_else(|p| p.into_inner());
        match trip.as_mut() {
            Some(t) if t.dir == dir => {
                if n >= t.remaining {
                    let freeze = t.freeze;
                    *trip = None;
                    drop(trip);
                    self.trips.fetch_add(1, Ordering::SeqCst);
                    if freeze {
                        self.frozen.store(true, Ordering::SeqCst);
                        Some(Fault::Freeze)
                    } else {
                        self.cut();
                        Some(Fault::Cut)
                    }
                } else {
                    t.remaining -= n;
                    None
                }
            }
            _ => None,
        }
    }
}

/// Counters of what went through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyStats {
    /// Connections accepted from clients.
    pub accepted: u64,
    /// Connections dropped at once because the link was cut or the upstream was down.
    pub refused: u64,
    /// Connections joined to the upstream.
    pub linked: u64,
    /// Bytes forwarded node → hub.
    pub bytes_up: u64,
    /// Bytes forwarded hub → node.
    pub bytes_down: u64,
    /// Faults set off by an armed trip (`cut_after`, `freeze_after`).
    pub trips: u64,
}

/// A TCP proxy on 127.0.0.1:(ephemeral) in front of the hub. `cut()` closes every live
/// connection and drops new ones until `restore()`; `set_delay` holds every forwarded chunk.
pub struct Proxy {
    port: u16,
    shared: Arc<ProxyShared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Starts a proxy forwarding to 127.0.0.1:`upstream_port`.
    pub fn start(upstream_port: u16) -> Proxy {
        let (epoch, _) = tokio::sync::watch::channel(0u64);
        let shared = Arc::new(ProxyShared {
            upstream_port: AtomicU16::new(upstream_port),
            cut: AtomicBool::new(false),
            delay_us: AtomicU64::new(0),
            epoch,
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            linked: AtomicU64::new(0),
            bytes_up: AtomicU64::new(0),
            bytes_down: AtomicU64::new(0),
            trip: std::sync::Mutex::new(None),
            trips: AtomicU64::new(0),
            frozen: AtomicBool::new(false),
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (port_tx, port_rx) = std::sync::mpsc::channel::<u16>();
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("proxy runtime");
                rt.block_on(async move {
                    let listener = TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("proxy binds 127.0.0.1:0");
                    let port = listener.local_addr().expect("proxy address").port();
                    port_tx.send(port).expect("report proxy port");
                    tokio::select! {
                        _ = stop_rx => {}
                        _ = accept_loop(listener, sh) => {}
                    }
                });
                // Dropping the runtime here drops every connection task and closes its sockets.
            })
            .expect("spawn proxy thread");
        let port = port_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("proxy started");
        Proxy {
            port,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The hub address a node uses to go through this proxy (matches the hub certificate).
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// Points new connections at another upstream port (a restarted hub).
    pub fn set_upstream(&self, port: u16) {
        self.shared.upstream_port.store(port, Ordering::SeqCst);
    }

    /// Closes every live connection and drops new ones until [`Proxy::restore`].
    pub fn cut(&self) {
        self.disarm();
        self.shared.cut();
    }

    /// Restores the link; an armed trip stays armed.
    pub fn restore(&self) {
        self.shared.cut.store(false, Ordering::SeqCst);
    }

    /// Arms a cut in the middle of a transfer: once `bytes` more bytes have gone `dir`, the
    /// chunk that crosses the line is swallowed (never delivered) and the link is cut, as by
    /// [`Proxy::cut`]. [`ProxyStats::trips`] counts the cuts made this way.
    pub fn cut_after(&self, dir: Direction, bytes: u64) {
        *self.shared.trip.lock().unwrap_or_else(|p| p.into_inner()) = Some(Trip {
            dir,
            remaining: bytes.max(1),
            freeze: false,
        });
    }

    /// Arms a freeze: once `bytes` more bytes have gone `dir`, the chunk that crosses the line
    /// is held and nothing more is forwarded either way, so a transfer stops at a known point
    /// (for a test to kill a process there). [`Proxy::thaw`] ends it.
    pub fn freeze_after(&self, dir: Direction, bytes: u64) {
        *self.shared.trip.lock().unwrap_or_else(|p| p.into_inner()) = Some(Trip {
            dir,
            remaining: bytes.max(1),
            freeze: true,
        });
    }

    /// Whether a freeze set by [`Proxy::freeze_after`] has happened.
    pub fn is_frozen(&self) -> bool {
        self.shared.frozen.load(Ordering::SeqCst)
    }

    /// Ends a freeze (or disarms one that has not happened): the frozen connections are
    /// dropped, as by a cut, and the link is up again.
    pub fn thaw(&self) {
        self.disarm();
        self.shared.cut();
        self.shared.frozen.store(false, Ordering::SeqCst);
        self.restore();
    }

    /// Disarms a trip set by [`Proxy::cut_after`] that has not fired.
    pub fn disarm(&self) {
        *self.shared.trip.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub fn is_cut(&self) -> bool {
        self.shared.cut.load(Ordering::SeqCst)
    }

    /// Holds every forwarded chunk (either direction) for `d` before passing it on.
    pub fn set_delay(&self, d: Duration) {
        self.shared
            .delay_us
            .store(d.as_micros() as u64, Ordering::SeqCst);
    }

    pub fn stats(&self) -> ProxyStats {
        let s = &self.shared;
        ProxyStats {
            accepted: s.accepted.load(Ordering::SeqCst),
            refused: s.refused.load(Ordering::SeqCst),
            linked: s.linked.load(Ordering::SeqCst),
            bytes_up: s.bytes_up.load(Ordering::SeqCst),
            bytes_down: s.bytes_down.load(Ordering::SeqCst),
            trips: s.trips.load(Ordering::SeqCst),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<ProxyShared>) {
    loop {
        let (client, _) = match listener.accept().await {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(connection(client, shared.clone()));
    }
}

async fn connection(client: TcpStream, shared: Arc<ProxyShared>) {
    // Subscribe before looking at the flag, so a cut racing with this connection is never missed.
    // (A new receiver has already seen the current epoch.)
    let mut epoch = shared.epoch.subscribe();
    if shared.cut.load(Ordering::SeqCst) {
        shared.refused.fetch_add(1, Ordering::SeqCst);
        drop(client);
        return;
    }
    let upstream_addr =
        SocketAddr::from(([127, 0, 0, 1], shared.upstream_port.load(Ordering::SeqCst)));
    let upstream = tokio::select! {
        r = TcpStream::connect(upstream_addr) => r,
        _ = epoch.changed() => {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            return;
        }
    };
    let upstream = match upstream {
        Ok(u) => u,
        Err(_) => {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            return;
        }
    };
    shared.linked.fetch_add(1, Ordering::SeqCst);
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (ur, uw) = upstream.into_split();
    let both = async {
        tokio::try_join!(
            pump(cr, uw, Direction::Up, &shared),
            pump(ur, cw, Direction::Down, &shared)
        )
        .map(|_| ())
    };
    tokio::select! {
        _ = both => {}
        // A cut: drop both sockets mid-stream.
        _ = epoch.changed() => {}
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    dir: Direction,
    shared: &ProxyShared,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            let _ = to.shutdown().await;
            return Ok(());
        }
        let d = shared.delay();
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
        if shared.trips(dir, n as u64) == Some(Fault::Cut) {
            // The connection's own watch on the epoch closes both sockets.
            return Err(std::io::ErrorKind::ConnectionAborted.into());
        }
        if shared.frozen.load(Ordering::SeqCst) {
            // Frozen: hold this chunk until the connection is dropped by `thaw()`.
            std::future::pending::<()>().await;
        }
        to.write_all(&buf[..n]).await?;
        match dir {
            Direction::Up => &shared.bytes_up,
            Direction::Down => &shared.bytes_down,
        }
        .fetch_add(n as u64, Ordering::SeqCst);
    }
}
