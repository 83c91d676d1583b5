//! The server of the local control sockets through which commands reach a running
//! `civreg-hub serve` (`DATA_DIR/hub.sock`) or `civreg-node serve` (`DATA_DIR/node.sock`).
//!
//! One server for both, generic over what it serves ([`Service`]: the request type it reads,
//! the answer type it sends, both serde). The frames are `civreg_shared::control`'s. A
//! conversation:
//! - the client sends `Frame::Request`; the server reads it whole before answering anything (a
//!   refusal included), within [`REQUEST_WAIT`];
//! - the server refuses it with `Frame::Error` (a peer under another uid, another protocol
//!   version, a request it cannot parse) and closes: nothing ran; or
//! - it sends `Frame::Started`: from then on the request may have taken effect, and it runs
//!   exactly once, whatever the client does (a client that goes away sees its command
//!   `cancelled`, which the command may heed). Its output, questions and reads of standard input
//!   travel as frames ([`Conversation`]), and it ends with `Frame::Exit`, `Frame::Reply` (in
//!   parts when large) or `Frame::Error` ([`Ending`]).
//!
//! A client that meets a closed socket before `Started` knows nothing ran; after it, that the
//! request may or may not have taken effect. [`Server::stop`] stops taking requests, removes the
//! socket and lets those under way finish within a grace period.
//!
//! The socket is bound 0600 under a temporary name and renamed into place ([`bind_private`]),
//! and only peers running under the server's uid are served.

use civreg_shared::control::{
    read_frame, write_data, write_frame, write_reply, Frame, FrameError, CHUNK, MAX_HEADER,
    PROTOCOL,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tracing::{debug, info, warn};

/// How long a client may take to send its request once connected.
pub const REQUEST_WAIT: Duration = Duration::from_secs(10);
/// Longest error message sent back (the rest is cut).
const MAX_ERROR_BYTES: usize = MAX_HEADER / 2;
/// Longest request text written to the debug log.
const MAX_LOGGED_REQUEST_CHARS: usize = 2_000;

/// What a control socket serves: one request at a time per connection, on a blocking thread of
/// the serving process.
pub trait Service: Send + Sync + 'static {
    /// What a client asks (`Frame::Request`'s body). Its `Debug` text is logged (redacted).
    type Request: DeserializeOwned + std::fmt::Debug + Send;
    /// What the service answers (`Frame::Reply`'s body).
    type Answer: Serialize;

    /// Runs one request, after `Started` was sent.
    fn run(&self, request: Self::Request, conv: &Conversation) -> Ending<Self::Answer>;
}

/// How a request ended: its last frame.
#[derive(Debug)]
pub enum Ending<A> {
    /// `Frame::Reply` with the answer (parts and `Frame::ReplyEnd` when it is large).
    Reply(A),
    /// `Frame::Error`: the request failed, and the message says why (cut when very long).
    Failed(String),
    /// `Frame::Exit` with a command's exit code.
    Exit(i32),
}

/// Where the serving program's messages name it: `civreg-hub` or `civreg-node`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The socket's path (`DATA_DIR/hub.sock`).
    pub socket: PathBuf,
    /// The program, as refusals name it (`civreg-hub`).
    pub program: &'static str,
    /// How long [`Server::stop`] lets requests under way finish.
    pub grace: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("could not create the control socket {path}: {source}{hint}")]
pub struct BindError {
    pub path: PathBuf,
    pub source: std::io::Error,
    /// What to do about it, starting with a space (or empty).
    pub hint: &'static str,
}

/// An error of one conversation, as the command running in it sees it.
#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error("the client went away before answering")]
    Lost,
    #[error("the client answered something the server does not understand ({0})")]
    Protocol(String),
    #[error(transparent)]
    Frame(#[from] FrameError),
}

/// Binds a control socket at `path` that no other user can reach: it is bound under the
/// temporary name `tmp`, made 0600, then renamed into place, so it is never reachable with wider
/// permissions. Returns the listener and the socket file's metadata: its owner is the uid this
/// process runs as (what peers are checked against), and (dev, inode) name the file it made.
pub fn bind_private(
    path: &Path,
    tmp: &Path,
) -> std::io::Result<(std::os::unix::net::UnixListener, std::fs::Metadata)> {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::remove_file(tmp);
    let listener = std::os::unix::net::UnixListener::bind(tmp)?;
    let placed = std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(0o600))
        .and_then(|_| std::fs::metadata(tmp))
        .and_then(|m| std::fs::rename(tmp, path).map(|_| m));
    match placed {
        Ok(meta) => Ok((listener, meta)),
        Err(e) => {
            let _ = std::fs::remove_file(tmp);
            Err(e)
        }
    }
}

/// Whether a server answers on `socket`. A socket file left by one that is gone (connection
/// refused) is removed, so that a new server can bind it.
pub fn already_serving(socket: &Path) -> std::io::Result<bool> {
    match UnixStream::connect(socket) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            info!(path = %socket.display(), "removing the control socket of a server that is gone");
            match std::fs::remove_file(socket) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(false),
            }
        }
        Err(_) => Ok(false),
    }
}

/// A control socket's listener, serving until [`Server::stop`].
pub struct Server {
    path: PathBuf,
    /// (device, inode) of the socket file this server made, so it never removes another's.
    file: (u64, u64),
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Binds `config.socket` (0600) and serves `service` on it. Call inside a tokio runtime.
    pub fn start<S: Service>(config: Config, service: Arc<S>) -> Result<Server, BindError> {
        let path = config.socket.clone();
        let bind_err = |source: std::io::Error| BindError {
            path: path.clone(),
            hint: if source.kind() == std::io::ErrorKind::InvalidInput {
                " (a Unix socket's path may hold at most 107 bytes: use a shorter --data-dir)"
            } else {
                " (serve needs to create it: check that the data directory is writable by the user running serve)"
            },
            source,
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!("{name}.{}.tmp", std::process::id()));
        let (listener, meta) = bind_private(&path, &tmp).map_err(bind_err)?;
        // The file was made by this process, so its owner is the uid this process runs as.
        let uid = meta.uid();
        let listener = listener
            .set_nonblocking(true)
            .and_then(|()| tokio::net::UnixListener::from_std(listener))
            .map_err(|source| BindError {
                path: path.clone(),
                source,
                hint: "",
            })?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, service, config, uid, stopped));
        Ok(Server {
            path,
            file: (meta.dev(), meta.ino()),
            stop,
            task: Some(task),
        })
    }

    /// Stops taking requests (the socket is removed at once) and lets those under way finish,
    /// for the configured grace period at most.
    pub async fn stop(mut self) {
        self.remove_file();
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    fn remove_file(&self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .map(|m| (m.dev(), m.ino()) == self.file)
            .unwrap_or(false);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Drop for Server {
    /// Stops taking requests; those under way run on (nothing waits for them).
    fn drop(&mut self) {
        self.remove_file();
        let _ = self.stop.send(true);
    }
}

async fn accept_loop<S: Service>(
    listener: tokio::net::UnixListener,
    service: Arc<S>,
    config: Config,
    uid: u32,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let config = Arc::new(config);
    let mut running = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    running.spawn(connection(stream, service.clone(), config.clone(), uid));
                }
                Err(e) => {
                    warn!(error = %e, "control socket: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = running.join_next(), if !running.is_empty() => {}
        }
    }
    drop(listener);
    let finished = tokio::time::timeout(config.grace, async {
        while running.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        warn!(
            still_running = running.len(),
            "requests from the control socket still running when serve stopped"
        );
    }
}

async fn connection<S: Service>(
    stream: tokio::net::UnixStream,
    service: Arc<S>,
    config: Arc<Config>,
    uid: u32,
) {
    let peer = stream.peer_cred();
    let same_user = peer.as_ref().is_ok_and(|c| c.uid() == uid);
    if !same_user {
        warn!(peer = ?peer, "control socket: refused a connection from another user");
    }
    let stream = match stream.into_std().and_then(|s| {
        s.set_nonblocking(false)?;
        Ok(s)
    }) {
        Ok(s) => s,
        Err(e) => {
            warn!(error = %e, "control socket: could not take the connection");
            return;
        }
    };
    let ran = tokio::task::spawn_blocking(move || {
        if let Err(e) = converse(stream, &*service, &config, same_user, uid) {
            debug!(error = %e, "control connection ended early");
        }
    })
    .await;
    if let Err(e) = ran {
        warn!(error = %e, "a request from the control socket panicked");
    }
}

/// One conversation: request, `Started`, run, last frame.
fn converse<S: Service>(
    stream: UnixStream,
    service: &S,
    config: &Config,
    same_user: bool,
    uid: u32,
) -> Result<(), FrameError> {
    let program = config.program;
    let mut writer = stream.try_clone()?;
    let refuse =
        |w: &mut UnixStream, message: String| write_frame(w, &Frame::Error { message }, &[]);
    stream.set_read_timeout(Some(REQUEST_WAIT))?;
    let mut reader = BufReader::new(stream);
    // The request is read before any answer, a refusal included: the client writes it whole
    // first and must not meet a socket closed under it.
    let first = read_frame(&mut reader);
    if !same_user {
        return refuse(
            &mut writer,
            format!("only the user running `{program} serve` may use its control socket"),
        );
    }
    let request = match first {
        Ok(Some((Frame::Request { v, body }, _))) => {
            if v != PROTOCOL {
                return refuse(
                    &mut writer,
                    format!("this {program} serve speaks control protocol {PROTOCOL} and the command {v}: run commands with the same {program} version as serve"),
                );
            }
            match serde_json::from_value::<S::Request>(body) {
                Ok(r) => r,
                Err(e) => {
                    return refuse(
                        &mut writer,
                        format!("the running {program} serve does not understand this command ({e}): run commands with the same {program} version as serve"),
                    )
                }
            }
        }
        Ok(Some(_)) => return refuse(&mut writer, "expected a request".into()),
        Ok(None) => return Ok(()),
        Err(e @ FrameError::TooLarge { .. }) => {
            return refuse(
                &mut writer,
                format!("{e}: put the data in a file and give its path"),
            )
        }
        Err(e) => return Err(e),
    };
    reader.get_ref().set_read_timeout(None)?;
    write_frame(&mut writer, &Frame::Started, &[])?;
    // A search's text may hold a personal number: the request is logged without any.
    debug!(
        request = %civreg_shared::redact::for_log(&format!("{request:?}"), MAX_LOGGED_REQUEST_CHARS),
        "request from the control socket"
    );

    // Everything the client sends from now on answers a question or a read; a thread takes it
    // off the socket so that the client's going away is seen at once (`cancelled`).
    let cancelled = Arc::new(AtomicBool::new(false));
    let (tx, incoming) = mpsc::sync_channel::<(Frame, Vec<u8>)>(4);
    {
        let cancelled = cancelled.clone();
        std::thread::Builder::new()
            .name("civreg-control-read".into())
            .spawn(move || {
                while let Ok(Some(f)) = read_frame(&mut reader) {
                    if tx.send(f).is_err() {
                        return;
                    }
                }
                cancelled.store(true, Ordering::Relaxed);
            })?;
    }
    let shutdown = writer.try_clone()?;
    let conv = Conversation {
        conn: Rc::new(RefCell::new(Conn { writer, incoming })),
        cancelled,
        peer_uid: uid,
    };
    let ending = service.run(request, &conv);
    let mut conn = conv.conn.borrow_mut();
    let writer = &mut conn.writer;
    let sent = match ending {
        Ending::Exit(code) => write_frame(writer, &Frame::Exit { code }, &[]),
        Ending::Reply(answer) => match serde_json::to_value(&answer) {
            // Any size: sent in parts when it does not fit in one frame.
            Ok(body) => write_reply(writer, &body),
            Err(e) => write_frame(
                writer,
                &Frame::Error {
                    message: format!("the answer could not be encoded ({e}): report this"),
                },
                &[],
            ),
        },
        Ending::Failed(mut message) => {
            // An error message always fits in a frame.
            if message.len() > MAX_ERROR_BYTES {
                let mut cut = MAX_ERROR_BYTES;
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                message.truncate(cut);
                message.push_str(" …");
            }
            write_frame(writer, &Frame::Error { message }, &[])
        }
    };
    // Ends the reading thread too.
    let _ = shutdown.shutdown(std::net::Shutdown::Both);
    sent
}

/// The server's end of one conversation, shared by the request's streams and questions (all on
/// its thread).
struct Conn {
    writer: UnixStream,
    incoming: mpsc::Receiver<(Frame, Vec<u8>)>,
}

impl Conn {
    /// Sends `frame` and waits for the client's answer.
    fn exchange(&mut self, frame: &Frame) -> Result<(Frame, Vec<u8>), ConversationError> {
        write_frame(&mut self.writer, frame, &[])?;
        self.incoming.recv().map_err(|_| ConversationError::Lost)
    }
}

/// A running request's side of its conversation with the client: its standard output and
/// error, its standard input, its questions, and whether the client went away.
pub struct Conversation {
    conn: Rc<RefCell<Conn>>,
    cancelled: Arc<AtomicBool>,
    /// The client's uid (SO_PEERCRED): only peers under the server's own uid are served.
    peer_uid: u32,
}

impl Conversation {
    /// The request's standard output: each write becomes `Frame::Stdout` chunks.
    pub fn stdout(&self) -> FrameOut {
        FrameOut {
            conn: self.conn.clone(),
            stderr: false,
        }
    }

    /// The request's standard error (progress, warnings): `Frame::Stderr` chunks. A client
    /// that went away does not stop the request: writes fail, and it runs on.
    pub fn stderr(&self) -> FrameOut {
        FrameOut {
            conn: self.conn.clone(),
            stderr: true,
        }
    }

    /// The client's standard input, read a chunk at a time (`Frame::Read`) when the request reads.
    pub fn stdin(&self) -> RemoteStdin {
        RemoteStdin {
            conn: self.conn.clone(),
            buf: Vec::new(),
            pos: 0,
            eof: false,
        }
    }

    /// Asks the client something only it has (a clerk's credentials): `Frame::Ask`, answered
    /// by `Frame::Answer`.
    pub fn asker(&self) -> Asker {
        Asker {
            conn: self.conn.clone(),
        }
    }

    /// The Unix uid the client runs under (checked with SO_PEERCRED when it connected).
    pub fn peer_uid(&self) -> u32 {
        self.peer_uid
    }

    /// Set when the client has gone away.
    pub fn cancelled(&self) -> Arc<AtomicBool> {
        self.cancelled.clone()
    }
}

fn io_error(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Standard output or error of a request: each write becomes a data frame.
pub struct FrameOut {
    conn: Rc<RefCell<Conn>>,
    stderr: bool,
}

impl Write for FrameOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(CHUNK);
        write_data(&mut self.conn.borrow_mut().writer, self.stderr, &buf[..n]).map_err(io_error)?;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Standard input of a request: read from the client, a chunk at a time, when it reads.
pub struct RemoteStdin {
    conn: Rc<RefCell<Conn>>,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl Read for RemoteStdin {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            if self.eof || out.is_empty() {
                return Ok(0);
            }
            let answer = self
                .conn
                .borrow_mut()
                .exchange(&Frame::Read { max: CHUNK })
                .map_err(io_error)?;
            match answer {
                (Frame::Stdin { .. }, data) => {
                    self.eof = data.is_empty();
                    self.buf = data;
                    self.pos = 0;
                }
                (other, _) => {
                    return Err(io_error(ConversationError::Protocol(format!(
                        "an unexpected {} message",
                        other.name()
                    ))));
                }
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Questions to the client ([`Conversation::asker`]).
pub struct Asker {
    conn: Rc<RefCell<Conn>>,
}

impl Asker {
    /// Sends `question` and waits for the client's answer.
    pub fn ask<Q: Serialize, A: DeserializeOwned>(
        &mut self,
        question: &Q,
    ) -> Result<A, ConversationError> {
        let body = serde_json::to_value(question)
            .map_err(|e| ConversationError::Protocol(e.to_string()))?;
        match self.conn.borrow_mut().exchange(&Frame::Ask { body })? {
            (Frame::Answer { body }, _) => {
                serde_json::from_value(body).map_err(|e| ConversationError::Protocol(e.to_string()))
            }
            (other, _) => Err(ConversationError::Protocol(format!(
                "an unexpected {} message",
                other.name()
            ))),
        }
    }
}
