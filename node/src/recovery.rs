//! The command line of backup and recovery (issue 17 part A): `backup`, `restore`, and
//! `init --bundle B --recover`. The mechanisms are in `backup.rs` (snapshots),
//! `node/restore.rs` (the restored mark, the own chain taken back) and `sync.rs`
//! (`fetch_own`, the catch-up at the start of a round); this file runs them and reports.

use crate::backup::{self, Manifest};
use crate::cli::Io;
use crate::clitext::{f, t};
use crate::node::{Node, Paths, RosterRestored};
use crate::sync::{self, SyncError, SyncReport};
use anyhow::{Context, Result};
use civreg_shared::i18n::Lang;
use serde::Serialize;
use serde_json::json;
use std::path::Path;

use civreg_runtime::clock::now_ms;

fn fmt_ms(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn out(io: &mut Io, json: bool, value: serde_json::Value, text: String) -> Result<()> {
    if json {
        writeln!(io.out, "{value}")?;
    } else {
        writeln!(io.out, "{text}")?;
    }
    Ok(())
}

/// `backup --out DIR`.
pub fn run_backup(node: &Node, paths: &Paths, io: &mut Io, json: bool, dir: &Path) -> Result<i32> {
    let (path, m) = backup::backup(node, dir)?;
    backup::note_made(&paths.data_dir, &path);
    let text = format!(
        "backup made: {}\nnode {}/{}, log up to #{} (the hub had acknowledged #{}), {} entries, {} bytes\nit is encrypted with this node's key file, which it does not contain: keep a copy of {} apart from the backups",
        path.display(),
        m.municipality,
        m.node_id,
        m.head_seq,
        m.hub_acked,
        m.entries,
        m.bytes,
        paths.key.display()
    );
    out(
        io,
        json,
        json!({"ok": true, "path": path, "manifest": m}),
        text,
    )?;
    Ok(0)
}

/// Sequence numbers as ranges: "#5-#9".
fn range(first: u64, last: u64) -> String {
    if first == last {
        format!("#{first}")
    } else {
        format!("#{first}-#{last}")
    }
}

/// What the first round after a restore or recovery did, and what is lost.
#[derive(Debug, Serialize)]
struct CatchUp {
    /// The round's outcome, or why it failed (the node then stays stopped).
    report: Option<SyncReport>,
    error: Option<String>,
    retryable: bool,
    /// The log's head after the round.
    log_seq: u64,
    /// The highest head the office ever reported to the hub, and when.
    reported_log_seq: u64,
    reported_log_at_ms: u64,
    /// Sequence numbers the office had saved (it said so in a heartbeat) that reached neither
    /// the backup nor the hub: `[first, last]`, or none.
    lost: Option<(u64, u64)>,
    registering: bool,
}

fn catch_up(paths: &Paths) -> Result<CatchUp> {
    let node = Node::open(paths)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = match crate::hublist::in_use(&paths.data_dir) {
        Ok(l) => rt
            .block_on(sync::sync_once_with(&node, &paths.data_dir, &l.urls))
            .map(|(_, r)| r),
        Err(e) => Err(e),
    };
    let log_seq = node.log_len();
    let (reported_log_seq, reported_log_at_ms) = node.reported_log()?;
    // Known only once the round's heartbeat brought the hub's record of the office's reports.
    let lost =
        (result.is_ok() && reported_log_seq > log_seq).then_some((log_seq + 1, reported_log_seq));
    let registering = node.halted()?.is_none();
    let (report, error, retryable) = match result {
        Ok(r) => (Some(r), None, false),
        Err(e) => {
            let retry = e.is_retryable() || matches!(e, SyncError::NotEnrolled);
            (None, Some(e.to_string()), retry)
        }
    };
    Ok(CatchUp {
        report,
        error,
        retryable,
        log_seq,
        reported_log_seq,
        reported_log_at_ms,
        lost,
        registering,
    })
}

fn catch_up_text(c: &CatchUp, from_seq: u64) -> String {
    let mut s = String::new();
    match (&c.report, &c.error) {
        (Some(r), _) => {
            s.push_str(&format!(
                "caught up with the hub: took back {} ops of this node's chain from the hub{}, pushed {} the hub never had, received {} changes of the municipality\n",
                r.fetched_own,
                if r.fetched_own > 0 {
                    format!(" ({})", range(from_seq + 1, from_seq + r.fetched_own))
                } else {
                    String::new()
                },
                r.pushed,
                r.pulled
            ));
        }
        (None, Some(e)) => s.push_str(&format!(
            "NOT CAUGHT UP with the hub yet: {e}\nthis node registers nothing until it has: run `civreg-node sync --once` or `civreg-node serve` once the hub can be reached\n"
        )),
        (None, None) => {}
    }
    s.push_str(&format!("this node's log now ends at #{}\n", c.log_seq));
    match c.lost {
        Some((a, b)) => s.push_str(&format!(
            "LOST: {} ({} ops): the office reported its log up to #{} at {}, but neither this backup nor the hub holds them (saved and never sent); re-enter those entries from the paper registers\n",
            range(a, b),
            b - a + 1,
            c.reported_log_seq,
            fmt_ms(c.reported_log_at_ms)
        )),
        None if c.reported_log_seq > 0 => s.push_str(&format!(
            "lost: nothing the office reported (its last report: log up to #{} at {}); ops saved after its last heartbeat can not be known to the hub\n",
            c.reported_log_seq,
            fmt_ms(c.reported_log_at_ms)
        )),
        None => {}
    }
    s.push_str(if c.registering {
        "registration resumed"
    } else {
        "registration stays STOPPED until the node has caught up"
    });
    s
}

/// `restore --from DIR [--bundle B]`.
pub fn run_restore(
    paths: &Paths,
    io: &mut Io,
    json: bool,
    from: &Path,
    bundle: Option<&Path>,
) -> Result<i32> {
    let r = backup::restore(paths, from)?;
    if let Some(b) = bundle {
        sync::install_bundle(b, &paths.data_dir)?;
    }
    let m: &Manifest = &r.manifest;
    let c = catch_up(paths)?;
    let text = format!(
        "restored the backup of {}/{} made {} (log up to #{}, the hub had acknowledged #{}) into {}\n{}",
        m.municipality,
        m.node_id,
        fmt_ms(m.created_at_ms),
        m.head_seq,
        m.hub_acked,
        paths.data_dir.display(),
        catch_up_text(&c, m.head_seq)
    );
    out(
        io,
        json,
        json!({"ok": true, "manifest": m, "catch_up": c}),
        text,
    )?;
    Ok(if c.error.is_some() { 3 } else { 0 })
}

/// What a recovery took back of the clerk accounts the hub keeps (issue 17).
#[derive(Debug, Serialize)]
struct ClerksBack {
    /// What the hub's roster gave, once its heartbeat came back.
    restored: Option<RosterRestored>,
    /// The hub has not been heard yet: the accounts come with the first successful sync.
    pending: bool,
    /// Clerk accounts at the node now.
    count: usize,
}

impl ClerksBack {
    fn text(&self, lang: Lang) -> String {
        match &self.restored {
            _ if self.pending => t(lang, "recover-clerks-pending"),
            None => t(lang, "recover-clerks-pending"),
            Some(r) if !r.hub_held => t(lang, "recover-clerks-none"),
            Some(r) => {
                let mut s = f(
                    lang,
                    "recover-clerks-restored",
                    &[
                        ("n", r.restored.into()),
                        ("at", fmt_ms(r.hub_received_ms).into()),
                    ],
                );
                if r.kept_local > 0 {
                    s.push('\n');
                    s.push_str(&f(
                        lang,
                        "recover-clerks-kept",
                        &[("n", r.kept_local.into())],
                    ));
                }
                s
            }
        }
    }
}

/// `init --bundle B --recover`, after `init` made the database and installed the bundle:
/// rebuilds the node from the hub and names what is lost.
pub fn run_recover(paths: &Paths, io: &mut Io, json: bool, lang: Lang) -> Result<i32> {
    {
        let node = Node::open(paths).context("the new node's database")?;
        node.mark_restored("recover", "", now_ms())?;
        // The clerk accounts come back with the first heartbeat (issue 17).
        node.want_roster()?;
    }
    let c = catch_up(paths)?;
    let node = Node::open(paths)?;
    let ident = node.identity().clone();
    let clerks = ClerksBack {
        restored: node.roster_restored()?,
        pending: node.roster_wanted()?,
        count: node.clerk_count()?,
    };
    drop(node);
    let text = format!(
        "rebuilding node {}/{} from the hub\n{}\n{}",
        ident.municipality,
        ident.node_id,
        catch_up_text(&c, 0),
        clerks.text(lang)
    );
    out(
        io,
        json,
        json!({"ok": c.error.is_none(), "catch_up": c, "clerks": clerks}),
        text,
    )?;
    Ok(match (&c.error, c.retryable) {
        (None, _) => 0,
        (Some(_), true) => 3,
        (Some(_), false) => 4,
    })
}
