//! Layout 5 (values in clear) to layout 6 (sealed at rest, [`super::super::seal`]).

use super::super::seal::Space;
use super::super::{Batch, HubStore, StoreError};
use super::LAYOUT;
use civreg_shared::seal::Sealer;
use std::sync::Arc;

impl HubStore {
    /// Rewrites a layout-5 database (every value in clear) to layout 6: the values of the sealed
    /// keyspaces are sealed with `keys` in place. The key check is written first, so an
    /// interrupted upgrade resumes only with the same key; then batches of 10,000 values, each
    /// atomic; a value that already opens with the key was sealed by an interrupted run and is
    /// skipped (a value in clear never opens: the tag fails). The layout mark changes last,
    /// after a flush.
    pub(super) fn upgrade_from_5(&mut self, keys: &Arc<Sealer>) -> Result<(), StoreError> {
        tracing::info!("upgrading the hub database from layout 5 to layout 6 (sealed at rest)");
        self.check_key(keys, true)?;
        let mut done = 0u64;
        let spaces: Vec<Space> = self.sealed_spaces().map(|s| s.clone()).to_vec();
        for plain in spaces {
            let sealed = plain.sealed_with(keys);
            let mut batch = Batch::default();
            let mut pending = 0usize;
            for r in plain.iter() {
                let (k, v) = r?;
                if keys.open(plain.name, &k, &v).is_ok() {
                    continue;
                }
                sealed.put(&mut batch, &k, v);
                pending += 1;
                done += 1;
                if pending == 10_000 {
                    self.backend.apply(std::mem::take(&mut batch))?;
                    pending = 0;
                }
            }
            self.backend.apply(batch)?;
        }
        self.mark_layout(LAYOUT)?;
        tracing::info!(values = done, "hub database upgraded to layout 6");
        Ok(())
    }
}
