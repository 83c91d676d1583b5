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
use crate::session::{self, Sessions};
use crate::worker::Live;
use civreg_runtime::control;
use civreg_shared::control::{read_frame, write_frame, Frame, FrameError, PROTOCOL};
use civreg_shared::i18n::Lang;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::io::{BufReader, LineWriter, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, info};

pub use civreg_shared::control::CHUNK;

/// The socket's file name in the data dir.
pub const SOCKET: &str = "node.sock";
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
    /// The language of the client's text output (a tag: `sq`, `sr-Latn`, `sr-Cyrl`, `en`); the
    /// command's text is made in it here. Absent from an older client: Albanian.
    #[serde(default)]
    pub lang: String,
    /// The token of the clerk's remembered session ([`crate::session`]), when the client keeps
    /// one and no password is given in the environment.
    #[serde(default)]
    pub session: Option<SessionToken>,
}

/// A session token as the client sends it. Its `Debug` never shows it (requests are logged).
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionToken(pub String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

impl Request {
    /// The language the client asked for.
    pub fn lang(&self) -> Lang {
        Lang::from_tag(&self.lang).unwrap_or_default()
    }
}

/// A question the command asks the client ([`Frame::Ask`]).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Question {
    Clerk,
    NewPassword {
        name: String,
    },
    /// Keep this session token for the data dir (0600); `announce`: tell the clerk on standard
    /// error that they stay signed in.
    Remember {
        token: String,
        clerk: String,
        until_unix: u64,
        idle_secs: u64,
        announce: bool,
    },
    /// The token the client sent is no longer valid (or `logout`): forget it.
    Forget,
    /// Open the client's file `path` (as given; relative to the client's working directory)
    /// for reading; answered with its length.
    OpenIn {
        path: PathBuf,
    },
    /// The next chunk of the open input file (at most `max` bytes; none at its end).
    ReadIn {
        max: usize,
    },
    /// Create the client's file `path` for the command's output (`new`: refuse an existing one).
    CreateOut {
        path: PathBuf,
        new: bool,
    },
    /// Append these bytes (hex) to the output file.
    WriteOut {
        data: String,
    },
    /// Close the output file, written to disk (`keep`), or remove it (the command failed).
    CloseOut {
        keep: bool,
    },
}

/// The largest chunk of a file sent in one question or answer (hex doubles it, within
/// [`civreg_shared::control::MAX_HEADER`]).
const FILE_CHUNK: usize = 4 * CHUNK;

/// The client's answer ([`Frame::Answer`]). Not `Debug`: it holds passwords.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Answer {
    Clerk {
        name: String,
        password: String,
        /// Typed at the terminal (not from CIVREG_CLERK_PASSWORD), and the client has a
        /// private place for a token: `serve` may remember the clerk.
        #[serde(default)]
        remember: bool,
    },
    /// Done (a token kept or forgotten, a file created, written or closed).
    Done,
    /// The input file is open; this many bytes long.
    Opened {
        len: u64,
    },
    /// A chunk of the input file (hex); empty at its end.
    Data {
        data: String,
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
    data_dir: &Path,
) -> Result<Remote, ControlError> {
    let mut files = ClientFiles::default();
    let body = serde_json::to_value(request).map_err(|e| ControlError::Protocol(e.to_string()))?;
    // A question the client could not answer fails the command with this text: English for
    // `--json`, as every JSON error.
    let lang = if request.json {
        Lang::En
    } else {
        request.lang()
    };
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
                        Ok((name, password)) => Answer::Clerk {
                            name,
                            password,
                            remember: std::env::var_os("CIVREG_CLERK_PASSWORD").is_none()
                                && session::token_file(data_dir).is_some(),
                        },
                        Err(e) => Answer::Failed {
                            message: crate::clitext::error_text(lang, &e),
                        },
                    },
                    Ok(Question::NewPassword { name }) => match ask.new_password(&name) {
                        Ok(password) => Answer::NewPassword { password },
                        Err(e) => Answer::Failed {
                            message: crate::clitext::error_text(lang, &e),
                        },
                    },
                    Ok(q) => files.answer(q, data_dir, lang, request.json),
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

/// The client's side of the files a command inside `serve` reads and writes: the client opens
/// them with its own rights and in its own mount namespace, and sends or receives the bytes
/// (so `serve` under systemd's `ProtectHome`/`PrivateTmp` never needs the clerk's paths).
#[derive(Default)]
struct ClientFiles {
    input: Option<(std::fs::File, PathBuf)>,
    output: Option<(std::fs::File, PathBuf)>,
}

impl ClientFiles {
    fn answer(&mut self, q: Question, data_dir: &Path, lang: Lang, json: bool) -> Answer {
        let lang = if json { Lang::En } else { lang };
        match self.try_answer(q, data_dir, lang, json) {
            Ok(a) => a,
            Err(e) => Answer::Failed {
                message: crate::clitext::error_text(lang, &e),
            },
        }
    }

    fn try_answer(
        &mut self,
        q: Question,
        data_dir: &Path,
        lang: Lang,
        json: bool,
    ) -> anyhow::Result<Answer> {
        match q {
            Question::Clerk | Question::NewPassword { .. } => {
                Err(anyhow::anyhow!("a question asked twice"))
            }
            Question::Remember {
                token,
                clerk,
                until_unix,
                idle_secs,
                announce,
            } => {
                session::write_token(data_dir, &token)?;
                if announce && !json {
                    let until = chrono::DateTime::from_timestamp(until_unix as i64, 0)
                        .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string())
                        .unwrap_or_default();
                    eprintln!(
                        "{}",
                        crate::clitext::f(
                            lang,
                            "cli-session-remembered",
                            &[
                                ("name", clerk.as_str().into()),
                                ("minutes", idle_secs.div_ceil(60).into()),
                                ("until", until.into()),
                            ],
                        )
                    );
                }
                Ok(Answer::Done)
            }
            Question::Forget => {
                session::remove_token(data_dir);
                Ok(Answer::Done)
            }
            Question::OpenIn { path } => {
                let f = std::fs::File::open(&path).map_err(|e| cli::unreadable(&path, e))?;
                let meta = f.metadata().map_err(|e| cli::unreadable(&path, e))?;
                if meta.is_dir() {
                    let e = std::io::Error::other("it is a directory");
                    return Err(cli::unreadable(&path, e).into());
                }
                self.input = Some((f, path));
                Ok(Answer::Opened { len: meta.len() })
            }
            Question::ReadIn { max } => {
                let Some((f, path)) = self.input.as_mut() else {
                    return Err(anyhow::anyhow!("no file is open"));
                };
                let mut buf = vec![0; max.clamp(1, FILE_CHUNK)];
                let n = loop {
                    match f.read(&mut buf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(cli::unreadable(path, e).into()),
                    }
                };
                if n == 0 {
                    self.input = None;
                }
                Ok(Answer::Data {
                    data: hex::encode(&buf[..n]),
                })
            }
            Question::CreateOut { path, new } => {
                let mut o = std::fs::OpenOptions::new();
                o.write(true);
                if new {
                    o.create_new(true);
                } else {
                    o.create(true).truncate(true);
                }
                let f = o.open(&path).map_err(|e| cli::unwritable(&path, e))?;
                self.output = Some((f, path));
                Ok(Answer::Done)
            }
            Question::WriteOut { data } => {
                let Some((f, path)) = self.output.as_mut() else {
                    return Err(anyhow::anyhow!("no file is open"));
                };
                let bytes = hex::decode(data).map_err(|e| anyhow::anyhow!("{e}"))?;
                f.write_all(&bytes).map_err(|e| cli::unwritable(path, e))?;
                Ok(Answer::Done)
            }
            Question::CloseOut { keep } => {
                let Some((f, path)) = self.output.take() else {
                    return Ok(Answer::Done);
                };
                if keep {
                    f.sync_all().map_err(|e| cli::unwritable(&path, e))?;
                } else {
                    drop(f);
                    let _ = std::fs::remove_file(&path);
                }
                Ok(Answer::Done)
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
    /// Clerks remembered for a working session at the command line.
    pub sessions: Sessions,
}

/// Refuses to start a second `serve`, and removes a socket left by one that was killed.
pub fn refuse_if_serving(data_dir: &Path) -> Result<(), ControlError> {
    let path = socket_path(data_dir);
    if control::already_serving(&path)? {
        return Err(ControlError::AlreadyServing {
            data_dir: data_dir.to_path_buf(),
            socket: path,
        });
    }
    Ok(())
}

/// The control socket's listener ([`civreg_runtime::control::Server`]), running until
/// [`Server::stop`].
pub struct Server(control::Server);

impl Server {
    /// Binds `DATA_DIR/node.sock` (0600) and serves it. Call inside the serving runtime.
    pub fn start(served: Arc<Served>) -> Result<Server, ControlError> {
        let config = control::Config {
            socket: socket_path(&served.paths.data_dir),
            program: "civreg-node",
            grace: STOP_GRACE,
        };
        let socket = config.socket.clone();
        let server = control::Server::start(config, served).map_err(|e| ControlError::Bind {
            path: e.path,
            source: e.source,
            hint: e.hint,
        })?;
        info!(socket = %socket.display(), "commands reach this node through its control socket");
        Ok(Server(server))
    }

    /// Stops taking commands (new ones open the database directly once `serve` has exited)
    /// and lets those under way finish, for a few seconds at most.
    pub async fn stop(self) {
        self.0.stop().await
    }
}

/// One command inside `serve`: run with the same code as outside it, its streams, questions
/// and input relayed to the client.
impl control::Service for Served {
    type Request = Request;
    /// A command's answer is its output and exit code.
    type Answer = ();

    fn run(&self, request: Request, conv: &control::Conversation) -> control::Ending<()> {
        let mut out = LineWriter::new(conv.stdout());
        let mut err = conv.stderr();
        let mut stdin = conv.stdin();
        let mut ask = RemoteAsk {
            asker: Rc::new(RefCell::new(conv.asker())),
            sessions: &self.sessions,
            uid: conv.peer_uid(),
            token: request.session.clone().map(|t| t.0),
            typed: false,
        };
        let ctx = Ctx {
            paths: &self.paths,
            json: request.json,
            lang: request.lang(),
            served: Some(self),
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
            cancelled: Some(conv.cancelled()),
        };
        let code = cli::execute_reporting(request.command, &ctx, Ok(&self.node), &mut io);
        // A client that went away no longer reads: the exit frame fails the same way.
        let _ = out.flush();
        control::Ending::Exit(code)
    }
}

/// Credentials asked of the person at the client's terminal (or its environment), the clerk's
/// remembered session, and the client's files.
struct RemoteAsk<'a> {
    asker: Rc<RefCell<control::Asker>>,
    sessions: &'a Sessions,
    /// The client's uid (SO_PEERCRED).
    uid: u32,
    token: Option<String>,
    /// The last clerk's password was typed at the client's terminal, which can keep a token.
    typed: bool,
}

fn ask_with(asker: &RefCell<control::Asker>, q: Question) -> anyhow::Result<Answer> {
    match asker.borrow_mut().ask::<_, Answer>(&q)? {
        Answer::Failed { message } => Err(anyhow::anyhow!(message)),
        a => Ok(a),
    }
}

fn unexpected() -> anyhow::Error {
    ControlError::Protocol("an answer to another question".into()).into()
}

impl RemoteAsk<'_> {
    fn ask(&mut self, q: Question) -> anyhow::Result<Answer> {
        ask_with(&self.asker, q)
    }
}

impl Ask for RemoteAsk<'_> {
    fn clerk(&mut self) -> anyhow::Result<(String, String)> {
        match self.ask(Question::Clerk)? {
            Answer::Clerk {
                name,
                password,
                remember,
            } => {
                self.typed = remember;
                Ok((name, password))
            }
            _ => Err(unexpected()),
        }
    }

    fn new_password(&mut self, name: &str) -> anyhow::Result<String> {
        let q = Question::NewPassword {
            name: name.to_string(),
        };
        match self.ask(q)? {
            Answer::NewPassword { password } => Ok(password),
            _ => Err(unexpected()),
        }
    }

    fn remembered(&mut self) -> Option<String> {
        let token = self.token.as_deref()?;
        match self.sessions.clerk(token, self.uid) {
            Some(clerk) => Some(clerk),
            None => {
                // Ended (idle, too old, logged out, serve restarted): the client forgets it,
                // and the command asks as before.
                self.token = None;
                let _ = self.ask(Question::Forget);
                None
            }
        }
    }

    fn remember(&mut self, clerk: &str, login: bool) -> anyhow::Result<Option<cli::Remembered>> {
        if !(self.typed || login) {
            return Ok(None);
        }
        let opened = self.sessions.open(clerk, self.uid)?;
        let q = Question::Remember {
            token: opened.token.clone(),
            clerk: clerk.to_string(),
            until_unix: opened.until_unix,
            idle_secs: opened.idle_secs,
            announce: !login,
        };
        match self.ask(q) {
            Ok(_) => {
                self.token = Some(opened.token);
                Ok(Some(cli::Remembered {
                    until_unix: opened.until_unix,
                    idle_secs: opened.idle_secs,
                }))
            }
            Err(e) => {
                self.sessions.end(&opened.token, self.uid);
                if login {
                    Err(e)
                } else {
                    Ok(None)
                }
            }
        }
    }

    fn forget(&mut self) -> Option<bool> {
        let ended = self
            .token
            .take()
            .is_some_and(|t| self.sessions.end(&t, self.uid));
        let _ = self.ask(Question::Forget);
        Some(ended)
    }

    fn open_input(&mut self, path: &Path) -> anyhow::Result<Option<(Box<dyn Read>, u64)>> {
        let q = Question::OpenIn {
            path: path.to_path_buf(),
        };
        match self.ask(q)? {
            Answer::Opened { len } => Ok(Some((
                Box::new(RemoteIn {
                    asker: self.asker.clone(),
                    buf: Vec::new(),
                    pos: 0,
                    eof: false,
                }),
                len,
            ))),
            _ => Err(unexpected()),
        }
    }

    fn create_output(
        &mut self,
        path: &Path,
        new: bool,
    ) -> anyhow::Result<Option<Box<dyn cli::OutFile>>> {
        let q = Question::CreateOut {
            path: path.to_path_buf(),
            new,
        };
        match self.ask(q)? {
            Answer::Done => Ok(Some(Box::new(RemoteOut {
                asker: self.asker.clone(),
                buf: Vec::with_capacity(FILE_CHUNK),
                closed: false,
            }))),
            _ => Err(unexpected()),
        }
    }
}

/// A file of the client's, read a chunk at a time as the command reads.
struct RemoteIn {
    asker: Rc<RefCell<control::Asker>>,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl Read for RemoteIn {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            if self.eof || out.is_empty() {
                return Ok(0);
            }
            let data = match ask_with(&self.asker, Question::ReadIn { max: FILE_CHUNK }) {
                Ok(Answer::Data { data }) => hex::decode(data).map_err(std::io::Error::other)?,
                Ok(_) => return Err(std::io::Error::other(unexpected().to_string())),
                Err(e) => return Err(std::io::Error::other(e.to_string())),
            };
            self.eof = data.is_empty();
            self.buf = data;
            self.pos = 0;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A file of the client's, written by the client as the command writes; removed by the client
/// if the command ends without [`cli::OutFile::finish`].
struct RemoteOut {
    asker: Rc<RefCell<control::Asker>>,
    buf: Vec<u8>,
    closed: bool,
}

impl RemoteOut {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let data = hex::encode(&self.buf);
        self.buf.clear();
        ask_with(&self.asker, Question::WriteOut { data })
            .map(|_| ())
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

impl Write for RemoteOut {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = data.len().min(FILE_CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == FILE_CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

impl cli::OutFile for RemoteOut {
    fn finish(mut self: Box<Self>) -> anyhow::Result<()> {
        self.send()?;
        self.closed = true;
        ask_with(&self.asker, Question::CloseOut { keep: true })?;
        Ok(())
    }
}

impl Drop for RemoteOut {
    fn drop(&mut self) {
        if !self.closed {
            let _ = ask_with(&self.asker, Question::CloseOut { keep: false });
        }
    }
}
