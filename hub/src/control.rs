//! The hub's control socket: how `civreg-hub show`, `status` (and whatever is added to
//! [`Request`]) reach a running `civreg-hub serve`, which holds the sled database.
//!
//! `serve` listens on `DATA_DIR/hub.sock` (mode 0600; a connection whose peer runs under another
//! uid is refused). A command sends one [`Request`] and gets one answer, a typed [`Answer`] (as
//! its JSON) or an error message, in the frames of [`civreg_shared::control`], from the server
//! both binaries share ([`civreg_runtime::control`]): `Started` first (from then on the request
//! runs exactly once), progress as standard error, then the answer; a stopping hub lets requests
//! under way finish. The same
//! [`answer()`] answers in-process when no hub runs: the command opens the store itself and calls
//! it with a [`HubState`] of its own, so both paths give the same answer and the command
//! (`crate::cli`) renders it.
//!
//! Files: `control/request.rs` (what is asked), `control/answer.rs` (what is answered, one type
//! per request), `control/handle.rs` (the answering); this file is the socket's client and
//! server.
//!
//! Adding a command: a variant of [`Request`], its answer type in [`answer`](mod@answer) and
//! [`Answer::decode`], and its arm in `handle.rs`, which runs on a blocking thread of the
//! serving process against the live store (reads as well as writes: sled and
//! [`HubStore`](crate::store::HubStore) are safe to share between threads). The `PKI` commands
//! do not come here: they touch only files under `pki/`, and the server reads the CRL afresh for
//! each connection.

use crate::store::StoreError;
use civreg_runtime::control;
use civreg_shared::control::{read_frame, write_frame, Frame, FrameError, PROTOCOL};
use serde_json::Value;
use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tracing::info;

/// The socket's file name in the hub's data dir.
pub const SOCKET: &str = "hub.sock";

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET)
}

pub mod answer;
pub mod ask;
mod handle;
mod request;

pub use answer::Answer;
pub use handle::{answer, handle, handle_with_progress, HubState};
pub use request::Request;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Id(#[from] civreg_shared::ids::IdError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the hub holds no record {0}")]
    NoRecord(String),
    /// The running hub's answer was an error; its message as the hub gave it.
    #[error("{0}")]
    Remote(String),
    #[error("another `civreg-hub serve` already answers on {0}: stop it first")]
    AlreadyServing(PathBuf),
    #[error("could not create the control socket {path}: {source}{hint}")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
        hint: &'static str,
    },
    #[error("{path}: permission denied: run the command as the user that runs `civreg-hub serve`")]
    NoAccess { path: PathBuf },
    #[error("the running hub closed the connection before answering, so the command may or may not have taken effect: check before running it again")]
    Lost,
    #[error("the running hub closed the connection before taking the command (is it stopping?): nothing was done; try again")]
    NotStarted,
    #[error("the running hub answered something this command does not understand ({0}): run commands with the same civreg-hub version as serve")]
    Protocol(String),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Review(#[from] crate::review::ReviewError),
    #[error(transparent)]
    Unvoid(#[from] crate::unvoid::UnvoidError),
    #[error(transparent)]
    Search(#[from] crate::search::SearchError),
    #[error("give either --keep A|B or --value VALUE")]
    Decision,
    /// A request whose argument cannot be used; the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Aside(#[from] crate::store::AsideError),
    #[error(transparent)]
    Match(#[from] crate::linkage::matching::MatchError),
    #[error(transparent)]
    Import(#[from] crate::linkage::import::ImportError),
    #[error(transparent)]
    Duplicate(#[from] crate::linkage::duplicates::DuplicateError),
    #[error(transparent)]
    Person(#[from] crate::linkage::persons::PersonError),
    #[error("unknown decision {0:?}: use link, dismiss or unlink")]
    Action(String),
    #[error(transparent)]
    Rollout(#[from] crate::rollout::RolloutError),
    #[error(transparent)]
    Operator(#[from] crate::operators::OperatorError),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error(transparent)]
    Key(#[from] crate::atrest::KeyError),
    #[error(transparent)]
    HubList(#[from] crate::hub_list::HubListError),
    #[error("the hub database is in use by a civreg-hub that does not answer on {0}: stop it, or run the same civreg-hub version as it")]
    Locked(PathBuf),
}

// ---- client ------------------------------------------------------------------------------

/// Asks the running hub; `None` when no hub answers on the socket (none runs, or one was
/// killed and left its socket behind).
pub fn call(data_dir: &Path, req: &Request) -> Result<Option<Value>, ControlError> {
    let path = socket_path(data_dir);
    let stream = match UnixStream::connect(&path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(ControlError::NoAccess { path })
        }
        Err(_) => return Ok(None),
    };
    let body = serde_json::to_value(req).map_err(|e| ControlError::Protocol(e.to_string()))?;
    let mut writer = stream.try_clone()?;
    match write_frame(&mut writer, &Frame::Request { v: PROTOCOL, body }, &[]) {
        // A hub that refused at once may have said why before closing.
        Ok(()) | Err(FrameError::Io(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let mut reader = BufReader::new(stream);
    let mut started = false;
    // A large reply comes in parts.
    let mut parts = civreg_shared::control::ReplyReader::default();
    loop {
        match read_frame(&mut reader) {
            // From here on the request runs, once, whatever happens to this connection.
            Ok(Some((Frame::Started, _))) if !started => started = true,
            // A long request (an import) reports progress as standard-error frames.
            Ok(Some((Frame::Stderr { .. }, payload))) if started => {
                use std::io::Write;
                let mut err = std::io::stderr();
                let _ = err.write_all(&payload);
                let _ = err.flush();
            }
            Ok(Some((Frame::ReplyPart { .. }, payload))) if started => parts.part(&payload)?,
            Ok(Some((Frame::Reply { body }, _))) if started => return Ok(Some(body)),
            Ok(Some((Frame::ReplyEnd, _))) if started => return Ok(Some(parts.finish()?)),
            Ok(Some((Frame::Error { message }, _))) => return Err(ControlError::Remote(message)),
            Ok(Some((other, _))) => {
                return Err(ControlError::Protocol(format!(
                    "an unexpected {} message",
                    other.name()
                )))
            }
            Ok(None) | Err(FrameError::Truncated | FrameError::Io(_)) if !started => {
                return Err(ControlError::NotStarted)
            }
            Ok(None) | Err(FrameError::Truncated | FrameError::Io(_)) => {
                return Err(ControlError::Lost)
            }
            Err(e) => return Err(e.into()),
        }
    }
}

// ---- server ------------------------------------------------------------------------------

/// How long a stopping hub lets requests under way finish (an import, a backup).
const STOP_GRACE: Duration = Duration::from_secs(30);

/// The control socket's listener ([`civreg_runtime::control::Server`]), running until
/// [`ControlServer::stop`].
pub struct ControlServer(control::Server);

impl ControlServer {
    /// Binds `DATA_DIR/hub.sock` (0600) and answers on it. Call inside the serving runtime,
    /// after the store is open (which makes this process the only hub of the data dir).
    pub fn start(data_dir: &Path, state: Arc<HubState>) -> Result<ControlServer, ControlError> {
        let path = socket_path(data_dir);
        if control::already_serving(&path)? {
            return Err(ControlError::AlreadyServing(path));
        }
        let config = control::Config {
            socket: path.clone(),
            program: "civreg-hub",
            grace: STOP_GRACE,
        };
        let server = control::Server::start(config, state).map_err(|e| ControlError::Bind {
            path: e.path,
            source: e.source,
            hint: e.hint,
        })?;
        info!(socket = %path.display(), "hub commands are answered on the control socket");
        Ok(ControlServer(server))
    }

    /// Stops taking requests, removes the socket, and lets those under way finish (for
    /// [`STOP_GRACE`] at most).
    pub async fn stop(self) {
        self.0.stop().await
    }
}

/// One request inside the running hub: answered by [`handle_with_progress`], its progress
/// lines sent as standard error.
impl control::Service for HubState {
    type Request = Request;
    type Answer = Value;

    fn run(&self, req: Request, conv: &control::Conversation) -> control::Ending<Value> {
        let mut err = conv.stderr();
        let mut progress = |line: String| {
            use std::io::Write;
            // A client that went away does not stop the request: it finishes and is recorded.
            let _ = err.write_all(format!("{line}\n").as_bytes());
        };
        match handle_with_progress(&req, self, &mut progress) {
            Ok(v) => control::Ending::Reply(v),
            Err(e) => control::Ending::Failed(e.to_string()),
        }
    }
}
