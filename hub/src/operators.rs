//! Operator accounts for the dashboard, and the log of what operators did there.
//!
//! Accounts live in `DATA_DIR/operators.json` (mode 0600, replaced atomically: written to a
//! temporary file, flushed, renamed): each operator's name and an argon2id hash of the password
//! in PHC form, never the password. `civreg-hub operator add NAME` writes it whether or not the
//! hub runs; the running hub reads the file at every login, so a new account works at once.
//! Operator names follow the same rules as operator certificates (`PeerIdentity::operator`).
//!
//! Every action taken on the dashboard (login, failed login, logout, a conflict resolved, a
//! rollout stage changed) is appended to `DATA_DIR/operator-actions.log`, one JSON object a line
//! with `at_ms`, `operator`, `action`, `ok` and the action's details.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Shortest password accepted for an operator.
pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("{name:?} is not a valid operator name: {why}")]
    BadName { name: String, why: String },
    #[error("an operator password needs at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    #[error("operator {0} already exists: add --replace to give it a new password")]
    Exists(String),
    #[error("wrong operator name or password")]
    BadCredentials,
    #[error("{path}: {why}; fix the file or restore it from a backup")]
    Damaged { path: String, why: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the system random number generator failed; check the operating system's entropy source"
    )]
    Random,
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// The accounts file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Accounts {
    version: u32,
    operators: BTreeMap<String, Account>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Account {
    /// argon2id, PHC string.
    phc: String,
    created_ms: u64,
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("operators.json")
}

pub fn actions_log_path(data_dir: &Path) -> PathBuf {
    data_dir.join("operator-actions.log")
}

fn io_err(p: &Path) -> impl FnOnce(std::io::Error) -> OperatorError {
    let path = p.display().to_string();
    move |source| OperatorError::Io { path, source }
}

use civreg_runtime::clock::now_ms;

fn load(data_dir: &Path) -> Result<Accounts, OperatorError> {
    let p = path(data_dir);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Accounts {
                version: 1,
                ..Default::default()
            })
        }
        Err(e) => return Err(io_err(&p)(e)),
    };
    let a: Accounts = serde_json::from_str(&text).map_err(|e| OperatorError::Damaged {
        path: p.display().to_string(),
        why: e.to_string(),
    })?;
    if a.version != 1 {
        return Err(OperatorError::Damaged {
            path: p.display().to_string(),
            why: format!("version {} (this hub reads version 1)", a.version),
        });
    }
    Ok(a)
}

/// Replaces the accounts file (0600: it holds password hashes) atomically and durably.
fn save(data_dir: &Path, a: &Accounts) -> Result<(), OperatorError> {
    let p = path(data_dir);
    let text = serde_json::to_string_pretty(a).expect("accounts serialise");
    civreg_runtime::fs::write_atomic(&p, text.as_bytes(), civreg_runtime::fs::Mode::Private)
        .map_err(io_err(&p))
}

fn check_name(name: &str) -> Result<(), OperatorError> {
    crate::pki::PeerIdentity::operator(name)
        .map(|_| ())
        .map_err(|e| OperatorError::BadName {
            name: name.to_string(),
            why: e.to_string(),
        })
}

fn hash(password: &str) -> Result<String, OperatorError> {
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| OperatorError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| OperatorError::Hash(e.to_string()))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| OperatorError::Hash(e.to_string()))?
        .to_string())
}

/// Adds an operator (or, with `replace`, gives an existing one a new password).
pub fn add(
    data_dir: &Path,
    name: &str,
    password: &str,
    replace: bool,
) -> Result<(), OperatorError> {
    check_name(name)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(OperatorError::WeakPassword);
    }
    let mut a = load(data_dir)?;
    if a.operators.contains_key(name) && !replace {
        return Err(OperatorError::Exists(name.to_string()));
    }
    let phc = hash(password)?;
    a.operators.insert(
        name.to_string(),
        Account {
            phc,
            created_ms: now_ms(),
        },
    );
    save(data_dir, &a)?;
    tracing::info!(
        operator = name,
        replaced = replace,
        "operator account written"
    );
    Ok(())
}

/// A hash no password matches, verified for unknown names so that a wrong name takes as long
/// to refuse as a wrong password.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::encode_b64(b"civreg-decoy-salt").expect("16 bytes encode");
        Argon2::default()
            .hash_password(b"no operator has this password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Checks an operator's password (slow by design: argon2; call off the async runtime).
pub fn verify(data_dir: &Path, name: &str, password: &str) -> Result<(), OperatorError> {
    let a = load(data_dir)?;
    let phc = match a.operators.get(name) {
        Some(acc) => acc.phc.clone(),
        None => {
            if let Ok(h) = PasswordHash::new(decoy()) {
                let _ = Argon2::default().verify_password(password.as_bytes(), &h);
            }
            return Err(OperatorError::BadCredentials);
        }
    };
    let parsed = PasswordHash::new(&phc).map_err(|e| OperatorError::Damaged {
        path: path(data_dir).display().to_string(),
        why: format!("the entry of {name}: {e}"),
    })?;
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .map_err(|_| OperatorError::BadCredentials)
}

/// The names of all operators.
pub fn names(data_dir: &Path) -> Result<Vec<String>, OperatorError> {
    Ok(load(data_dir)?.operators.into_keys().collect())
}

/// An operator name and action details fit for a log: every string (the name as typed into a
/// form, a reason, an error) without personal numbers ([`civreg_shared::redact`]) and bounded
/// (the name to `MAX_LOGGED_NAME_CHARS`, any other text to `MAX_TEXT_CHARS` characters).
pub fn log_safe(operator: &str, details: serde_json::Value) -> (String, serde_json::Value) {
    use civreg_shared::limits::{MAX_LOGGED_NAME_CHARS, MAX_TEXT_CHARS};
    use civreg_shared::redact::for_log;
    fn clean(v: serde_json::Value, depth: usize) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::String(s) => Value::String(for_log(&s, MAX_TEXT_CHARS)),
            Value::Array(a) if depth < 8 => Value::Array(
                a.into_iter()
                    .take(1_000)
                    .map(|x| clean(x, depth + 1))
                    .collect(),
            ),
            Value::Object(o) if depth < 8 => Value::Object(
                o.into_iter()
                    .take(1_000)
                    .map(|(k, x)| (for_log(&k, MAX_LOGGED_NAME_CHARS), clean(x, depth + 1)))
                    .collect(),
            ),
            Value::Array(_) | Value::Object(_) => Value::String("…".into()),
            other => other,
        }
    }
    (for_log(operator, MAX_LOGGED_NAME_CHARS), clean(details, 0))
}

/// Appends one action to `operator-actions.log` and flushes it to disk. `details` (an object)
/// is merged into the line; both pass [`log_safe`] first.
pub fn log_action(
    data_dir: &Path,
    operator: &str,
    action: &str,
    ok: bool,
    details: serde_json::Value,
) -> Result<(), OperatorError> {
    let (operator, details) = log_safe(operator, details);
    let mut line = serde_json::json!({
        "at_ms": now_ms(),
        "operator": operator,
        "action": action,
        "ok": ok,
    });
    if let (Some(l), serde_json::Value::Object(d)) = (line.as_object_mut(), details) {
        for (k, v) in d {
            l.entry(k).or_insert(v);
        }
    }
    let p = actions_log_path(data_dir);
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(&p).map_err(io_err(&p))?;
    writeln!(f, "{line}").map_err(io_err(&p))?;
    f.sync_data().map_err(io_err(&p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_verify_replace_and_refuse() {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(
            verify(d.path(), "vjosa", "whatever-long"),
            Err(OperatorError::BadCredentials)
        ));
        add(d.path(), "vjosa", "correct-horse-battery", false).unwrap();
        verify(d.path(), "vjosa", "correct-horse-battery").unwrap();
        assert!(matches!(
            verify(d.path(), "vjosa", "correct-horse-batterz"),
            Err(OperatorError::BadCredentials)
        ));
        assert!(matches!(
            verify(d.path(), "arben", "correct-horse-battery"),
            Err(OperatorError::BadCredentials)
        ));
        assert!(matches!(
            add(d.path(), "vjosa", "another-password", false),
            Err(OperatorError::Exists(_))
        ));
        add(d.path(), "vjosa", "another-password", true).unwrap();
        verify(d.path(), "vjosa", "another-password").unwrap();
        assert!(matches!(
            add(d.path(), "arben", "short", false),
            Err(OperatorError::WeakPassword)
        ));
        assert!(matches!(
            add(d.path(), "no/slash", "long-enough-pw", false),
            Err(OperatorError::BadName { .. })
        ));
        assert_eq!(names(d.path()).unwrap(), vec!["vjosa".to_string()]);
        let text = std::fs::read_to_string(path(d.path())).unwrap();
        assert!(!text.contains("another-password"), "no password in clear");
        assert!(text.contains("$argon2id$"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(d.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(path(d.path()), "{ nope").unwrap();
        assert!(matches!(
            verify(d.path(), "vjosa", "another-password"),
            Err(OperatorError::Damaged { .. })
        ));
    }

    #[test]
    fn actions_are_appended_as_json_lines() {
        let d = tempfile::tempdir().unwrap();
        log_action(d.path(), "vjosa", "login", true, serde_json::json!({})).unwrap();
        log_action(
            d.path(),
            "vjosa",
            "resolve",
            true,
            serde_json::json!({"conflict": "c1", "ok": "not overridden"}),
        )
        .unwrap();
        let text = std::fs::read_to_string(actions_log_path(d.path())).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["action"], "resolve");
        assert_eq!(lines[1]["conflict"], "c1");
        assert_eq!(lines[1]["ok"], true);
    }
}
