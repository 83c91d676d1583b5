//! Operator accounts for the dashboard, and the log of what operators did there.
//!
//! Accounts live in the hub's store (`aux` key `operators/accounts`, sealed at rest, written by
//! compare-and-set): each operator's name and an argon2id hash of the password in PHC form,
//! never the password. Every hub over one database reads them at every sign-in, and a
//! dashboard session counts only while its operator's account exists, so an account added,
//! changed or removed through any hub (`civreg-hub operator add|remove`, through the running
//! hub's control socket or the store; the password is hashed by the command, and only the hash
//! travels) applies at every hub at once. Operator names follow the same rules as operator
//! certificates (`PeerIdentity::operator`). Earlier versions kept the accounts in
//! `DATA_DIR/operators.json`; [`import_file`] takes them into the store once.
//!
//! Every action taken on the dashboard (login, failed login, logout, a conflict resolved, a
//! rollout stage changed) is appended to the operator actions audit trail in the store
//! ([`crate::audit::Trail::Actions`], shared by every hub; `civreg-hub operator log`), one JSON
//! object an entry with `at_ms`, `operator`, `action`, `ok` and the action's details.

use crate::store::{aux, AuxReads, HubStore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    #[error("the operator accounts in the hub's store can not be read ({0}): restore the store from a backup")]
    StoreDamaged(String),
    #[error("no operator is named {0:?}: nothing was removed")]
    Unknown(String),
    #[error("the password hash given for {0} is not an argon2id hash in PHC form: hash the password with `civreg-hub operator add`")]
    BadHash(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the operator action was not kept in the actions log: {0}")]
    Audit(#[from] crate::audit::AuditError),
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

fn io_err(p: &Path) -> impl FnOnce(std::io::Error) -> OperatorError {
    let path = p.display().to_string();
    move |source| OperatorError::Io { path, source }
}

use civreg_runtime::clock::now_ms;

fn accounts_key() -> Vec<u8> {
    aux::aux_key(aux::OPERATORS, "accounts")
}

/// Reads accounts as JSON (`what` names where from, for the error).
fn parse(text: &[u8]) -> Result<Accounts, String> {
    let a: Accounts = serde_json::from_slice(text).map_err(|e| e.to_string())?;
    if a.version != 1 {
        return Err(format!("version {} (this hub reads version 1)", a.version));
    }
    Ok(a)
}

fn decode(raw: Option<Vec<u8>>) -> Result<Accounts, OperatorError> {
    match raw {
        None => Ok(Accounts {
            version: 1,
            ..Default::default()
        }),
        Some(raw) => parse(&raw).map_err(OperatorError::StoreDamaged),
    }
}

fn load_in(store: &HubStore) -> Result<Accounts, OperatorError> {
    decode(store.aux_get(&accounts_key())?)
}

fn load_noting(store: &HubStore, reads: &mut AuxReads) -> Result<Accounts, OperatorError> {
    decode(store.aux_get_noting(&accounts_key(), reads)?)
}

fn write(a: &Accounts) -> Vec<crate::store::AuxWrite> {
    vec![(
        accounts_key(),
        Some(serde_json::to_vec(a).expect("accounts serialise")),
    )]
}

/// Takes an earlier version's `DATA_DIR/operators.json` into the store, once: its accounts are
/// added to the store's, except names the store already has (an account made through another
/// hub, or imported before, stays as it is). The file is then renamed
/// (`operators.json.imported`) and never read again, and the log says so. Returns how many
/// accounts were added.
pub fn import_file(data_dir: &Path, store: &HubStore) -> Result<usize, OperatorError> {
    let p = path(data_dir);
    let text = match std::fs::read(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_err(&p)(e)),
    };
    let file = parse(&text).map_err(|why| OperatorError::Damaged {
        path: p.display().to_string(),
        why,
    })?;
    let added = store.aux_decide(|reads| {
        let mut a = load_noting(store, reads)?;
        let mut added = 0;
        for (name, acc) in &file.operators {
            if !a.operators.contains_key(name) {
                a.operators.insert(name.clone(), acc.clone());
                added += 1;
            }
        }
        Ok::<_, OperatorError>((added, (added > 0).then(|| write(&a))))
    })?;
    let to = data_dir.join("operators.json.imported");
    std::fs::rename(&p, &to).map_err(io_err(&p))?;
    tracing::info!(
        from = %p.display(),
        kept_as = %to.display(),
        added,
        of = file.operators.len(),
        "operator accounts imported into the hub's store (names it had already kept as they were); the file is no longer read"
    );
    Ok(added)
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

/// The argon2id hash (PHC form) of a new operator password, refused when too short: what
/// `civreg-hub operator add` sends to the hub, so that the password itself never leaves it.
pub fn hash_password(password: &str) -> Result<String, OperatorError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(OperatorError::WeakPassword);
    }
    hash(password)
}

/// Adds an operator with the password hash `phc` (from [`hash_password`]), or, with `replace`,
/// gives an existing one that hash; by compare-and-set on the accounts, so a change made at
/// the same moment through another hub is kept.
pub fn add_in(store: &HubStore, name: &str, phc: &str, replace: bool) -> Result<(), OperatorError> {
    check_name(name)?;
    match PasswordHash::new(phc) {
        Ok(h) if h.algorithm.as_str() == "argon2id" && phc.len() <= 512 => {}
        _ => return Err(OperatorError::BadHash(name.to_string())),
    }
    store.aux_decide(|reads| {
        let mut a = load_noting(store, reads)?;
        if a.operators.contains_key(name) && !replace {
            return Err(OperatorError::Exists(name.to_string()));
        }
        a.operators.insert(
            name.to_string(),
            Account {
                phc: phc.to_string(),
                created_ms: now_ms(),
            },
        );
        Ok(((), Some(write(&a))))
    })?;
    tracing::info!(
        operator = name,
        replaced = replace,
        "operator account written"
    );
    Ok(())
}

/// Removes an operator's account: it can no longer sign in, and its sessions end, at every hub.
pub fn remove_in(store: &HubStore, name: &str) -> Result<(), OperatorError> {
    store.aux_decide(|reads| {
        let mut a = load_noting(store, reads)?;
        if a.operators.remove(name).is_none() {
            return Err(OperatorError::Unknown(name.to_string()));
        }
        Ok(((), Some(write(&a))))
    })?;
    tracing::info!(operator = name, "operator account removed");
    Ok(())
}

/// Whether `name` has an account.
pub fn exists_in(store: &HubStore, name: &str) -> Result<bool, OperatorError> {
    Ok(load_in(store)?.operators.contains_key(name))
}

/// A stamp of `name`'s password as its account holds it now (16 hex digits of the SHA-256 of
/// the argon2id hash, whose salt is new at every change), `None` when it has no account. A
/// dashboard session keeps the stamp of its sign-in and counts only while the account has the
/// same: a removed operator's sessions end, and so do those made with a password since changed,
/// at every hub ([`crate::web::auth::Sessions`]).
pub fn password_stamp_in(store: &HubStore, name: &str) -> Result<Option<String>, OperatorError> {
    Ok(load_in(store)?.operators.get(name).map(|a| {
        let d = ring::digest::digest(&ring::digest::SHA256, a.phc.as_bytes());
        hex::encode(&d.as_ref()[..8])
    }))
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
pub fn verify_in(store: &HubStore, name: &str, password: &str) -> Result<(), OperatorError> {
    let a = load_in(store)?;
    let phc = match a.operators.get(name) {
        Some(acc) => acc.phc.clone(),
        None => {
            if let Ok(h) = PasswordHash::new(decoy()) {
                let _ = Argon2::default().verify_password(password.as_bytes(), &h);
            }
            return Err(OperatorError::BadCredentials);
        }
    };
    let parsed = PasswordHash::new(&phc)
        .map_err(|e| OperatorError::StoreDamaged(format!("the entry of {name}: {e}")))?;
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .map_err(|_| OperatorError::BadCredentials)
}

/// The names of all operators.
pub fn names_in(store: &HubStore) -> Result<Vec<String>, OperatorError> {
    Ok(load_in(store)?.operators.into_keys().collect())
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

/// Appends one action to the operator actions trail in `store` ([`crate::audit`]), flushed
/// before it returns. `details` (an object) is merged into the entry; both pass [`log_safe`]
/// first.
pub fn log_action(
    store: &HubStore,
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
    crate::audit::append(store, crate::audit::Trail::Actions, &line)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(
        store: &HubStore,
        name: &str,
        password: &str,
        replace: bool,
    ) -> Result<(), OperatorError> {
        add_in(store, name, &hash_password(password)?, replace)
    }

    #[test]
    fn add_verify_replace_remove_and_refuse() {
        let store = HubStore::open_temporary().unwrap();
        assert!(matches!(
            verify_in(&store, "vjosa", "whatever-long"),
            Err(OperatorError::BadCredentials)
        ));
        add(&store, "vjosa", "correct-horse-battery", false).unwrap();
        verify_in(&store, "vjosa", "correct-horse-battery").unwrap();
        assert!(matches!(
            verify_in(&store, "vjosa", "correct-horse-batterz"),
            Err(OperatorError::BadCredentials)
        ));
        assert!(matches!(
            verify_in(&store, "arben", "correct-horse-battery"),
            Err(OperatorError::BadCredentials)
        ));
        assert!(matches!(
            add(&store, "vjosa", "another-password", false),
            Err(OperatorError::Exists(_))
        ));
        add(&store, "vjosa", "another-password", true).unwrap();
        verify_in(&store, "vjosa", "another-password").unwrap();
        assert!(matches!(
            verify_in(&store, "vjosa", "correct-horse-battery"),
            Err(OperatorError::BadCredentials)
        ));
        assert!(matches!(
            add(&store, "arben", "short", false),
            Err(OperatorError::WeakPassword)
        ));
        assert!(matches!(
            add(&store, "no/slash", "long-enough-pw", false),
            Err(OperatorError::BadName { .. })
        ));
        assert!(matches!(
            add_in(&store, "arben", "$plain$long-enough-pw", false),
            Err(OperatorError::BadHash(_))
        ));
        assert_eq!(names_in(&store).unwrap(), vec!["vjosa".to_string()]);
        let raw = store.aux_get(&accounts_key()).unwrap().unwrap();
        let text = String::from_utf8(raw).unwrap();
        assert!(!text.contains("another-password"), "no password in clear");
        assert!(text.contains("$argon2id$"));
        assert!(exists_in(&store, "vjosa").unwrap());
        remove_in(&store, "vjosa").unwrap();
        assert!(!exists_in(&store, "vjosa").unwrap());
        assert!(matches!(
            verify_in(&store, "vjosa", "another-password"),
            Err(OperatorError::BadCredentials)
        ));
        assert!(matches!(
            remove_in(&store, "vjosa"),
            Err(OperatorError::Unknown(_))
        ));
        store
            .aux_write(&[(accounts_key(), Some(b"{ nope".to_vec()))])
            .unwrap();
        assert!(matches!(
            verify_in(&store, "vjosa", "another-password"),
            Err(OperatorError::StoreDamaged(_))
        ));
    }

    #[test]
    fn a_file_of_an_earlier_version_is_imported_once() {
        let d = tempfile::tempdir().unwrap();
        let store = HubStore::open_temporary().unwrap();
        assert_eq!(
            import_file(d.path(), &store).unwrap(),
            0,
            "no file, nothing"
        );
        add(&store, "vjosa", "kept-in-the-store", false).unwrap();
        let mut file = Accounts {
            version: 1,
            ..Default::default()
        };
        for (name, pw) in [("vjosa", "from-the-old-file"), ("arben", "arben-old-file")] {
            file.operators.insert(
                name.into(),
                Account {
                    phc: hash_password(pw).unwrap(),
                    created_ms: 1,
                },
            );
        }
        std::fs::write(path(d.path()), serde_json::to_vec(&file).unwrap()).unwrap();
        assert_eq!(import_file(d.path(), &store).unwrap(), 1);
        assert!(!path(d.path()).exists(), "the file is no longer the truth");
        verify_in(&store, "arben", "arben-old-file").unwrap();
        verify_in(&store, "vjosa", "kept-in-the-store").unwrap();
        std::fs::write(path(d.path()), "{ nope").unwrap();
        assert!(matches!(
            import_file(d.path(), &store),
            Err(OperatorError::Damaged { .. })
        ));
    }

    #[test]
    fn actions_are_appended_to_the_trail() {
        let store = HubStore::open_temporary().unwrap();
        log_action(&store, "vjosa", "login", true, serde_json::json!({})).unwrap();
        log_action(
            &store,
            "vjosa",
            "resolve",
            true,
            serde_json::json!({"conflict": "c1", "ok": "not overridden"}),
        )
        .unwrap();
        let lines = crate::audit::read(&store, crate::audit::Trail::Actions, None, None, 10)
            .unwrap()
            .entries;
        assert_eq!(lines.len(), 2);
        // Two entries of one millisecond are listed in either order.
        let resolve = lines.iter().find(|l| l["action"] == "resolve").unwrap();
        assert_eq!(resolve["conflict"], "c1");
        assert_eq!(
            resolve["ok"], true,
            "details do not override the entry's own fields"
        );
    }
}
