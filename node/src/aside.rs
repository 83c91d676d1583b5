//! Ops of this node that the agency set aside.
//!
//! When the hub refuses one of this node's ops for good (saved by an older version before ops
//! were checked at save, or of a kind the municipality may no longer register), every op saved
//! after it waits behind it. An operator can set the op aside at the hub (`civreg-hub
//! set-aside`): the hub then holds it by its hash only and applies it to no record. The hub's
//! heartbeat reply lists the node's ops set aside; [`Node::note_set_aside`] keeps the list (meta
//! key `set_aside`) and re-derives each record from its other ops, so that node and hub hold the
//! same op set of the record and so the same state (a record whose only op was set aside is
//! removed). The op itself stays in the node's log, where `verify` still checks its hash;
//! `status` lists it.

use crate::node::{Node, NodeError};
use crate::store::Tree;
use civreg_shared::merge::merge;
use civreg_shared::op::Hash;
use serde::{Deserialize, Serialize};

const SET_ASIDE: &[u8] = b"set_aside";

/// One of this node's ops that the agency set aside, as the hub said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAsideOp {
    pub seq: u64,
    pub hash: Hash,
    /// The record it was of (from the node's own log).
    pub record_id: String,
    /// The operator's reason.
    pub reason: String,
    pub at_ms: u64,
}

impl Node {
    /// The ops of this node set aside by the agency, in order.
    pub fn set_aside_ops(&self) -> Result<Vec<SetAsideOp>, NodeError> {
        match self.store().get(Tree::Meta, SET_ASIDE)? {
            None => Ok(Vec::new()),
            Some(v) => serde_json::from_slice(&v)
                .map_err(|_| NodeError::Corrupt("node metadata (set_aside)".into())),
        }
    }

    /// Takes the hub's list of this node's ops set aside (seq, hash, reason, when): each one not
    /// yet known is dropped from its record, in one atomic write. An entry whose hash is not
    /// this node's op of that number, or that names an op this node does not hold, is ignored
    /// and logged (the hub's head then disagrees with this node's log, and sync says so).
    /// Returns how many were taken.
    pub fn note_set_aside(
        &self,
        from_hub: &[(u64, Hash, String, u64)],
    ) -> Result<usize, NodeError> {
        let mut known = self.set_aside_ops()?;
        let mut fresh: Vec<(civreg_shared::op::Op, String, u64)> = Vec::new();
        for (seq, hash, reason, at_ms) in from_hub {
            if known.iter().any(|k| k.seq == *seq) || fresh.iter().any(|(o, _, _)| o.id.seq == *seq)
            {
                continue;
            }
            match self.op(*seq)? {
                Some(op) if op.hash == *hash => fresh.push((op, reason.clone(), *at_ms)),
                Some(_) => tracing::error!(seq, "the hub set aside an op of this node's number with another hash: ignored; call the agency"),
                None => tracing::error!(seq, "the hub set aside an op this node does not hold: ignored; call the agency"),
            }
        }
        if fresh.is_empty() {
            return Ok(0);
        }
        let taken = fresh.len();
        self.write(|tx| {
            for (op, reason, at_ms) in &fresh {
                if let Some(st) = tx.state(&op.record_id)? {
                    if st.ops.contains(&op.id) {
                        let mut rest = st.clone();
                        rest.ops.retain(|id| *id != op.id);
                        let ops = tx.record_ops(&rest)?;
                        match merge(&ops) {
                            Some(state) => tx.put_state(state),
                            None => tx.remove_state(&op.record_id),
                        }
                    }
                }
                tracing::warn!(seq = op.id.seq, record = %op.record_id, reason = %reason, "op set aside by the agency: dropped from its record");
                known.push(SetAsideOp {
                    seq: op.id.seq,
                    hash: op.hash,
                    record_id: op.record_id.clone(),
                    reason: reason.clone(),
                    at_ms: *at_ms,
                });
            }
            known.sort_by_key(|k| k.seq);
            let v = serde_json::to_vec(&known).expect("list serialises");
            tx.batch().put(Tree::Meta, SET_ASIDE.to_vec(), v);
            Ok(())
        })?;
        // A record may have gone: the search index is rebuilt at its next use.
        *self.lock_index() = None;
        Ok(taken)
    }
}
