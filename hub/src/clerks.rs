//! An office's clerk accounts, kept at the hub (issue 17) so that `civreg-node init --recover`
//! gives them back after a dead PC: each clerk's name and password hash exactly as the node
//! stores it (argon2id; never a password, never a weaker hash).
//!
//! The roster comes with the office's heartbeat whenever it differs from what the hub holds
//! (the reply names the held roster by `civreg_shared::roster::digest`); it replaces the hub's
//! copy whole, so an added clerk, a changed password and a removed clerk all reach the hub the
//! same way. The hub trusts no node: a roster over `limits::MAX_CLERKS` accounts, a name that is
//! not a clerk name, a name given twice or a hash that is not argon2id at the node's parameters
//! is refused whole, nothing of it stored, and the reply says why. A node writes and reads only
//! its own roster: the key is the caller's identity from its certificate (`aux` `clerks/M/N`),
//! never a field of the message. Kept sealed at rest like every `aux` value.

use crate::store::aux::{aux_key, CLERKS};
use crate::store::{AuxWrite, HubStore, StoreError};
use civreg_proto::v1::ClerkRoster;
use civreg_shared::limits::MAX_CLERKS;
use civreg_shared::roster::{self, Roster};
use serde::{Deserialize, Serialize};

/// A roster as the hub keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub roster: Roster,
    /// When the hub took it.
    pub received_ms: u64,
}

impl Held {
    pub fn digest(&self) -> [u8; 32] {
        roster::digest(&self.roster.clerks)
    }

    /// As the reply carries it.
    pub fn to_wire(&self) -> ClerkRoster {
        civreg_proto::roster_to_wire(&self.roster, self.received_ms)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClerksError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the clerk accounts of office {office} could not be read: {why}")]
    Corrupt { office: String, why: String },
}

fn key(municipality: &str, node_id: &str) -> Vec<u8> {
    aux_key(CLERKS, &format!("{municipality}/{node_id}"))
}

/// The roster the hub holds of office `municipality/node_id`, if any.
pub fn held(
    store: &HubStore,
    municipality: &str,
    node_id: &str,
) -> Result<Option<Held>, ClerksError> {
    match store.aux_get(&key(municipality, node_id))? {
        None => Ok(None),
        Some(v) => serde_json::from_slice(&v)
            .map(Some)
            .map_err(|e| ClerksError::Corrupt {
                office: format!("{municipality}/{node_id}"),
                why: e.to_string(),
            }),
    }
}

/// Takes the roster office `municipality/node_id` (from its certificate) sent: checked whole,
/// then kept in one flushed write in place of the one held (unless it is the same). The inner
/// `Err` says why a roster was refused; nothing of it is stored then.
pub fn take(
    store: &HubStore,
    municipality: &str,
    node_id: &str,
    sent: &ClerkRoster,
    now_ms: u64,
) -> Result<Result<Held, String>, ClerksError> {
    // Bounded before anything is copied.
    if sent.clerks.len() > MAX_CLERKS {
        return Ok(Err(
            roster::RosterProblem::TooMany(sent.clerks.len()).to_string()
        ));
    }
    let r = civreg_proto::roster_from_wire(sent);
    if let Err(p) = roster::check(&r) {
        return Ok(Err(p.to_string()));
    }
    if let Some(h) = held(store, municipality, node_id)? {
        if h.roster.version == r.version && h.digest() == roster::digest(&r.clerks) {
            return Ok(Ok(h));
        }
    }
    let h = Held {
        roster: r,
        received_ms: now_ms,
    };
    let value = serde_json::to_vec(&h).expect("a roster serialises");
    let write: AuxWrite = (key(municipality, node_id), Some(value));
    store.aux_write(&[write])?;
    Ok(Ok(h))
}
