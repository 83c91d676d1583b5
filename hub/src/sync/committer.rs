//! The committer: one thread that takes every push batch waiting, verifies them against the
//! store's rules, commits them in one atomic write and flushes once (group commit), then answers
//! each batch. Acknowledgements leave only after the flush.

use crate::metrics::Metrics;
use crate::pki::PeerIdentity;
use crate::store::{Head, HubStore, IngestError, Prepared};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

/// Most pushes the committer folds into one flush (default of `sync.group_max_pushes`).
pub const GROUP_MAX_PUSHES: usize = 64;
/// The default of `sync.group_max_ops`: the committer stops adding pushes to a group once it holds this many ops. Bigger groups
/// flush less often but cost more per op in sled's `apply_batch`; the cap was chosen by the
/// sync bench (BENCHMARKS.md, "Sync": the measured cost per op by group size).
pub const GROUP_MAX_OPS: usize = 4096;

pub type Reply = Result<Result<Head, IngestError>, String>;

pub struct Job {
    pub who: PeerIdentity,
    pub ops: Vec<Prepared>,
    pub reply: oneshot::Sender<Reply>,
}

/// Runs ingest on one thread: takes every push waiting (up to `max_pushes` pushes, and no more
/// once the group holds `max_ops` ops), verifies them, commits and flushes once.
pub fn spawn(
    store: Arc<HubStore>,
    metrics: Arc<Metrics>,
    max_pushes: usize,
    max_ops: usize,
) -> mpsc::Sender<Job> {
    let (max_pushes, max_ops) = (max_pushes.max(1), max_ops.max(1));
    let (tx, mut rx) = mpsc::channel::<Job>(1024);
    std::thread::Builder::new()
        .name("civreg-committer".into())
        .spawn(move || {
            while let Some(first) = rx.blocking_recv() {
                let mut ops = first.ops.len();
                let mut jobs = vec![first];
                while jobs.len() < max_pushes && ops < max_ops {
                    match rx.try_recv() {
                        Ok(j) => {
                            ops += j.ops.len();
                            jobs.push(j);
                        }
                        Err(_) => break,
                    }
                }
                let pushes = jobs
                    .iter_mut()
                    .map(|j| (j.who.clone(), std::mem::take(&mut j.ops)))
                    .collect();
                // metrics: the heads before, so that only newly stored ops are counted.
                let before: Vec<(String, u64)> = jobs
                    .iter()
                    .map(|j| match &j.who {
                        PeerIdentity::Node {
                            municipality,
                            node_id,
                        } => (
                            format!("{municipality}/{node_id}"),
                            store.head(municipality, node_id).seq,
                        ),
                        other => (other.to_string(), 0),
                    })
                    .collect();
                match store.ingest_prepared(pushes) {
                    Ok(answers) => {
                        metrics.ingested(&before, &answers);
                        for (j, a) in jobs.into_iter().zip(answers) {
                            let _ = j.reply.send(Ok(a));
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, "ingest failed: nothing of this group was acknowledged");
                        for j in jobs {
                            let _ = j.reply.send(Err(e.to_string()));
                        }
                    }
                }
            }
        })
        .expect("spawn committer thread");
    tx
}
