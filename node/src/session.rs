//! A clerk remembered for a working session at the command line (issue 17).
//!
//! While `civreg-node serve` runs, `civreg-node login` (or the first command that asks for a
//! password at the terminal) signs a clerk in once, and `serve` keeps a session for that clerk:
//! a random 32-byte token, of which `serve` keeps only the SHA-256 hash, in memory (a restart
//! of `serve` ends every session: a clerk signs in again, which is cheap and leaves no
//! credential on disk that outlives the process). A session ends after `idle` without use
//! (15 minutes by default), after `max` in all (8 hours), with `civreg-node logout`, or when
//! `serve` stops. It is bound to the Unix uid of the control-socket peer that opened it;
//! another uid presenting the token gets nothing (the socket already refuses other uids: this
//! is the second lock).
//!
//! The client keeps the token in `$XDG_RUNTIME_DIR/civreg/<data dir>.token` (see
//! [`token_file`]): a per-user tmpfs directory (0700, owned by the user, emptied when the user
//! logs out of the PC), the file itself 0600. Never in an environment variable, which other
//! processes of the user and crash reports may print.

use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// Default idle timeout of a remembered clerk.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(15 * 60);
/// Default absolute limit of a remembered clerk.
pub const DEFAULT_MAX: Duration = Duration::from_secs(8 * 60 * 60);
/// At most this many sessions are kept; the least recently used goes first.
const MAX_SESSIONS: usize = 256;
/// Token length in bytes (sent as 64 hex digits).
const TOKEN_BYTES: usize = 32;

type Hash = [u8; 32];

fn hash(token: &str) -> Hash {
    let mut h = [0u8; 32];
    h.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    h
}

struct Session {
    clerk: String,
    uid: u32,
    opened: Instant,
    last: Instant,
}

/// The sessions of a running `serve`.
pub struct Sessions {
    idle: Duration,
    max: Duration,
    by_hash: Mutex<HashMap<Hash, Session>>,
}

/// A session just opened: the token for the client, and when it ends at the latest.
pub struct Opened {
    pub token: String,
    /// Seconds since the Unix epoch when the session ends if used all the time.
    pub until_unix: u64,
    pub idle_secs: u64,
}

impl Default for Sessions {
    fn default() -> Sessions {
        Sessions::new(DEFAULT_IDLE, DEFAULT_MAX)
    }
}

impl Sessions {
    pub fn new(idle: Duration, max: Duration) -> Sessions {
        Sessions {
            idle: idle.max(Duration::from_secs(1)),
            max: max.max(Duration::from_secs(1)),
            by_hash: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Hash, Session>> {
        // A panic elsewhere never leaves the map half-changed: every change is one call.
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn live(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last) < self.idle && now.duration_since(s.opened) < self.max
    }

    /// Opens a session for `clerk` (whose password was just checked) for the peer `uid`.
    pub fn open(&self, clerk: &str, uid: u32) -> anyhow::Result<Opened> {
        let mut raw = [0u8; TOKEN_BYTES];
        SystemRandom::new()
            .fill(&mut raw)
            .map_err(|_| anyhow::anyhow!("the system's random number generator failed"))?;
        let token = hex::encode(raw);
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, s| self.live(s, now));
        while map.len() >= MAX_SESSIONS {
            let Some(oldest) = map.iter().min_by_key(|(_, s)| s.last).map(|(h, _)| *h) else {
                break;
            };
            map.remove(&oldest);
        }
        map.insert(
            hash(&token),
            Session {
                clerk: clerk.to_string(),
                uid,
                opened: now,
                last: now,
            },
        );
        let until = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            + self.max;
        Ok(Opened {
            token,
            until_unix: until.as_secs(),
            idle_secs: self.idle.as_secs(),
        })
    }

    /// The clerk of a live session for `token` opened by `uid`, and the session is used now.
    /// An expired session is forgotten; one presented by another uid is left as it is.
    pub fn clerk(&self, token: &str, uid: u32) -> Option<String> {
        let now = Instant::now();
        let h = hash(token);
        let mut map = self.lock();
        let s = map.get_mut(&h)?;
        if !self.live(s, now) {
            map.remove(&h);
            return None;
        }
        if s.uid != uid {
            return None;
        }
        s.last = now;
        Some(s.clerk.clone())
    }

    /// Ends the session for `token` (only its own uid may). Whether there was one.
    pub fn end(&self, token: &str, uid: u32) -> bool {
        let h = hash(token);
        let mut map = self.lock();
        match map.get(&h) {
            Some(s) if s.uid == uid => {
                map.remove(&h);
                true
            }
            _ => false,
        }
    }
}

// ---- the client's token file ---------------------------------------------------------------

/// Where the client keeps the token for the node at `data_dir`: under `$XDG_RUNTIME_DIR`
/// (`/run/user/UID`, the user's own tmpfs, emptied when they log out of the PC), named after
/// the data dir so two nodes on one PC keep two sessions. Without it (a command run with
/// `sudo -u civreg`, which sets none), in `DATA_DIR/cli-sessions/UID.token`: the data dir is
/// already private to the user that runs `serve`, the only one whose commands it takes.
pub fn token_file(data_dir: &Path) -> Option<PathBuf> {
    location(std::env::var_os("XDG_RUNTIME_DIR"), data_dir)
}

fn location(runtime_dir: Option<std::ffi::OsString>, data_dir: &Path) -> Option<PathBuf> {
    if let Some(base) = runtime_dir.filter(|v| !v.is_empty()).map(PathBuf::from) {
        if base.is_absolute() {
            let canonical =
                std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
            let digest = digest(&SHA256, canonical.as_os_str().as_encoded_bytes());
            let name = hex::encode(&digest.as_ref()[..12]);
            return Some(base.join("civreg").join(format!("{name}.token")));
        }
    }
    use std::os::unix::fs::MetadataExt;
    // This process's uid: /proc/self belongs to it.
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    Some(data_dir.join("cli-sessions").join(format!("{uid}.token")))
}

/// The token kept for `data_dir`, if any (a file that is not the user's own and private is
/// ignored).
pub fn read_token(data_dir: &Path) -> Option<String> {
    read_at(&token_file(data_dir)?)
}

fn read_at(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path).ok()?;
    let own = std::fs::metadata(path.parent()?).ok()?.uid();
    if !meta.file_type().is_file() || meta.uid() != own || meta.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let token = text.trim();
    (token.len() == TOKEN_BYTES * 2 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| token.to_string())
}

/// Keeps `token` for `data_dir` in a file only this user can read.
pub fn write_token(data_dir: &Path, token: &str) -> anyhow::Result<PathBuf> {
    let path =
        token_file(data_dir).ok_or_else(|| crate::clitext::Said::new("cli-err-no-session-dir"))?;
    write_at(&path, token)?;
    Ok(path)
}

fn write_at(path: &Path, token: &str) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let tmp = dir.join(format!(".{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(token.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Forgets the token kept for `data_dir`. Whether there was one.
pub fn remove_token(data_dir: &Path) -> bool {
    token_file(data_dir).is_some_and(|p| std::fs::remove_file(p).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_names_its_clerk_to_its_own_uid_only_until_it_ends() {
        let s = Sessions::new(Duration::from_secs(60), Duration::from_secs(600));
        let o = s.open("arta", 1000).unwrap();
        assert_eq!(o.token.len(), 64);
        assert_eq!(s.clerk(&o.token, 1000).as_deref(), Some("arta"));
        assert_eq!(s.clerk(&o.token, 1001), None, "another uid");
        assert_eq!(
            s.clerk(&o.token, 1000).as_deref(),
            Some("arta"),
            "still there"
        );
        assert_eq!(s.clerk(&"0".repeat(64), 1000), None, "an unknown token");
        assert!(!s.end(&o.token, 1001));
        assert!(s.end(&o.token, 1000));
        assert_eq!(s.clerk(&o.token, 1000), None, "ended");
        let other = s.open("arta", 1000).unwrap();
        assert_ne!(other.token, o.token);
    }

    #[test]
    fn the_token_file_is_private_and_a_shared_one_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let run = dir.path().join("run");
        let in_run = location(Some(run.clone().into()), &data).unwrap();
        assert!(
            in_run.starts_with(run.join("civreg")),
            "{}",
            in_run.display()
        );
        let fallback = location(None, &data).unwrap();
        assert!(
            fallback.starts_with(data.join("cli-sessions")),
            "{}",
            fallback.display()
        );
        assert_eq!(
            location(Some("relative".into()), &data),
            Some(fallback.clone())
        );
        for path in [in_run, fallback] {
            let token = "ab".repeat(32);
            write_at(&path, &token).unwrap();
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
            assert_eq!(read_at(&path).as_deref(), Some(token.as_str()));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert_eq!(read_at(&path), None, "readable by others: not used");
            std::fs::write(&path, "not a token").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            assert_eq!(read_at(&path), None);
        }
    }

    #[test]
    fn idle_and_absolute_limits_end_a_session() {
        let s = Sessions::new(Duration::from_millis(1000), Duration::from_secs(600));
        let o = s.open("arta", 7).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(s.clerk(&o.token, 7), None, "idle too long");

        let s = Sessions::new(Duration::from_secs(600), Duration::from_millis(1000));
        let o = s.open("arta", 7).unwrap();
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(300));
            let _ = s.clerk(&o.token, 7);
        }
        assert_eq!(
            s.clerk(&o.token, 7),
            None,
            "past the absolute limit, though used"
        );
    }
}
