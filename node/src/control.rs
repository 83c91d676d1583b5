//! The node's control socket: how every other command reaches a running `civreg-node serve`.
//!
//! sled lets one process open a database, and `serve` keeps it open for its whole life. So
//! `serve` listens on `DATA_DIR/node.sock` (mode 0600, and it serves only connections whose
//! peer runs under its own uid), and a command that finds it there hands itself over: the
//! parsed command, the client's working directory and `--json` go in one request, the command
//! runs inside `serve` with the same code ([`crate::cli::execute`]) against the open node, and
//! its standard output and error, its questions (a clerk's credentials, asked and answered on
//! the client's side) and its reads of standard input travel as frames
//! ([`civreg_shared::control`]) until the exit code. The user sees the same output, messages
//! and exit code as when the command opens the database itself.
//!
//! A command runs in its own blocking thread; the node serialises writes itself
//! (`Node::write`), so a registration never waits for the sync worker's network calls.
//!
//! When nothing answers on the socket (no `serve`, or one that was killed and left the file
//! behind), commands open the database directly, as before.

use crate::cli::{self, Ask, Command, Ctx, Io, Progress};
use crate::node::{Node, Paths};
use crate::worker::Live;
use civreg_shared::control::{read_frame, write_data, write_frame, Frame, FrameError, PROTOCOL};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::io::{BufReader, LineWriter, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tracing::{debug, info, warn};

pub use civreg_shared::control::CHUNK;

/// The socket's file name in the data dir.
pub const SOCKET: &str = "node.sock";
/// How long a client may take to send its request once connected.
const REQUEST_WAIT: Duration = Duration::from_secs(10);
/// How long `serve` lets commands under way finish when it stops.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The node is shared by the sync worker and every command's thread.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Node>();
};

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET)
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("another `civreg-node serve` is already running for {data_dir} (it answers on {socket}): stop it first, or use it as it is")]
    AlreadyServing { data_dir: PathBuf, socket: PathBuf },
    #[error("could not create the control socket {path}: {source}{hint}")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
        hint: &'static str,
    },
    #[error(
        "{path}: permission denied: run the command as the user that runs `civreg-node serve`"
    )]
    NoAccess { path: PathBuf },
    #[error("the command is too large to hand to the running `civreg-node serve` (a request may hold at most {} bytes): put the data in a file", civreg_shared::control::MAX_HEADER)]
    RequestTooLarge,
    #[error("{0}")]
    Refused(String),
    #[error("the running `civreg-node serve` stopped before the command finished, so it may or may not have taken effect: check (e.g. with `civreg-node show` or `search`) before running it again")]
    Lost,
    #[error("the running `civreg-node serve` answered something this command does not understand ({0}): run commands with the same civreg-node version as serve")]
    Protocol(String),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What a client hands to `serve`: the parsed command and what the command needs of the
/// client's side.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub json: bool,
    pub command: Command,
    /// The client's working directory: relative paths in the command are relative to it.
    pub cwd: PathBuf,
    /// The client's standard error is a terminal (and not `--json`): `import` reports progress
    /// in plain lines.
    pub progress: bool,
}

/// A question the command asks the client ([`Frame::Ask`]).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Question {
    Clerk,
    NewPassword { name: String },
}

/// The client's answer ([`Frame::Answer`]). Not `Debug`: it holds passwords.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Answer {
    Clerk {
        name: String,
        password: String,
    },
    NewPassword {
        password: String,
    },
    /// The client could not answer (no terminal, passwords differ): the command fails with it.
    Failed {
        message: String,
    },
}

// ---- client ------------------------------------------------------------------------------

/// Whether a `serve` answers on the data dir's socket.
pub enum Reach {
    Serving(UnixStream),
    /// No socket, or one left by a `serve` that is gone (connection refused).
    Absent,
}

pub fn reach(data_dir: &Path) -> Result<Reach, ControlError> {
    let path = socket_path(data_dir);
    match UnixStream::connect(&path) {
        Ok(s) => Ok(Reach::Serving(s)),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            Err(ControlError::NoAccess { path })
        }
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                debug!(path = %path.display(), error = %e, "no serve answers on the control socket");
            }
            Ok(Reach::Absent)
        }
    }
}

/// How a command handed to `serve` ended.
pub enum Remote {
    /// It ran, with this exit code.
    Exit(i32),
    /// `serve` went away before taking it (it was stopping): nothing ran, run it directly.
    NotStarted,
}

/// Hands `request` to the `serve` at the other end of `stream` and relays the command's output,
/// questions and input until it exits.
pub fn run_remote(
    stream: UnixStream,
    request: &Request,
    ask: &mut dyn Ask,
) -> Result<Remote, ControlError> {
    let body = serde_json::to_value(request).map_err(|e| ControlError::Protocol(e.to_string()))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    match write_frame(&mut writer, &Frame::Request { v: PROTOCOL, body }, &[]) {
        // A serve that refused at once may have said why before closing.
        Ok(()) | Err(FrameError::Io(_)) => {}
        Err(FrameError::TooLarge { .. }) => return Err(ControlError::RequestTooLarge),
        Err(e) => return Err(e.into()),
    }
    match read_frame(&mut reader) {
        Ok(Some((Frame::Started, _))) => {}
        Ok(Some((Frame::Error { message }, _))) => return Err(ControlError::Refused(message)),
        Ok(Some((other, _))) => {
            return Err(ControlError::Protocol(format!(
                "an unexpected {} message",
                other.name()
            )))
        }
        Ok(None) | Err(FrameError::Truncated | FrameError::Io(_)) => return Ok(Remote::NotStarted),
        Err(e) => return Err(e.into()),
    }
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    loop {
        let (frame, data) = match read_frame(&mut reader) {
            Ok(Some(f)) => f,
            Ok(None) | Err(FrameError::Truncated | FrameError::Io(_)) => {
                return Err(ControlError::Lost)
            }
            Err(e) => return Err(e.into()),
        };
        match frame {
            Frame::Stdout { .. } => {
                let mut o = stdout.lock();
                o.write_all(&data)?;
                o.flush()?;
            }
            Frame::Stderr { .. } => {
                let mut e = stderr.lock();
                e.write_all(&data)?;
                e.flush()?;
            }
            Frame::Ask { body } => {
                let answer = match serde_json::from_value::<Question>(body) {
                    Ok(Question::Clerk) => match ask.clerk() {
                        Ok((name, password)) => Answer::Clerk { name, password },
                        Err(e) => Answer::Failed {
                            message: format!("{e:#}"),
                        },
                    },
                    Ok(Question::NewPassword { name }) => match ask.new_password(&name) {
                        Ok(password) => Answer::NewPassword { password },
                        Err(e) => Answer::Failed {
                            message: format!("{e:#}"),
                        },
                    },
                    Err(e) => return Err(ControlError::Protocol(e.to_string())),
                };
                let body = serde_json::to_value(answer)
                    .map_err(|e| ControlError::Protocol(e.to_string()))?;
                write_frame(&mut writer, &Frame::Answer { body }, &[])?;
            }
            Frame::Read { max } => {
                let mut buf = vec![0; max.clamp(1, CHUNK)];
                let n = loop {
                    match std::io::stdin().lock().read(&mut buf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        // As far as the command is concerned, unreadable input ends there.
                        Err(_) => break 0,
                    }
                };
                write_frame(&mut writer, &Frame::Stdin { len: n }, &buf[..n])?;
            }
            Frame::Exit { code } => return Ok(Remote::Exit(code)),
            other => {
                return Err(ControlError::Protocol(format!(
                    "an unexpected {} message",
                    other.name()
                )))
            }
        }
    }
}

// ---- server ------------------------------------------------------------------------------

/// What commands run against inside `serve`.
pub struct Served {
    pub node: Arc<Node>,
    pub paths: Paths,
    pub live: Arc<Live>,
    /// The serving runtime, for commands that talk to the hub (`sync --once`).
    pub runtime: tokio::runtime::Handle,
}

/// Refuses to start a second `serve`, and removes a socket left by one that was killed.
pub fn refuse_if_serving(data_dir: &Path) -> Result<(), ControlError> {
    let path = socket_path(data_dir);
    match UnixStream::connect(&path) {
        Ok(_) => Err(ControlError::AlreadyServing {
            data_dir: data_dir.to_path_buf(),
            socket: path,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            info!(path = %path.display(), "removing the control socket of a serve that is gone");
            std::fs::remove_file(&path).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            })?;
            Ok(())
        }
        Err(_) => Ok(()),
    }
}

/// The control socket's listener, running until [`Server::stop`].
pub struct Server {
    path: PathBuf,
    /// (device, inode) of the socket file this server made, so it never removes another's.
    file: (u64, u64),
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Binds `DATA_DIR/node.sock` (0600) and serves it. Call inside the serving runtime.
    pub fn start(served: Arc<Served>) -> Result<Server, ControlError> {
        let path = socket_path(&served.paths.data_dir);
        let bind_err = |source: std::io::Error| ControlError::Bind {
            path: path.clone(),
            hint: if source.kind() == std::io::ErrorKind::InvalidInput {
                " (a Unix socket's path may hold at most 107 bytes: use a shorter --data-dir)"
            } else {
                " (serve needs to create it: check that the data directory is writable by the user running serve)"
            },
            source,
        };
        // Bound under a temporary name, made private, then renamed into place.
        let tmp = served
            .paths
            .data_dir
            .join(format!("{SOCKET}.{}.tmp", std::process::id()));
        let (listener, meta) =
            civreg_shared::control::bind_private(&path, &tmp).map_err(bind_err)?;
        // The file was made by this process, so its owner is the uid this process runs as.
        let uid = meta.uid();
        listener.set_nonblocking(true)?;
        let listener = tokio::net::UnixListener::from_std(listener)?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, served, uid, stopped));
        info!(socket = %path.display(), "commands reach this node through its control socket");
        Ok(Server {
            path,
            file: (meta.dev(), meta.ino()),
            stop,
            task: Some(task),
        })
    }

    /// Stops taking commands (new ones open the database directly once `serve` has exited)
    /// and lets those under way finish, for a few seconds at most.
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
    fn drop(&mut self) {
        self.remove_file();
    }
}

async fn accept_loop(
    listener: tokio::net::UnixListener,
    served: Arc<Served>,
    uid: u32,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let mut commands = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    commands.spawn(connection(stream, served.clone(), uid));
                }
                Err(e) => {
                    warn!(error = %e, "control socket: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = commands.join_next(), if !commands.is_empty() => {}
        }
    }
    drop(listener);
    let finished = tokio::time::timeout(STOP_GRACE, async {
        while commands.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        warn!(
            still_running = commands.len(),
            "commands still running when serve stopped"
        );
    }
}

async fn connection(stream: tokio::net::UnixStream, served: Arc<Served>, uid: u32) {
    let peer = stream.peer_cred();
    let same_user = match &peer {
        Ok(c) => c.uid() == uid,
        Err(_) => false,
    };
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
        if let Err(e) = converse(stream, &served, same_user) {
            debug!(error = %e, "control connection ended early");
        }
    })
    .await;
    if let Err(e) = ran {
        warn!(error = %e, "a command inside serve panicked");
    }
}

/// One command: request, run, relay, exit code.
fn converse(stream: UnixStream, served: &Served, same_user: bool) -> Result<(), ControlError> {
    let mut writer = stream.try_clone()?;
    let refuse = |w: &mut UnixStream, message: String| -> Result<(), ControlError> {
        write_frame(w, &Frame::Error { message }, &[])?;
        Ok(())
    };
    stream.set_read_timeout(Some(REQUEST_WAIT))?;
    let mut reader = BufReader::new(stream);
    // The request is read before any answer, a refusal included: the client writes it whole
    // first and must not meet a socket closed under it.
    let first = read_frame(&mut reader);
    if !same_user {
        return refuse(
            &mut writer,
            "only the user running `civreg-node serve` may use its control socket".into(),
        );
    }
    let request = match first {
        Ok(Some((Frame::Request { v, body }, _))) => {
            if v != PROTOCOL {
                return refuse(
                    &mut writer,
                    format!("this civreg-node serve speaks control protocol {PROTOCOL} and the command {v}: run commands with the same civreg-node version as serve"),
                );
            }
            match serde_json::from_value::<Request>(body) {
                Ok(r) => r,
                Err(e) => {
                    return refuse(
                        &mut writer,
                        format!("the running civreg-node serve does not understand this command ({e}): run commands with the same civreg-node version as serve"),
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
        Err(e) => return Err(e.into()),
    };
    reader.get_ref().set_read_timeout(None)?;
    write_frame(&mut writer, &Frame::Started, &[])?;
    // A search's text may hold a personal number: the command is logged without any.
    debug!(
        command = %civreg_shared::redact::for_log(&format!("{:?}", request.command), 2_000),
        "command from the control socket"
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
    let conn = Rc::new(RefCell::new(Conn { writer, incoming }));
    let code = {
        let mut out = LineWriter::new(FrameOut {
            conn: conn.clone(),
            stderr: false,
        });
        let mut err = FrameOut {
            conn: conn.clone(),
            stderr: true,
        };
        let mut stdin = RemoteStdin {
            conn: conn.clone(),
            buf: Vec::new(),
            pos: 0,
            eof: false,
        };
        let mut ask = RemoteAsk { conn: conn.clone() };
        let ctx = Ctx {
            paths: &served.paths,
            json: request.json,
            served: Some(served),
        };
        let mut io = Io {
            out: &mut out,
            err: &mut err,
            stdin: &mut stdin,
            ask: &mut ask,
            progress: if request.progress {
                Progress::Lines
            } else {
                Progress::Off
            },
            cwd: Some(&request.cwd),
            cancelled: Some(cancelled),
        };
        let code = cli::execute_reporting(request.command, &ctx, Ok(&served.node), &mut io);
        out.flush()?;
        code
    };
    write_frame(&mut conn.borrow_mut().writer, &Frame::Exit { code }, &[])?;
    // Ends the reading thread too.
    let _ = shutdown.shutdown(std::net::Shutdown::Both);
    Ok(())
}

/// The server's end of one conversation, shared by the command's streams and questions (all on
/// the command's thread).
struct Conn {
    writer: UnixStream,
    incoming: mpsc::Receiver<(Frame, Vec<u8>)>,
}

impl Conn {
    /// Sends `frame` and waits for the client's answer.
    fn exchange(&mut self, frame: &Frame) -> Result<(Frame, Vec<u8>), ControlError> {
        write_frame(&mut self.writer, frame, &[])?;
        self.incoming.recv().map_err(|_| ControlError::Lost)
    }
}

fn io_error(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Standard output or error of a command inside `serve`: each write becomes a data frame.
struct FrameOut {
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

/// Standard input of a command inside `serve`: read from the client, a chunk at a time, when
/// the command reads.
struct RemoteStdin {
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
                    return Err(io_error(ControlError::Protocol(format!(
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

/// Credentials asked of the person at the client's terminal (or its environment).
struct RemoteAsk {
    conn: Rc<RefCell<Conn>>,
}

impl RemoteAsk {
    fn ask(&mut self, q: Question) -> anyhow::Result<Answer> {
        let body = serde_json::to_value(q)?;
        match self.conn.borrow_mut().exchange(&Frame::Ask { body })? {
            (Frame::Answer { body }, _) => match serde_json::from_value(body)? {
                Answer::Failed { message } => Err(anyhow::anyhow!(message)),
                a => Ok(a),
            },
            (other, _) => Err(ControlError::Protocol(format!(
                "an unexpected {} message",
                other.name()
            ))
            .into()),
        }
    }
}

impl Ask for RemoteAsk {
    fn clerk(&mut self) -> anyhow::Result<(String, String)> {
        match self.ask(Question::Clerk)? {
            Answer::Clerk { name, password } => Ok((name, password)),
            _ => Err(ControlError::Protocol("an answer to another question".into()).into()),
        }
    }

    fn new_password(&mut self, name: &str) -> anyhow::Result<String> {
        let q = Question::NewPassword {
            name: name.to_string(),
        };
        match self.ask(q)? {
            Answer::NewPassword { password } => Ok(password),
            _ => Err(ControlError::Protocol("an answer to another question".into()).into()),
        }
    }
}
