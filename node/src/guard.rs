//! What the node knows, before a clerk saves, of why the hub would refuse the op: an op the node
//! saved must never be refused for a reason the node could have known, because it then blocks
//! every op behind it in the office's queue.
//!
//! Three facts reach the node with sync and are kept in its `meta` tree (so a restart keeps
//! them):
//! - `halted`: the node found that it is behind its own log at the hub (its database is older
//!   than what it already sent, or the chains forked). It then registers nothing until the agency
//!   acts, so that it never mints a number the hub already holds.
//! - `rollout`: the municipality's stage and the record kinds it may register, from the hub's
//!   last heartbeat reply; a create of another kind is refused at save.
//! - `clock`: the node's clock offset from the hub's at the last heartbeat; a node whose clock is
//!   ahead by more than [`MAX_CLOCK_AHEAD_MS`] refuses to save until the PC's date and time are
//!   corrected (the hub would refuse such ops until its own clock catches up).

use crate::node::{Node, NodeError};
use crate::store::{Batch, Tree};
use civreg_shared::model::RecordKind;
use civreg_shared::op::{ChangeKind, MAX_CLOCK_AHEAD_MS};
use serde::{Deserialize, Serialize};

pub(crate) const HALTED: &[u8] = b"halted";
const ROLLOUT: &[u8] = b"rollout";
const CLOCK: &[u8] = b"clock";

/// The municipality's rollout as the hub last told it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutView {
    pub stage: String,
    pub kinds: Vec<RecordKind>,
    pub at_ms: u64,
}

/// The node's clock against the hub's at the last heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockView {
    /// The node's clock minus the hub's, in milliseconds (positive: the node is ahead).
    pub ahead_ms: i64,
    pub at_ms: u64,
}

/// Why the node stopped registering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halt {
    pub why: String,
    pub at_ms: u64,
}

/// Everything the guard knows, for `status`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Guard {
    pub halted: Option<Halt>,
    pub rollout: Option<RolloutView>,
    pub clock: Option<ClockView>,
}

fn kinds_text(kinds: &[RecordKind]) -> String {
    if kinds.is_empty() {
        return "no records".into();
    }
    kinds
        .iter()
        .map(|k| format!("{k} records"))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn minutes(ms: i64) -> i64 {
    (ms + 59_999) / 60_000
}

impl Guard {
    /// Whether a clerk may save an op of this kind and change now; if not, why, in the clerk's
    /// terms.
    pub fn check(&self, kind: RecordKind, change: ChangeKind) -> Result<(), NodeError> {
        if let Some(h) = &self.halted {
            return Err(NodeError::Halted(h.why.clone()));
        }
        if let Some(c) = &self.clock {
            if c.ahead_ms > MAX_CLOCK_AHEAD_MS as i64 {
                return Err(NodeError::ClockAhead {
                    minutes: minutes(c.ahead_ms),
                });
            }
        }
        if change == ChangeKind::Create {
            if let Some(r) = &self.rollout {
                if !r.kinds.contains(&kind) {
                    return Err(NodeError::KindNotAllowed {
                        kind,
                        allowed: kinds_text(&r.kinds),
                    });
                }
            }
        }
        Ok(())
    }
}

impl Node {
    fn meta_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
    ) -> Result<Option<T>, NodeError> {
        match self.store().get(Tree::Meta, key)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v).map(Some).map_err(|_| {
                NodeError::Corrupt(format!("node metadata ({})", String::from_utf8_lossy(key)))
            }),
        }
    }

    /// What the node knows of the hub's rules (see the module docs).
    pub fn guard(&self) -> Result<Guard, NodeError> {
        Ok(Guard {
            halted: self.meta_json(HALTED)?,
            rollout: self.meta_json(ROLLOUT)?,
            clock: self.meta_json(CLOCK)?,
        })
    }

    /// Why this node has stopped registering, if it has.
    pub fn halted(&self) -> Result<Option<Halt>, NodeError> {
        self.meta_json(HALTED)
    }

    fn put_meta_json<T: Serialize>(&self, key: &[u8], value: &T) -> Result<(), NodeError> {
        let v = serde_json::to_vec(value).expect("guard metadata serialises");
        self.write(|tx| {
            let b: &mut Batch = tx.batch();
            b.put(Tree::Meta, key.to_vec(), v);
            Ok(())
        })
    }

    /// Stops registering, durably (kept across restarts), and says why. The first reason is kept.
    pub fn halt(&self, why: &str, at_ms: u64) -> Result<(), NodeError> {
        if self.halted()?.is_some() {
            return Ok(());
        }
        self.put_meta_json(
            HALTED,
            &Halt {
                why: why.to_string(),
                at_ms,
            },
        )
    }

    /// Records what the hub's last heartbeat reply said: the rollout (when the hub sent it) and
    /// the clocks.
    pub fn note_heartbeat(
        &self,
        rollout: Option<RolloutView>,
        clock: ClockView,
    ) -> Result<(), NodeError> {
        if let Some(r) = rollout {
            let old: Option<RolloutView> = self.meta_json(ROLLOUT)?;
            if old.as_ref().map(|o| (&o.stage, &o.kinds)) != Some((&r.stage, &r.kinds)) {
                self.put_meta_json(ROLLOUT, &r)?;
            }
        }
        let old: Option<ClockView> = self.meta_json(CLOCK)?;
        // Rewritten only when the offset moved noticeably (or crossed the bound): a heartbeat
        // every round should not cost a flush every round.
        let moved = match old {
            None => true,
            Some(o) => {
                (o.ahead_ms - clock.ahead_ms).abs() > 1_000
                    || (o.ahead_ms > MAX_CLOCK_AHEAD_MS as i64)
                        != (clock.ahead_ms > MAX_CLOCK_AHEAD_MS as i64)
            }
        };
        if moved {
            self.put_meta_json(CLOCK, &clock)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_refuses_in_the_clerks_terms() {
        let mut g = Guard::default();
        assert!(g.check(RecordKind::Death, ChangeKind::Create).is_ok());
        g.rollout = Some(RolloutView {
            stage: "pilot".into(),
            kinds: vec![RecordKind::Birth],
            at_ms: 0,
        });
        let e = g.check(RecordKind::Death, ChangeKind::Create).unwrap_err();
        assert!(e.to_string().contains("birth records"), "{e}");
        assert!(g.check(RecordKind::Death, ChangeKind::Amend).is_ok());
        assert!(g.check(RecordKind::Birth, ChangeKind::Create).is_ok());
        g.clock = Some(ClockView {
            ahead_ms: MAX_CLOCK_AHEAD_MS as i64 + 120_000,
            at_ms: 0,
        });
        let e = g.check(RecordKind::Birth, ChangeKind::Create).unwrap_err();
        assert!(e.to_string().contains("date and time"), "{e}");
        g.halted = Some(Halt {
            why: "older".into(),
            at_ms: 0,
        });
        let e = g.check(RecordKind::Birth, ChangeKind::Amend).unwrap_err();
        assert!(e.to_string().contains("stopped registering"), "{e}");
    }

    #[test]
    fn a_halt_survives_and_blocks_every_save() {
        let node = Node::in_memory("prishtine", "1").unwrap();
        node.halt("the hub holds op #3", 1).unwrap();
        node.halt("another reason", 2).unwrap();
        assert_eq!(node.halted().unwrap().unwrap().why, "the hub holds op #3");
        assert!(node
            .guard()
            .unwrap()
            .check(RecordKind::Birth, ChangeKind::Create)
            .is_err());
    }
}
