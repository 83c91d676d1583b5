//! What a restored or rebuilt node needs of [`Node`] (issue 17 part A): a consistent view of
//! every tree for a backup, the "restored" mark that keeps it from registering until it has
//! caught up with the hub, and the re-fetched ops of its own chain, appended after a check of
//! the hash chain.
//!
//! A node restored from a backup (or rebuilt from nothing by `init --recover`) may be older than
//! what the hub holds of its chain. Registering then would mint sequence numbers and
//! registration numbers the hub already holds for other entries. So `restore` and `recover`
//! write, in one durable write, `restored` (how, from which backup) and `halted` (the guard
//! refuses every save); the next sync round fetches the chain from the hub after the node's head
//! (`sync::fetch_own`, through [`Node::append_own_from_hub`]), pushes what the backup held that
//! the hub never received, and only then, when the hub holds the node's whole log, lifts both
//! ([`Node::finish_restore`]).

use super::{Head, Node, NodeError};
use crate::store::{Batch, Store, Tree};
use civreg_shared::ids::RegNo;
use civreg_shared::op::{ChangeKind, Hash, Hlc, Op};
use serde::{Deserialize, Serialize};

const RESTORED: &[u8] = b"restored";
/// The highest log head this node ever reported to the hub, as the hub says it (meta).
const REPORTED_LOG: &[u8] = b"reported_log";

/// How this node was restored, while it has not caught up with the hub yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restored {
    /// `backup` (restored from a snapshot) or `recover` (rebuilt from the hub alone).
    pub how: String,
    /// The snapshot's id (empty for a recovery).
    pub backup: String,
    /// The node's log head when it was restored (the snapshot's; 0 for a recovery).
    pub from_seq: u64,
    pub at_ms: u64,
    /// The reason written to `halted` with it (lifted together).
    pub why: String,
}

/// The node's chain head and acknowledgement at the moment a snapshot was read.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SnapshotHead {
    pub seq: u64,
    pub hash: Hash,
    pub hub_acked: u64,
}

impl Node {
    /// Runs `f` over the store while no write can happen (the single writer lock is held), so
    /// that everything it reads is one state of every tree: a consistent snapshot. Registration
    /// waits meanwhile.
    pub(crate) fn with_writes_held<T>(
        &self,
        f: impl FnOnce(&dyn Store, SnapshotHead) -> T,
    ) -> Result<T, NodeError> {
        let head = self.lock_head();
        let snap = SnapshotHead {
            seq: head.seq,
            hash: head.hash,
            hub_acked: self.hub_acked()?,
        };
        let out = f(self.store.as_ref(), snap);
        drop(head);
        Ok(out)
    }

    /// The chain head's hash (zeros for an empty log).
    pub fn head_hash(&self) -> Hash {
        self.lock_head().hash
    }

    /// Set while a restored or rebuilt node has not caught up with the hub.
    pub fn restored(&self) -> Result<Option<Restored>, NodeError> {
        match self.store.get(Tree::Meta, RESTORED)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|_| NodeError::Corrupt("node metadata (restored)".into())),
        }
    }

    /// Marks the node restored (`how`: `backup` or `recover`) and stops registration until it
    /// has caught up with the hub, in one durable write. Replaces an earlier halt's reason.
    pub fn mark_restored(
        &self,
        how: &str,
        backup: &str,
        at_ms: u64,
    ) -> Result<Restored, NodeError> {
        let why = format!(
            "this node was {} at {}: it registers again once it has caught up with the hub (the next sync, `civreg-node sync --once` or `serve`)",
            if how == "recover" {
                "rebuilt from the hub"
            } else {
                "restored from a backup"
            },
            chrono::DateTime::from_timestamp_millis(at_ms as i64)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default()
        );
        let r = Restored {
            how: how.to_string(),
            backup: backup.to_string(),
            from_seq: self.log_len(),
            at_ms,
            why: why.clone(),
        };
        let halt = crate::guard::Halt { why, at_ms };
        self.write(|tx| {
            let b: &mut Batch = tx.batch();
            b.put(
                Tree::Meta,
                RESTORED.to_vec(),
                serde_json::to_vec(&r).expect("restored serialises"),
            );
            b.put(
                Tree::Meta,
                crate::guard::HALTED.to_vec(),
                serde_json::to_vec(&halt).expect("halt serialises"),
            );
            Ok(())
        })?;
        Ok(r)
    }

    /// Lifts the restore's mark and its halt (not a halt for another reason found since), in
    /// one write. Called once the hub holds this node's whole log. Returns whether it did.
    pub fn finish_restore(&self) -> Result<bool, NodeError> {
        let Some(r) = self.restored()? else {
            return Ok(false);
        };
        let halt = self.halted()?;
        self.write(|tx| {
            tx.batch().delete(Tree::Meta, RESTORED.to_vec());
            if halt.as_ref().is_some_and(|h| h.why == r.why) {
                tx.batch().delete(Tree::Meta, crate::guard::HALTED.to_vec());
            }
            Ok(())
        })?;
        Ok(true)
    }

    /// Appends ops of this node's own chain that the hub sent back (after the node's head), in
    /// one durable write: each must be this node's, the next number, linked to the op before it
    /// and hashed right, or nothing is stored. Their records are re-merged, the registration
    /// counters move past every number they minted (so no number is minted twice), and the
    /// clock follows theirs.
    pub fn append_own_from_hub(&self, ops: &[Op]) -> Result<usize, NodeError> {
        for op in ops {
            op.check()
                .map_err(|e| NodeError::OwnChain(format!("op {}: {e}", op.id)))?;
        }
        let id = self.identity.clone();
        self.write(|tx| {
            for op in ops {
                if op.id.municipality != id.municipality || op.id.node_id != id.node_id {
                    return Err(NodeError::OwnChain(format!(
                        "op {} is not of this node's chain",
                        op.id
                    )));
                }
                if op.id.seq != tx.head.seq + 1 {
                    return Err(NodeError::OwnChain(format!(
                        "op {} does not follow #{}",
                        op.id, tx.head.seq
                    )));
                }
                if op.prev_hash != tx.head.hash {
                    return Err(NodeError::OwnChain(format!(
                        "op {} does not link to this node's op #{} (the chains forked)",
                        op.id, tx.head.seq
                    )));
                }
                let key = op.id.seq.to_be_bytes();
                let plain = serde_json::to_vec(op).expect("op serialises");
                let sealed = self.crypto.seal(Tree::Ops.name(), &key, &plain);
                tx.batch().put(Tree::Ops, key.to_vec(), sealed);
                tx.ops += 1;
                tx.staged.insert(op.id.clone(), op.clone());
                let st = tx.state(&op.record_id)?;
                if !st.as_ref().is_some_and(|st| st.ops.contains(&op.id)) {
                    let merged = tx.merged_with(st.as_ref(), op)?;
                    tx.put_state(merged);
                }
                if op.change == ChangeKind::Create {
                    if let Ok(n) = RegNo::parse(&op.record_id) {
                        let mine =
                            RegNo::mint(&id.municipality, n.year, n.kind, &id.node_id, n.seq);
                        if mine.to_string() == op.record_id {
                            let counter = format!("{}-{}", n.year, n.kind.letter());
                            let cur = match tx.regseq.get(&counter) {
                                Some(v) => *v,
                                None => match self.store.get(Tree::RegSeq, counter.as_bytes())? {
                                    Some(b) => {
                                        u64::from_be_bytes(b.as_slice().try_into().map_err(
                                            |_| NodeError::Corrupt(format!("sequence {counter}")),
                                        )?)
                                    }
                                    None => 0,
                                },
                            };
                            if n.seq > cur {
                                tx.regseq.insert(counter.clone(), n.seq);
                                tx.batch().put(
                                    Tree::RegSeq,
                                    counter.into_bytes(),
                                    n.seq.to_be_bytes().to_vec(),
                                );
                            }
                        }
                    }
                }
                let (hlc, _) = Hlc::receive(tx.head.hlc, op.hlc, (self.clock)());
                tx.head = Head {
                    seq: op.id.seq,
                    hash: op.hash,
                    hlc: hlc.max(op.hlc),
                };
            }
            Ok(ops.len())
        })
    }

    /// The highest log head this node reported to the hub and when, as the hub's last
    /// heartbeat reply said: `(0, 0)` when unknown.
    pub fn reported_log(&self) -> Result<(u64, u64), NodeError> {
        Ok(match self.store.get(Tree::Meta, REPORTED_LOG)? {
            Some(v) if v.len() == 16 => (
                u64::from_be_bytes(v[..8].try_into().expect("8 bytes")),
                u64::from_be_bytes(v[8..].try_into().expect("8 bytes")),
            ),
            _ => (0, 0),
        })
    }

    /// Keeps what the hub said of this node's reported log head (written only when it changed).
    pub fn note_reported_log(&self, seq: u64, at_ms: u64) -> Result<(), NodeError> {
        if self.reported_log()? == (seq, at_ms) {
            return Ok(());
        }
        let mut v = seq.to_be_bytes().to_vec();
        v.extend_from_slice(&at_ms.to_be_bytes());
        self.write(|tx| {
            tx.batch().put(Tree::Meta, REPORTED_LOG.to_vec(), v);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civreg_shared::model::RecordKind;

    fn birth(given: &str) -> serde_json::Value {
        serde_json::json!({
            "child": {"given_name": given, "surname": "Gashi", "sex": "female", "date_of_birth": "2020-03-14"},
            "place_of_birth": "Prishtinë",
            "mother": {"given_name": "Drita", "surname": "Gashi", "maiden_surname": "Berisha"}
        })
    }

    #[test]
    fn a_restored_node_takes_its_own_ops_back_and_never_reuses_a_number() {
        let full = Node::in_memory("prishtine", "1").unwrap();
        let clerk = Node::clerk_unchecked("ana");
        let mut regnos = Vec::new();
        for g in ["Arben", "Besnik", "Driton"] {
            regnos.push(
                full.register(&clerk, RecordKind::Birth, birth(g))
                    .unwrap()
                    .regno,
            );
        }
        let ops: Vec<Op> = full.ops_after(0, 10).unwrap();
        // An older copy: the first op only.
        let old = Node::in_memory("prishtine", "1").unwrap();
        old.append_own_from_hub(&ops[..1]).unwrap();
        old.mark_restored("backup", "x", 1).unwrap();
        assert!(old
            .register(&clerk, RecordKind::Birth, birth("Fatos"))
            .is_err());
        // A gap or a broken link stores nothing.
        assert!(old.append_own_from_hub(&ops[2..]).is_err());
        let mut forged = ops[1].clone();
        forged.prev_hash = Hash([9; 32]);
        assert!(old.append_own_from_hub(&[forged.seal()]).is_err());
        assert_eq!(old.log_len(), 1);
        assert_eq!(old.append_own_from_hub(&ops[1..]).unwrap(), 2);
        assert_eq!(old.head_hash(), full.head_hash());
        assert!(old.finish_restore().unwrap());
        assert!(old.halted().unwrap().is_none());
        let next = old
            .register(&clerk, RecordKind::Birth, birth("Fatos"))
            .unwrap();
        assert!(!regnos.contains(&next.regno), "{} reused", next.regno);
        assert_eq!(next.seq, 4);
        let same = full
            .register(&clerk, RecordKind::Birth, birth("Fatos"))
            .unwrap();
        assert_eq!(next.regno, same.regno);
        assert!(old.verify().unwrap().ok);
    }
}
