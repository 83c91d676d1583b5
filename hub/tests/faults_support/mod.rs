//! Support for the fault-injection tests (`tests/faults.rs`): a TCP proxy that can cut, restore
//! and slow the link, real `civreg-hub` / `civreg-node` processes in throwaway directories, and
//! a seeded random source.
//!
//! Everything here is synchronous for the caller: the proxy runs on its own tokio runtime on a
//! background thread, processes are driven with `std::process`. Nothing waits with a bare sleep:
//! [`wait_until`] polls a condition against a deadline (sleeping only between polls).

#![allow(dead_code)]

use civreg_hub::store::{Head, HubStore};
use civreg_shared::op::Op;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

#[path = "../bins/mod.rs"]
mod bins;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const MUNICIPALITY: &str = "prishtine";
pub const NODE_ID: &str = "1";
pub const CLERK: &str = "ana";
pub const CLERK_PASSWORD: &str = "correct-horse-9";

// ---------------------------------------------------------------------------------------------
// Polling and randomness
// ---------------------------------------------------------------------------------------------

/// Polls `cond` every 50 ms until it yields a value; panics naming `what` after `limit`.
pub fn wait_until<T>(what: &str, limit: Duration, mut cond: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = cond() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A small deterministic generator (splitmix64): the tests print its seed, and
/// `CIVREG_FAULT_SEED` replays a run.
pub struct Rng(u64);

impl Rng {
    /// The seed from `CIVREG_FAULT_SEED`, or a fresh one; printed so a failure can be replayed.
    pub fn for_test(test: &str) -> Rng {
        let seed = match std::env::var("CIVREG_FAULT_SEED") {
            Ok(s) => s
                .trim()
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("CIVREG_FAULT_SEED={s:?} is not a whole number")),
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x5eed),
        };
        eprintln!("{test}: random seed {seed} (replay with CIVREG_FAULT_SEED={seed})");
        // Each test draws its own stream from the shared seed.
        let mut h = seed;
        for b in test.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        Rng(h)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(self.range(lo, hi))
    }

    pub fn chance(&mut self, one_in: u64) -> bool {
        self.next_u64() % one_in == 0
    }
}

// ---------------------------------------------------------------------------------------------
// The TCP proxy
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Binaries
// ---------------------------------------------------------------------------------------------

/// The `civreg-hub` binary (`CIVREG_HUB_BIN` overrides).
pub fn hub_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        bins::find_bin(
            "civreg-hub",
            "CIVREG_HUB_BIN",
            Some(env!("CARGO_BIN_EXE_civreg-hub")),
        )
    })
    .clone()
}

/// The `civreg-node` binary (`CIVREG_NODE_BIN` overrides).
pub fn node_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| bins::find_bin("civreg-node", "CIVREG_NODE_BIN", None))
        .clone()
}

/// A command's arguments, exit status and output, for assertion messages.
pub fn describe(what: &str, out: &Output) -> String {
    format!(
        "{what}: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        tail(&String::from_utf8_lossy(&out.stdout), 3000),
        tail(&String::from_utf8_lossy(&out.stderr), 3000)
    )
}

fn tail(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    let mut i = s.len() - n;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

/// The last part of a log file, for assertion messages.
pub fn log_tail(path: &Path) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    format!("--- {} ---\n{}", path.display(), tail(&s, 4000))
}

/// Waits up to `limit` for a child to exit; SIGKILLs it (and panics) if it does not.
pub fn wait_exit(child: &mut Child, what: &str, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            return st;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process that is SIGKILLed if the test fails (or forgets it) before it exits.
pub struct KillOnDrop(pub Child);

impl std::ops::Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            sigkill(&mut self.0);
        }
    }
}

/// SIGKILLs a child this test started and reaps it.
pub fn sigkill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Sends `signal` (e.g. "TERM", "INT") to a child this test started, by its pid.
pub fn signal(child: &Child, signal: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Asks a child to stop with `sig`, waits up to `limit`, then SIGKILLs it. Returns the exit
/// status if it stopped by itself.
pub fn stop_gracefully(child: &mut Child, sig: &str, limit: Duration) -> Option<ExitStatus> {
    if let Some(st) = child.try_wait().expect("try_wait") {
        return Some(st);
    }
    if signal(child, sig) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(st) = child.try_wait().expect("try_wait") {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    sigkill(child);
    None
}

fn log_file(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open log {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// The hub process
// ---------------------------------------------------------------------------------------------

/// A `civreg-hub serve` process on 127.0.0.1:(ephemeral).
pub struct HubProc {
    pub data_dir: PathBuf,
    pub port: u16,
    pub log: PathBuf,
    child: Option<Child>,
}

impl HubProc {
    /// Starts `civreg-hub serve` and waits for its `listening on` line.
    pub fn start(data_dir: &Path, log: &Path) -> HubProc {
        let mut child = Command::new(hub_bin())
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--grpc-listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file(log))
            .spawn()
            .expect("spawn civreg-hub serve");
        let stdout = child.stdout.take().expect("hub stdout");
        let (tx, rx) = std::sync::mpsc::channel::<u16>();
        std::thread::spawn(move || {
            // Reads until the hub exits, so its stdout never fills up.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    if let Some(port) = addr.rsplit(':').next().and_then(|p| p.parse().ok()) {
                        let _ = tx.send(port);
                    }
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(p) => break p,
                Err(_) => {
                    if let Some(st) = child.try_wait().expect("try_wait") {
                        panic!(
                            "civreg-hub serve exited ({st}) before listening\n{}",
                            log_tail(log)
                        );
                    }
                    if Instant::now() >= deadline {
                        sigkill(&mut child);
                        panic!(
                            "civreg-hub serve did not listen within 30 s\n{}",
                            log_tail(log)
                        );
                    }
                }
            }
        };
        HubProc {
            data_dir: data_dir.to_path_buf(),
            port,
            log: log.to_path_buf(),
            child: Some(child),
        }
    }

    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            sigkill(&mut c);
        }
    }

    /// Ctrl-C (SIGINT), which the hub handles by shutting down; SIGKILL after 20 s.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            stop_gracefully(&mut c, "INT", Duration::from_secs(20));
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().expect("try_wait").is_none(),
            None => false,
        }
    }
}

impl Drop for HubProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Opens the hub's database (the hub must be stopped), retrying briefly while the lock of a
/// just-ended process is released.
pub fn open_hub_store(hub_data_dir: &Path) -> HubStore {
    let db = civreg_hub::paths::db_dir(hub_data_dir);
    wait_until("the hub database to open", Duration::from_secs(20), || {
        HubStore::open(
            &db,
            civreg_hub::atrest::load_key(&civreg_hub::atrest::default_key_path(hub_data_dir))
                .ok()?,
        )
        .ok()
    })
}

/// What the hub holds of this test node's chain: its head and every op, in key order.
pub fn hub_chain(hub_data_dir: &Path) -> (Head, Vec<Op>) {
    let store = open_hub_store(hub_data_dir);
    let head = store.head(MUNICIPALITY, NODE_ID);
    let ops = store
        .chain_ops(MUNICIPALITY, NODE_ID)
        .expect("read the hub's copy of the chain");
    (head, ops)
}

/// Asserts the hub's copy is exactly a prefix of the node's log: ops #1..#head, each once, in
/// order, identical to the node's (same hash), and the head names the last of them.
pub fn assert_hub_prefix(head: &Head, hub_ops: &[Op], node_ops: &[Op], context: &str) {
    assert_eq!(
        hub_ops.len() as u64,
        head.seq,
        "{context}: the hub's head says #{} but it holds {} ops of the chain",
        head.seq,
        hub_ops.len()
    );
    assert!(
        hub_ops.len() <= node_ops.len(),
        "{context}: the hub holds {} ops but the node's log has only {}",
        hub_ops.len(),
        node_ops.len()
    );
    for (i, (h, n)) in hub_ops.iter().zip(node_ops).enumerate() {
        let want = i as u64 + 1;
        assert_eq!(
            h.id.seq, want,
            "{context}: the hub's op at position {want} is #{} (gap or duplicate)",
            h.id.seq
        );
        assert_eq!(
            (h.id.municipality.as_str(), h.id.node_id.as_str()),
            (MUNICIPALITY, NODE_ID),
            "{context}: op #{want} of another chain"
        );
        assert_eq!(
            h.hash, n.hash,
            "{context}: op #{want} differs between hub and node"
        );
        assert_eq!(h, n, "{context}: op #{want} differs between hub and node");
    }
    if let Some(last) = hub_ops.last() {
        assert_eq!(
            head.hash, last.hash,
            "{context}: head hash is not op #{}'s",
            head.seq
        );
    }
}

/// Asserts the hub holds every op of the node exactly once: #1..#N, N the node's log length.
pub fn assert_exactly_once(head: &Head, hub_ops: &[Op], node_ops: &[Op], context: &str) {
    assert_hub_prefix(head, hub_ops, node_ops, context);
    assert_eq!(
        hub_ops.len(),
        node_ops.len(),
        "{context}: the node's log has {} ops but the hub holds {}",
        node_ops.len(),
        hub_ops.len()
    );
}

// ---------------------------------------------------------------------------------------------
// The node process
// ---------------------------------------------------------------------------------------------

/// A `civreg-node` data directory driven through the binary, as clerk `ana`.
pub struct NodeDir {
    pub data_dir: PathBuf,
}

impl NodeDir {
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(node_bin());
        c.arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .env("CIVREG_CLERK", CLERK)
            .env("CIVREG_CLERK_PASSWORD", CLERK_PASSWORD)
            .env("CIVREG_NEW_CLERK_PASSWORD", CLERK_PASSWORD)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .output()
            .unwrap_or_else(|e| panic!("run civreg-node {args:?}: {e}"))
    }

    pub fn run_ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{}",
            describe(&format!("civreg-node {args:?}"), &out)
        );
        out
    }

    /// Runs with `input` on standard input.
    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn civreg-node {args:?}: {e}"));
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("wait civreg-node");
        let _ = writer.join();
        out
    }

    /// Starts a long-running command (serve, sync) with its output appended to `log`.
    pub fn spawn(&self, args: &[&str], log: &Path) -> KillOnDrop {
        let mut f = log_file(log);
        let _ = writeln!(f, "=== civreg-node {}", args.join(" "));
        KillOnDrop(
            self.cmd(args)
                .stdout(log_file(log))
                .stderr(f)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn civreg-node {args:?}: {e}")),
        )
    }

    /// Registers births from a stream of JSON documents; asserts each was saved and returns
    /// the registration numbers.
    pub fn register_births(&self, docs: &[serde_json::Value]) -> Vec<String> {
        let mut input = Vec::new();
        for d in docs {
            input.extend_from_slice(d.to_string().as_bytes());
            input.push(b'\n');
        }
        let out = self.run_stdin(&["--json", "register", "birth", "--file", "-"], &input);
        let what = describe("civreg-node register birth --file -", &out);
        assert!(out.status.success(), "{what}");
        let regnos: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let v: serde_json::Value =
                    serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{what}"));
                assert_eq!(v["ok"], true, "{what}");
                v["regno"].as_str().expect("regno").to_string()
            })
            .collect();
        assert_eq!(regnos.len(), docs.len(), "{what}");
        regnos
    }

    /// Imports `rows` birth rows (register entries `first..first+rows` of book `book`);
    /// asserts all were accepted.
    pub fn import_births(&self, csv_path: &Path, book: &str, first: u64, rows: u64) {
        std::fs::write(csv_path, births_csv(book, first, rows)).expect("write csv");
        let path = csv_path.to_str().expect("utf-8 path");
        let out = self.run(&["--json", "import", path]);
        let what = describe("civreg-node import", &out);
        assert!(out.status.success(), "{what}");
        let rep: serde_json::Value = serde_json::from_slice(&out.stdout).expect("import report");
        assert_eq!(
            rep["accepted"].as_array().map(Vec::len),
            Some(rows as usize),
            "{what}"
        );
    }

    /// `status --json`'s `status` object.
    pub fn status(&self) -> serde_json::Value {
        let out = self.run_ok(&["--json", "status"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("status is not JSON: {e}\n{}", describe("status", &out)));
        v["status"].clone()
    }

    pub fn status_u64(&self, field: &str) -> u64 {
        let st = self.status();
        st[field]
            .as_u64()
            .unwrap_or_else(|| panic!("status has no {field}: {st}"))
    }

    /// The node's log, from `export` (its `"type":"op"` lines).
    pub fn export_ops(&self) -> Vec<Op> {
        let out = self.run_ok(&["export"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("export line is JSON");
                (v["type"] == "op").then(|| serde_json::from_value(v).expect("export op line"))
            })
            .collect()
    }

    /// Asserts `verify` passes: the hash chain and every record check out.
    pub fn assert_verifies(&self, context: &str) {
        let out = self.run(&["--json", "verify"]);
        let what = describe(&format!("{context}: civreg-node verify"), &out);
        assert!(out.status.success(), "{what}");
        let rep: serde_json::Value = serde_json::from_slice(&out.stdout).expect("verify report");
        assert_eq!(rep["ok"], true, "{what}");
    }
}

/// A birth record document; `i` makes it distinct.
pub fn birth_doc(i: u64) -> serde_json::Value {
    const GIVEN: &[&str] = &[
        "Arben", "Besa", "Dardan", "Erza", "Fatos", "Gresa", "Ilir", "Jeta",
    ];
    let sex = if i % 2 == 0 { "male" } else { "female" };
    serde_json::json!({
        "child": {
            "given_name": GIVEN[(i % GIVEN.len() as u64) as usize],
            "surname": "Gashi",
            "sex": sex,
            "date_of_birth": format!("19{:02}-{:02}-{:02}", 50 + i % 50, 1 + i % 12, 1 + i % 28),
        },
        "place_of_birth": "Prizren",
        "mother": { "given_name": "Drita", "surname": "Gashi" }
    })
}

pub fn birth_docs(first: u64, count: u64) -> Vec<serde_json::Value> {
    (first..first + count).map(birth_doc).collect()
}

/// An import CSV of `rows` births, each a distinct register entry of `book`.
pub fn births_csv(book: &str, first: u64, rows: u64) -> String {
    let mut s = String::from(
        "kind,register.book,register.year,register.page,register.entry,child.given_name,child.surname,child.sex,child.date_of_birth,place_of_birth,mother.given_name,mother.surname\n",
    );
    for i in first..first + rows {
        s.push_str(&format!(
            "birth,{book},1968,{},{},Arben,Gashi,male,1968-03-14,Prizren,Drita,Gashi\n",
            i / 50 + 1,
            i % 50 + 1
        ));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// A whole setup: PKI, hub data dir, one enrolled node
// ---------------------------------------------------------------------------------------------

/// A throwaway PKI and hub data dir made with `civreg-hub pki`, and one node enrolled from its
/// bundle with clerk `ana`.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub hub_dir: PathBuf,
    pub node: NodeDir,
}

impl Setup {
    pub fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let hub_dir = dir.path().join("hub");
        let bundle = dir.path().join("bundle");
        let hub = |args: &[&str]| {
            let out = Command::new(hub_bin())
                .arg("--data-dir")
                .arg(&hub_dir)
                .args(args)
                .output()
                .expect("run civreg-hub");
            assert!(
                out.status.success(),
                "{}",
                describe(&format!("civreg-hub {args:?}"), &out)
            );
        };
        hub(&["pki", "init"]);
        hub(&[
            "pki",
            "issue",
            "--municipality",
            MUNICIPALITY,
            "--node-id",
            NODE_ID,
            "--out",
            bundle.to_str().expect("utf-8 path"),
            // Tests always pass --hub; this one is never dialled.
            "--hub-url",
            "https://localhost:9",
        ]);
        let node = NodeDir {
            data_dir: dir.path().join("node"),
        };
        node.run_ok(&["init", "--bundle", bundle.to_str().expect("utf-8 path")]);
        node.run_ok(&["clerk", "add", CLERK]);
        Setup { dir, hub_dir, node }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn start_hub(&self) -> HubProc {
        HubProc::start(&self.hub_dir, &self.path("hub.log"))
    }
}

impl Drop for Setup {
    /// On a failure, shows the end of every process log before the directory goes away.
    /// `CIVREG_FAULT_KEEP=1` keeps the directory (hub, node, logs) and prints where it is.
    fn drop(&mut self) {
        let root = self.dir.path().to_path_buf();
        if std::env::var_os("CIVREG_FAULT_KEEP").is_some_and(|v| v != "0") {
            let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
            eprintln!("kept the test directory {}", dir.keep().display());
        }
        if !std::thread::panicking() {
            return;
        }
        if let Ok(rd) = std::fs::read_dir(&root) {
            let mut logs: Vec<PathBuf> = rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "log"))
                .collect();
            logs.sort();
            for l in logs {
                eprintln!("{}", log_tail(&l));
            }
        }
    }
}

impl Default for Setup {
    fn default() -> Self {
        Setup::new()
    }
}
