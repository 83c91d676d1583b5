//! The hub's control socket: how `civreg-hub show`, `status` (and whatever is added to
//! [`Request`]) reach a running `civreg-hub serve`, which holds the sled database.
//!
//! `serve` listens on `DATA_DIR/hub.sock` (mode 0600; a connection whose peer runs under another
//! uid is refused). A command sends one [`Request`] and gets one answer, a typed [`Answer`] (as
//! its JSON) or an error message, in the frames of [`civreg_shared::control`]. The same
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
use civreg_shared::control::{read_frame, write_frame, Frame, FrameError, PROTOCOL};
use serde_json::Value;
use std::io::BufReader;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, info, warn};

/// The socket's file name in the hub's data dir.
pub const SOCKET: &str = "hub.sock";
/// How long a client may take to send its request once connected.
const REQUEST_WAIT: Duration = Duration::from_secs(10);

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET)
}

pub mod answer;
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
    #[error("the running hub closed the connection before answering (is it stopping?): try again")]
    Lost,
    #[error("the running hub answered something this command does not understand ({0}): run commands with the same civreg-hub version as serve")]
    Protocol(String),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Review(#[from] crate::review::ReviewError),
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
}

/// Longest error message sent back (the rest is cut).
const MAX_ERROR_BYTES: usize = civreg_shared::control::MAX_HEADER / 2;

/// Longest request text written to the debug log.
const MAX_LOGGED_REQUEST_CHARS: usize = 2_000;

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
    // A long request (an import) reports progress as standard-error frames before its answer.
    let mut first = read_frame(&mut reader);
    while let Ok(Some((Frame::Stderr { .. }, payload))) = &first {
        use std::io::Write;
        let mut err = std::io::stderr();
        let _ = err.write_all(payload);
        let _ = err.flush();
        first = read_frame(&mut reader);
    }
    // A large reply comes in parts.
    let mut parts = civreg_shared::control::ReplyReader::default();
    while let Ok(Some((Frame::ReplyPart { .. }, payload))) = &first {
        parts.part(payload)?;
        first = read_frame(&mut reader);
    }
    match first {
        Ok(Some((Frame::Reply { body }, _))) => Ok(Some(body)),
        Ok(Some((Frame::ReplyEnd, _))) => Ok(Some(parts.finish()?)),
        Ok(Some((Frame::Error { message }, _))) => Err(ControlError::Remote(message)),
        Ok(Some((other, _))) => Err(ControlError::Protocol(format!(
            "an unexpected {} message",
            other.name()
        ))),
        Ok(None) | Err(FrameError::Truncated | FrameError::Io(_)) => Err(ControlError::Lost),
        Err(e) => Err(e.into()),
    }
}

// ---- server ------------------------------------------------------------------------------

/// The control socket's listener, running until [`ControlServer::stop`].
pub struct ControlServer {
    path: PathBuf,
    /// (device, inode) of the socket file this server made, so it never removes another's.
    file: (u64, u64),
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ControlServer {
    /// Binds `DATA_DIR/hub.sock` (0600) and answers on it. Call inside the serving runtime,
    /// after the store is open (which makes this process the only hub of the data dir).
    pub fn start(data_dir: &Path, state: Arc<HubState>) -> Result<ControlServer, ControlError> {
        let path = socket_path(data_dir);
        match UnixStream::connect(&path) {
            Ok(_) => return Err(ControlError::AlreadyServing(path)),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                info!(path = %path.display(), "removing the control socket of a hub that is gone");
                let _ = std::fs::remove_file(&path);
            }
            Err(_) => {}
        }
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
        let tmp = data_dir.join(format!("{SOCKET}.{}.tmp", std::process::id()));
        let (listener, meta) =
            civreg_shared::control::bind_private(&path, &tmp).map_err(bind_err)?;
        // The file was made by this process, so its owner is the uid this process runs as.
        let uid = meta.uid();
        listener.set_nonblocking(true)?;
        let listener = tokio::net::UnixListener::from_std(listener)?;
        let task = tokio::spawn(accept_loop(listener, state, uid));
        info!(socket = %path.display(), "hub commands are answered on the control socket");
        Ok(ControlServer {
            path,
            file: (meta.dev(), meta.ino()),
            task: Some(task),
        })
    }

    /// Stops answering and removes the socket.
    pub fn stop(mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        self.remove_file();
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

impl Drop for ControlServer {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        self.remove_file();
    }
}

async fn accept_loop(listener: tokio::net::UnixListener, state: Arc<HubState>, uid: u32) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                warn!(error = %e, "control socket: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
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
                continue;
            }
        };
        let state = state.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = converse(stream, &state, same_user) {
                debug!(error = %e, "control connection ended early");
            }
        });
    }
}

fn converse(stream: UnixStream, state: &HubState, same_user: bool) -> Result<(), ControlError> {
    let mut writer = stream.try_clone()?;
    let mut progress_out = stream.try_clone()?;
    let mut reply_out = stream.try_clone()?;
    let mut answer = |frame: Frame| -> Result<(), ControlError> {
        write_frame(&mut writer, &frame, &[])?;
        Ok(())
    };
    let error = |message: String| Frame::Error { message };
    stream.set_read_timeout(Some(REQUEST_WAIT))?;
    // The request is read before any answer, a refusal included: the client writes it whole
    // first and must not meet a socket closed under it.
    let first = read_frame(&mut BufReader::new(stream));
    if !same_user {
        return answer(error(
            "only the user running `civreg-hub serve` may use its control socket".into(),
        ));
    }
    let req = match first {
        Ok(Some((Frame::Request { v, body }, _))) if v == PROTOCOL => {
            match serde_json::from_value::<Request>(body) {
                Ok(r) => r,
                Err(e) => return answer(error(format!(
                    "the running civreg-hub does not understand this command ({e}): run commands with the same civreg-hub version as serve"
                ))),
            }
        }
        Ok(Some((Frame::Request { v, .. }, _))) => {
            return answer(error(format!(
                "this civreg-hub serve speaks control protocol {PROTOCOL} and the command {v}: run commands with the same civreg-hub version as serve"
            )))
        }
        Ok(Some(_)) => return answer(error("expected a request".into())),
        Ok(None) => return Ok(()),
        Err(e @ FrameError::TooLarge { .. }) => return answer(error(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    // A search's text may hold a personal number: the request is logged without any.
    debug!(
        request = %civreg_shared::redact::for_log(&format!("{req:?}"), MAX_LOGGED_REQUEST_CHARS),
        "request from the control socket"
    );
    let mut progress = |line: String| {
        let bytes = format!("{line}\n").into_bytes();
        // A client that went away does not stop the request: it finishes and is recorded.
        let _ = write_frame(
            &mut progress_out,
            &Frame::Stderr { len: bytes.len() },
            &bytes,
        );
    };
    let result = handle_with_progress(&req, state, &mut progress);
    match result {
        // Any size: sent in parts when it does not fit in one frame.
        Ok(body) => Ok(civreg_shared::control::write_reply(&mut reply_out, &body)?),
        Err(e) => {
            // An error message always fits in a frame.
            let mut message = e.to_string();
            if message.len() > MAX_ERROR_BYTES {
                let mut cut = MAX_ERROR_BYTES;
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                message.truncate(cut);
                message.push_str(" …");
            }
            answer(error(message))
        }
    }
}
