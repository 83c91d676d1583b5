//! Layout 3 (one value per op) to layout 4 (ops in runs).

use super::super::codec;
use super::super::{Batch, HubStore, StoreError};
use super::LAYOUT_4;

impl HubStore {
    /// Rewrites a layout-3 database (one value per op under `ops`, feed entries naming them) to
    /// layout 4: each op becomes a run of one under its own feed key, and its `ops` entry names
    /// that key. Record states, heads, conflicts and the rest are the same in both layouts. In
    /// batches of 10,000 ops, each atomic (a feed entry and its op change together), so an
    /// interrupted upgrade resumes where it stopped: converted entries are recognised and
    /// skipped. The layout mark changes last, after a flush.
    pub(super) fn upgrade_from_3(&self) -> Result<(), StoreError> {
        tracing::info!("upgrading the hub database from layout 3 to layout 4 (ops in runs)");
        let mut batch = Batch::default();
        let mut pending = 0usize;
        let mut done = 0u64;
        for r in self.feed.iter() {
            let (fk, v) = r?;
            if codec::is_run(&v) {
                continue;
            }
            let op = self.ops.get(&v)?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "upgrading from layout 3: a feed entry names op {:?}, which is missing",
                    String::from_utf8_lossy(&v)
                ))
            })?;
            self.feed
                .put(&mut batch, &fk, codec::encode_run(std::iter::once(&op[..])));
            self.ops.put(&mut batch, &v, fk.as_slice());
            pending += 1;
            done += 1;
            if pending == 10_000 {
                self.backend.apply(std::mem::take(&mut batch))?;
                pending = 0;
            }
        }
        self.backend.apply(batch)?;
        self.mark_layout(LAYOUT_4)?;
        tracing::info!(ops = done, "hub database upgraded to layout 4");
        Ok(())
    }
}
