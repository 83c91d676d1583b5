//! Layout migrations, one file each: a database of an older layout is rewritten in place at
//! open, resumably (each step in atomic batches that an interrupted run recognises and skips),
//! and its layout mark changes last, after a flush.

mod v3_to_v4;
mod v4_to_v5;
mod v5_to_v6;

use super::{HubStore, StoreError};
use civreg_shared::seal::Sealer;
use std::sync::Arc;

/// The layout of the hub's database; a database of another layout is refused at open.
pub(super) const LAYOUT: &[u8] =
    b"civreg-hub 6: one tree, binary values, ops in runs, states in buckets, sealed at rest";

/// Layout 5: values in clear.
pub(super) const LAYOUT_5: &[u8] =
    b"civreg-hub 5: one tree, binary values, ops in runs, states in buckets";

/// Layout 4: ops in runs, one value per record state.
pub(super) const LAYOUT_4: &[u8] = b"civreg-hub 4: one tree, binary values, ops in runs";

/// Layout 3: binary values, one value per op.
pub(super) const LAYOUT_3: &[u8] = b"civreg-hub 3: one tree, binary values";

/// The layout before binary values: ops, states and heads in JSON.
pub(super) const LAYOUT_2: &[u8] = b"civreg-hub 2: one tree";

impl HubStore {
    /// Brings the database to the current layout ([`LAYOUT`]): checks the key of a current one,
    /// upgrades an older one step by step, marks a new one; refuses what it can not read.
    ///
    /// Anything but the current layout is handled under the backend's layout lock
    /// ([`super::HubBackend::with_layout_lock`]), the mark read again once it is held: of two
    /// hubs opening one database of an older layout at once, one upgrades, the other waits and
    /// then finds the current layout.
    pub(super) fn bring_to_current(&mut self, keys: &Arc<Sealer>) -> Result<(), StoreError> {
        if self.backend.layout()?.is_some_and(|v| v == LAYOUT) {
            return self.check_key(keys, false);
        }
        let backend = self.backend.clone();
        backend.with_layout_lock(&mut || self.bring_to_current_locked(keys))
    }

    /// [`bring_to_current`](Self::bring_to_current), under the layout lock.
    fn bring_to_current_locked(&mut self, keys: &Arc<Sealer>) -> Result<(), StoreError> {
        let path = self.backend.location();
        match self.backend.layout()? {
            Some(v) if v == LAYOUT => self.check_key(keys, false)?,
            Some(v) if v == LAYOUT_5 => self.upgrade_from_5(keys)?,
            Some(v) if v == LAYOUT_4 => {
                self.upgrade_from_4()?;
                self.upgrade_from_5(keys)?;
            }
            Some(v) if v == LAYOUT_3 => {
                self.upgrade_from_3()?;
                self.upgrade_from_4()?;
                self.upgrade_from_5(keys)?;
            }
            Some(v) if v == LAYOUT_2 => {
                return Err(StoreError::Corrupt(format!(
                    "{path} holds a hub database of layout 2 (JSON values); this civreg-hub reads layouts 3 to 6 only: move it aside and let the nodes push again"
                )))
            }
            Some(v) => {
                return Err(StoreError::Corrupt(format!(
                    "unknown hub database layout {:?}: upgrade civreg-hub",
                    String::from_utf8_lossy(&v)
                )))
            }
            None => {
                self.check_key(keys, true)?;
                self.backend.set_layout(LAYOUT)?;
            }
        }
        Ok(())
    }

    /// Marks the database as of `layout` once everything written so far is durable (the last
    /// step of an upgrade), and makes the mark durable ([`super::HubBackend::set_layout`]).
    fn mark_layout(&self, layout: &[u8]) -> Result<(), StoreError> {
        self.backend.set_layout(layout)
    }
}
