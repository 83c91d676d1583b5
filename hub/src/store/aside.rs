//! Ops set aside: an operator's way out when the hub refuses an office's op for good.
//!
//! A node's chain is pushed in order, so one op the hub will never take (saved by an older
//! version before ops were checked at save, or of a kind the municipality's rollout no longer
//! allows) stops everything the office saves after it. An operator who has read the refusal can
//! **set that op aside**: the hub takes the op's place in the chain by its hash alone, applies it
//! to no record, keeps it out of every feed, and takes the office's next op on top of it.
//!
//! - Only the op the hub expects next of that chain (its head + 1) can be set aside, and only
//!   by the hash a hub saw when it refused the op ([`HubStore::note_refused`], kept in the store
//!   under `refused/CHAIN`, so that an operator at any hub over the database sees it), or that the
//!   office reported in its heartbeat when the op is too large for any message. (A hash that
//!   is not the office's op would make the office's next push find a fork and stop
//!   registering, which is why operators never type one.) Until the hub takes the office's
//!   next op, [`HubStore::undo_set_aside`] puts it back.
//! - The decision is kept under `aside/CHAIN/SEQ` in the aux keyspace (sealed at rest), with who
//!   decided, when, why, and what the hub knew of the op. The chain's head moves to it in the
//!   same atomic write.
//! - [`HubStore::stored_hash`] answers with the set-aside hash, so a node that pushes the op
//!   again is told the hub holds it; [`HubStore::op`] and [`HubStore::chain_ops`] do not return
//!   it (the hub never held its content: the office's own log keeps it, tamper-evident).
//! - Nodes learn of it in the heartbeat reply, and re-derive the record without the op, so that
//!   both sides hold the same op set and the same state (the merge is a function of the set).

use super::backend::Applied;
use super::{chain_key, Batch, HubStore, StoreError};
use civreg_shared::op::Hash;
use serde::{Deserialize, Serialize};

const PREFIX: &str = super::aux::ASIDE;

/// One op set aside (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAside {
    pub municipality: String,
    pub node_id: String,
    pub seq: u64,
    pub hash: Hash,
    /// The record the op was of, when the hub saw the op.
    pub record_id: Option<String>,
    /// Why the hub refused it, when it saw it.
    pub refusal: Option<String>,
    /// The operator's reason.
    pub reason: String,
    pub operator: String,
    pub at_ms: u64,
}

/// The last op of a chain the hub refused for its content, as it saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedOp {
    pub seq: u64,
    pub hash: Hash,
    pub record_id: String,
    pub why: String,
    pub at_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum AsideError {
    #[error("the hub holds no op of {chain} yet and knows no such office: check the municipality and node id (`civreg-hub status` lists them)")]
    UnknownChain { chain: String },
    #[error("op #{seq} of {chain} is not the next op the hub expects: it holds up to #{held}, so only #{} can be set aside", held + 1)]
    NotNext { chain: String, seq: u64, held: u64 },
    #[error("the hub has not seen op #{seq} of {chain} refused, so it does not know its hash: give it with --hash (the office's `civreg-node status` prints it)")]
    NoHash { chain: String, seq: u64 },
    #[error("the hash given is not the hash of op #{seq} of {chain} that the hub refused ({seen}): check what was copied")]
    WrongHash { chain: String, seq: u64, seen: Hash },
    #[error("a reason is required: say why (it is kept with the decision)")]
    NoReason,
    #[error("op #{seq} of {chain} was not set aside")]
    NotSetAside { chain: String, seq: u64 },
    #[error("op #{seq} of {chain} can no longer be put back: the hub has taken the office's ops after it (up to #{held})")]
    Followed { chain: String, seq: u64, held: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn key(chain: &str, seq: u64) -> Vec<u8> {
    format!("{PREFIX}{chain}/{seq:020}").into_bytes()
}

fn refused_key(chain: &str) -> Vec<u8> {
    super::aux::aux_key(super::aux::REFUSED, chain)
}

impl HubStore {
    /// Remembers the op of `chain` the hub last refused for its content, in the store (every
    /// hub over the database sees it). Last writer wins, harmlessly: each hub writes what it
    /// refused of the chain's next op, and a node pushes one op at a time after a refusal. Not
    /// flushed on its own (the next flush carries it; a node that is refused pushes the op
    /// again, so one lost in a crash is noted again), and written once per op by this store.
    pub fn note_refused(
        &self,
        municipality: &str,
        node_id: &str,
        op: &civreg_shared::op::Op,
        why: String,
    ) {
        self.note_refused_seq(
            municipality,
            node_id,
            op.id.seq,
            op.hash,
            &op.record_id,
            why,
        )
    }

    /// [`note_refused`](Self::note_refused) of an op known by number and hash only (one too
    /// large to push, as its office reports it).
    pub fn note_refused_seq(
        &self,
        municipality: &str,
        node_id: &str,
        seq: u64,
        hash: Hash,
        record_id: &str,
        why: String,
    ) {
        let chain = chain_key(municipality, node_id);
        let mut noted = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        if noted.get(&chain) == Some(&(seq, hash)) {
            return; // this store wrote it already
        }
        let entry = RefusedOp {
            seq,
            hash,
            record_id: record_id.to_string(),
            why,
            at_ms: civreg_runtime::clock::now_ms(),
        };
        let mut batch = Batch::default();
        self.aux.put(
            &mut batch,
            refused_key(&chain),
            serde_json::to_vec(&entry).expect("a refusal serialises"),
        );
        match self.backend.apply(batch) {
            Ok(()) => {
                if noted.len() >= 10_000 {
                    noted.clear(); // bounded: only saves writing the same refusal again
                }
                noted.insert(chain, (seq, hash));
            }
            Err(e) => {
                tracing::warn!(chain = %chain, seq, error = %e, "refused op not noted in the store")
            }
        }
    }

    /// The op of `chain` a hub last refused for its content, as the store holds it.
    fn refused_stored(&self, chain: &str) -> Result<Option<RefusedOp>, StoreError> {
        self.aux
            .get(refused_key(chain))?
            .map(|v| {
                serde_json::from_slice(&v)
                    .map_err(|_| StoreError::Corrupt(format!("refused op of {chain}")))
            })
            .transpose()
    }

    /// The op of a chain a hub last refused for its content, while it is still the next op
    /// the hub expects of that chain.
    pub fn refused_op(&self, municipality: &str, node_id: &str) -> Option<RefusedOp> {
        let chain = chain_key(municipality, node_id);
        let held = self.head(municipality, node_id).seq;
        match self.refused_stored(&chain) {
            Ok(r) => r.filter(|r| r.seq == held + 1),
            Err(e) => {
                tracing::warn!(chain = %chain, error = %e, "refused op not read");
                None
            }
        }
    }

    /// Sets aside op `seq` of a node's chain (see the module docs), durably; returns the
    /// decision as kept.
    pub fn set_aside(
        &self,
        municipality: &str,
        node_id: &str,
        seq: u64,
        hash: Option<Hash>,
        reason: &str,
        operator: &str,
    ) -> Result<SetAside, AsideError> {
        let chain = chain_key(municipality, node_id);
        if reason.trim().is_empty() {
            return Err(AsideError::NoReason);
        }
        let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        // Decided on the head as the database holds it, written only if it has not moved
        // (another hub may take the office's op meanwhile).
        for _ in 0..super::commit::MAX_ATTEMPTS {
            self.refresh_heads(&mut heads, [chain.as_str()])?;
            let refused = self.refused_stored(&chain)?;
            // A chain the hub holds nothing of yet: its very first op can be set aside once a
            // hub has seen it refused (or is told its hash); any other is a typo in the names.
            let held = match heads.get(&chain).copied() {
                Some(h) => h,
                None if seq == 1 && (hash.is_some() || refused.is_some()) => super::Head {
                    seq: 0,
                    hash: civreg_shared::op::GENESIS,
                },
                None => return Err(AsideError::UnknownChain { chain }),
            };
            if seq != held.seq + 1 {
                return Err(AsideError::NotNext {
                    chain,
                    seq,
                    held: held.seq,
                });
            }
            let seen = refused.filter(|r| r.seq == seq);
            let hash = match (hash, &seen) {
                (Some(h), Some(s)) if h != s.hash => {
                    return Err(AsideError::WrongHash {
                        chain,
                        seq,
                        seen: s.hash,
                    })
                }
                (Some(h), _) => h,
                (None, Some(s)) => s.hash,
                (None, None) => return Err(AsideError::NoHash { chain, seq }),
            };
            let entry = SetAside {
                municipality: municipality.to_string(),
                node_id: node_id.to_string(),
                seq,
                hash,
                record_id: seen.as_ref().map(|s| s.record_id.clone()),
                refusal: seen.as_ref().map(|s| s.why.clone()),
                reason: civreg_shared::redact::redact(reason.trim()),
                operator: operator.to_string(),
                at_ms: civreg_runtime::clock::now_ms(),
            };
            let mut batch = Batch::default();
            self.aux.put(
                &mut batch,
                key(&chain, seq),
                serde_json::to_vec(&entry).expect("decision serialises"),
            );
            self.aux.delete(&mut batch, refused_key(&chain));
            self.chains.put(
                &mut batch,
                chain.as_bytes(),
                super::codec::encode_head(seq, &hash).to_vec(),
            );
            let condition = [self.head_condition(&heads, &chain)];
            if let Applied::Conflict(_) = self.backend.apply_if(&condition, &batch)? {
                continue;
            }
            self.flush()?;
            heads.insert(chain.clone(), super::Head { seq, hash });
            return Ok(entry);
        }
        Err(super::commit::contended().into())
    }

    /// Undoes [`set_aside`](Self::set_aside) (a wrong hash typed, say) while nothing of the
    /// office was taken after it: the chain's head goes back to the op before, and the hub
    /// expects op `seq` again. Returns the decision undone.
    pub fn undo_set_aside(
        &self,
        municipality: &str,
        node_id: &str,
        seq: u64,
        reason: &str,
    ) -> Result<SetAside, AsideError> {
        let chain = chain_key(municipality, node_id);
        if reason.trim().is_empty() {
            return Err(AsideError::NoReason);
        }
        let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..super::commit::MAX_ATTEMPTS {
            self.refresh_heads(&mut heads, [chain.as_str()])?;
            let held = heads.get(&chain).copied().unwrap_or_default();
            let entry: SetAside = match self.aux.get(key(&chain, seq))? {
                Some(v) => serde_json::from_slice(&v).map_err(|_| {
                    StoreError::Corrupt(format!("set-aside decision {chain}#{seq}"))
                })?,
                None => return Err(AsideError::NotSetAside { chain, seq }),
            };
            if held.seq != seq {
                return Err(AsideError::Followed {
                    chain,
                    seq,
                    held: held.seq,
                });
            }
            let before = if seq == 1 {
                civreg_shared::op::GENESIS
            } else {
                self.stored_hash(&chain, seq - 1)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?
                    .ok_or_else(|| StoreError::Corrupt(format!("{chain} has no op #{}", seq - 1)))?
            };
            let mut batch = Batch::default();
            self.aux.delete(&mut batch, key(&chain, seq));
            self.chains.put(
                &mut batch,
                chain.as_bytes(),
                super::codec::encode_head(seq - 1, &before).to_vec(),
            );
            let condition = [self.head_condition(&heads, &chain)];
            if let Applied::Conflict(_) = self.backend.apply_if(&condition, &batch)? {
                continue;
            }
            self.flush()?;
            heads.insert(
                chain.clone(),
                super::Head {
                    seq: seq - 1,
                    hash: before,
                },
            );
            return Ok(entry);
        }
        Err(super::commit::contended().into())
    }

    /// The hash of op `seq` of `chain` if it was set aside.
    pub(super) fn aside_hash(&self, chain: &str, seq: u64) -> Result<Option<Hash>, StoreError> {
        match self.aux.get(key(chain, seq))? {
            None => Ok(None),
            Some(v) => serde_json::from_slice::<SetAside>(&v)
                .map(|e| Some(e.hash))
                .map_err(|_| StoreError::Corrupt(format!("set-aside decision {chain}#{seq}"))),
        }
    }

    /// The ops of one node's chain that were set aside, in order.
    pub fn set_aside_of(
        &self,
        municipality: &str,
        node_id: &str,
    ) -> Result<Vec<SetAside>, StoreError> {
        let prefix = format!("{PREFIX}{}/", chain_key(municipality, node_id));
        self.decisions(prefix.as_bytes())
    }

    /// Every op set aside, by chain and sequence number.
    pub fn all_set_aside(&self) -> Result<Vec<SetAside>, StoreError> {
        self.decisions(PREFIX.as_bytes())
    }

    fn decisions(&self, prefix: &[u8]) -> Result<Vec<SetAside>, StoreError> {
        self.aux
            .scan_prefix(prefix)
            .map(|r| {
                let (k, v) = r?;
                serde_json::from_slice(&v).map_err(|_| {
                    StoreError::Corrupt(format!(
                        "set-aside decision {}",
                        String::from_utf8_lossy(&k)
                    ))
                })
            })
            .collect()
    }
}
