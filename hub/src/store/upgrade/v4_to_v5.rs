//! Layout 4 (one value per record state) to layout 5 (states in buckets).

use super::super::{bucket_entries, bucket_key, Batch, HubStore, StoreError};
use super::LAYOUT_5;
use std::collections::HashMap;

impl HubStore {
    /// Rewrites a layout-4 database (one value per record state, under `records`) to layout 5:
    /// the states go into buckets ([`bucket_key`]). Everything else is the same in both layouts.
    /// In batches of about 10,000 records, each atomic (a bucket written and its records' old
    /// entries removed together), so an interrupted upgrade resumes where it stopped: what is left
    /// under `records` is what remains, merged into any bucket already written. The layout mark
    /// changes last, after a flush.
    pub(super) fn upgrade_from_4(&self) -> Result<(), StoreError> {
        tracing::info!("upgrading the hub database from layout 4 to layout 5 (states in buckets)");
        // The buckets of the batch being gathered. Number order is not quite bucket order (see
        // `bucket_key`), so a bucket may come back after another: it is merged here, and with
        // what an earlier batch (or an interrupted upgrade) wrote.
        let mut staged: HashMap<String, Vec<(String, Vec<u8>)>> = HashMap::new();
        let mut pending = 0usize;
        let mut done = 0u64;
        let write = |staged: &mut HashMap<String, Vec<(String, Vec<u8>)>>| {
            let mut batch = Batch::default();
            for (bucket, mut entries) in staged.drain() {
                for (regno, _) in &entries {
                    self.records.delete(&mut batch, regno.as_bytes());
                }
                if let Some(held) = self.buckets.get(bucket.as_bytes())? {
                    for (regno, state) in bucket_entries(&held)? {
                        if !entries.iter().any(|(r, _)| r == regno) {
                            entries.push((regno.to_string(), state.to_vec()));
                        }
                    }
                }
                let refs = entries.iter().map(|(r, s)| (r.as_str(), s.as_slice()));
                self.put_bucket(&mut batch, &bucket, refs.collect());
            }
            self.backend.apply(batch)
        };
        for r in self.records.iter() {
            let (k, v) = r?;
            let regno = String::from_utf8(k)
                .map_err(|_| StoreError::Corrupt("a record number is not UTF-8".into()))?;
            staged
                .entry(bucket_key(&regno).to_string())
                .or_default()
                .push((regno, v));
            pending += 1;
            done += 1;
            if pending == 10_000 {
                write(&mut staged)?;
                pending = 0;
            }
        }
        write(&mut staged)?;
        self.mark_layout(LAYOUT_5)?;
        tracing::info!(records = done, "hub database upgraded to layout 5");
        Ok(())
    }
}
