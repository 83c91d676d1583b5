//! Asking the hub of a data directory from outside it: through the running hub's control
//! socket, or, when none runs, on the store opened here. Either way the same [`answer`]
//! answers, so a command (or a test) changes shared state the same way whether or not the hub
//! runs, and with several hubs over one database whichever hub it asks.
//!
//! The store opened here first takes in the files an earlier version kept in the data
//! directory ([`import_files`]), as `serve` does at start.

use super::{answer, call, Answer, ControlError, HubState, Request};
use crate::paths::StoreAt;
use crate::store::{HubStore, StoreError};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long [`ask_at`] tries while another process holds the store (a hub starting, whose
/// socket answers a moment later, or another command).
const LOCKED_WAIT: Duration = Duration::from_secs(3);

/// Answers `req` for the hub of `data_dir`, whose store is `at` under the key in `key_file`:
/// from the running hub through its control socket, or, when none runs, from the store opened
/// here. `progress` is told a long request's progress when answered here.
pub fn ask_at(
    data_dir: &Path,
    at: &StoreAt,
    key_file: &Path,
    req: &Request,
    progress: &mut dyn FnMut(String),
) -> Result<Answer, ControlError> {
    let deadline = Instant::now() + LOCKED_WAIT;
    loop {
        if let Some(v) = call(data_dir, req)? {
            return Answer::decode(req, v).map_err(|e| ControlError::Protocol(e.to_string()));
        }
        let keys = crate::atrest::load_key(key_file)?;
        match HubStore::open_at(at, keys) {
            Ok(store) => {
                import_files(data_dir, &store)?;
                return answer(req, &HubState::stopped(data_dir, store), progress);
            }
            Err(StoreError::Locked(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(StoreError::Locked(_)) => {
                return Err(ControlError::Locked(super::socket_path(data_dir)))
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// [`ask_at`] for a hub with the default store and key (sled and `hub.key` under `data_dir`),
/// the answer read as `T`, the type of the request's answer.
pub fn ask<T: TryFrom<Answer, Error = Answer>>(
    data_dir: &Path,
    req: Request,
) -> Result<T, ControlError> {
    let a = ask_at(
        data_dir,
        &StoreAt::of(data_dir, None),
        &crate::atrest::default_key_path(data_dir),
        &req,
        &mut |_| {},
    )?;
    T::try_from(a).map_err(|other| ControlError::Protocol(format!("a {} answer", other.kind())))
}

/// Changes a municipality's rollout stage at the hub of `data_dir` (default store and key):
/// what `civreg-hub rollout set` does.
pub fn set_stage(
    data_dir: &Path,
    municipality: &str,
    stage: crate::rollout::Stage,
    kinds: Option<Vec<civreg_shared::model::RecordKind>>,
    operator: &str,
    reason: &str,
) -> Result<crate::rollout::Entry, ControlError> {
    ask(
        data_dir,
        Request::RolloutSet {
            municipality: municipality.to_string(),
            stage,
            kinds,
            operator: operator.to_string(),
            reason: reason.to_string(),
        },
    )
}

/// The rollout plan the hub of `data_dir` (default store and key) enforces.
pub fn rollout(data_dir: &Path) -> Result<crate::rollout::Rollout, ControlError> {
    ask(data_dir, Request::RolloutList)
}

/// Adds a dashboard operator at the hub of `data_dir` (default store and key), the password
/// hashed here: what `civreg-hub operator add` does.
pub fn add_operator(
    data_dir: &Path,
    name: &str,
    password: &str,
    replace: bool,
) -> Result<(), ControlError> {
    let phc = crate::operators::hash_password(password)?;
    let _: super::answer::OperatorChanged = ask(
        data_dir,
        Request::OperatorAdd {
            name: name.to_string(),
            phc,
            replace,
        },
    )?;
    Ok(())
}

/// A page of an operators' audit trail of the hub of `data_dir` (default store and key),
/// shared by every hub over its store: what `civreg-hub rollout log` and `civreg-hub operator
/// log` show ([`crate::audit::read`]).
pub fn audit(
    data_dir: &Path,
    trail: crate::audit::Trail,
    since_ms: Option<u64>,
    after: Option<String>,
    limit: usize,
) -> Result<crate::audit::Page, ControlError> {
    ask(
        data_dir,
        Request::AuditLog {
            trail,
            since_ms,
            after,
            limit,
        },
    )
}

/// Takes the files of the data directory that earlier versions kept as the truth (the rollout
/// plan `rollout.json`, the operator accounts `operators.json`, the audit trails `rollout.log`
/// and `operator-actions.log`) into `store`, once each ([`crate::rollout::import_file`],
/// [`crate::operators::import_file`], [`crate::audit::import_files`]). Run by `serve` at
/// start and by a command that opens the store itself.
pub fn import_files(data_dir: &Path, store: &HubStore) -> Result<(), ControlError> {
    crate::rollout::import_file(data_dir, store)?;
    crate::operators::import_file(data_dir, store)?;
    crate::audit::import_files(data_dir, store)?;
    crate::certificates::import_file(data_dir, store)
        .map_err(|e| ControlError::Invalid(e.to_string()))?;
    Ok(())
}
