//! Decisions on `aux` state that several hubs may take at once: compare-and-set.
//!
//! Several hub processes over one database each decide on what they read (is this person
//! identifier free? the last number minted in a series? is this duplicates case still open?).
//! A decision that another hub could take differently at the same moment is written with
//! [`HubStore::aux_write_if`] (or [`HubStore::write_own_many_if`] with ops of the hub's own
//! chain): the batch applies only if every `aux` key the decision read ([`AuxReads`], noted by
//! [`HubStore::aux_get_noting`]) still holds what was read, byte for byte as stored. Otherwise
//! nothing is written and the caller decides again on fresh reads ([`HubStore::aux_decide`]
//! does the loop, bounded by the store's attempts).
//!
//! An absent key is a condition too (`None`): two hubs minting the same identifier both read
//! it absent, and only the first write applies.

use super::backend::{Applied, Expected};
use super::commit::{contended, MAX_ATTEMPTS};
use super::{AuxWrite, Batch, HubStore, StoreError};

/// The `aux` keys a decision read, with their values as stored: the conditions of its write.
#[derive(Debug, Default, Clone)]
pub struct AuxReads {
    read: Vec<Expected>,
}

impl AuxReads {
    /// Whether nothing was read.
    pub fn is_empty(&self) -> bool {
        self.read.is_empty()
    }

    /// Adds the reads of `other` (a decision made of parts).
    pub fn extend(&mut self, other: AuxReads) {
        for e in other.read {
            self.note(e);
        }
    }

    fn note(&mut self, e: Expected) {
        if !self.read.contains(&e) {
            self.read.push(e);
        }
    }

    pub(super) fn conditions(&self) -> &[Expected] {
        &self.read
    }

    /// Whether one of `keys` (a conflict's) is one of these reads.
    pub(super) fn names_any(&self, keys: &[Vec<u8>]) -> bool {
        keys.iter().any(|k| self.read.iter().any(|(r, _)| r == k))
    }
}

/// What [`HubStore::aux_decide`]'s decision gives: its answer and the writes that record it
/// (`None`: write nothing, answer now).
pub type Decided<T> = (T, Option<Vec<AuxWrite>>);

impl HubStore {
    /// [`aux_get`](Self::aux_get), noting the key and the value as stored in `reads`: a
    /// condition of the decision's write ([`aux_write_if`](Self::aux_write_if)).
    pub fn aux_get_noting(
        &self,
        key: &[u8],
        reads: &mut AuxReads,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let mut read = Vec::with_capacity(1);
        let v = self.aux.get_noting(key, &mut read)?;
        for e in read {
            reads.note(e);
        }
        Ok(v)
    }

    /// Applies `aux` (atomically, flushed) only if every key of `reads` still holds what was
    /// read; `false`: another writer changed one of them first, and nothing was written (read
    /// again and decide again). Serialised with ingest and the hub's own ops, as
    /// [`aux_write`](Self::aux_write).
    pub fn aux_write_if(&self, reads: &AuxReads, aux: &[AuxWrite]) -> Result<bool, StoreError> {
        let _heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        if aux.is_empty() {
            return Ok(true);
        }
        let mut batch = Batch::default();
        for (k, v) in aux {
            match v {
                Some(v) => self.aux.put(&mut batch, k, v.as_slice()),
                None => self.aux.delete(&mut batch, k),
            }
        }
        match self.backend.apply_if(reads.conditions(), &batch)? {
            Applied::Done => {
                self.flush()?;
                Ok(true)
            }
            Applied::Conflict(_) => Ok(false),
        }
    }

    /// Decides on `aux` state and records the decision by compare-and-set: `decide` reads
    /// through [`aux_get_noting`](Self::aux_get_noting) into the reads it is given, and
    /// returns its answer with the writes; when another writer changed what it read before the
    /// writes applied, it is called again on fresh reads (at most the store's attempts).
    pub fn aux_decide<T, E: From<StoreError>>(
        &self,
        mut decide: impl FnMut(&mut AuxReads) -> Result<Decided<T>, E>,
    ) -> Result<T, E> {
        for _ in 0..MAX_ATTEMPTS {
            let mut reads = AuxReads::default();
            let (answer, writes) = decide(&mut reads)?;
            match writes {
                None => return Ok(answer),
                Some(w) => {
                    if self.aux_write_if(&reads, &w)? {
                        return Ok(answer);
                    }
                }
            }
        }
        Err(contended().into())
    }

    /// How many times a decision is taken again after losing to other writers
    /// ([`aux_decide`](Self::aux_decide) and the callers of
    /// [`write_own_many_if`](Self::write_own_many_if)).
    pub const DECIDE_ATTEMPTS: usize = MAX_ATTEMPTS;

    /// The error of a decision that lost [`DECIDE_ATTEMPTS`](Self::DECIDE_ATTEMPTS) times.
    pub fn contended() -> StoreError {
        contended()
    }
}
