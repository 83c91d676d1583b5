//! `civreg-hub migrate`, `export-jsonl` and `import-jsonl` ([`crate::migrate`]): progress on
//! standard error, one line per batch; the outcome on standard output.

use super::{args::CopyArgs, print, Ctx};
use crate::migrate::{self, MigrateError, Outcome};
use anyhow::Result;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

fn progress(m: &migrate::Migration) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", migrate::progress_line(m));
    let _ = err.flush();
}

/// Refuses while a hub serves `data_dir` (its control socket answers).
fn not_serving(data_dir: &Path, what: &str) -> Result<()> {
    if std::os::unix::net::UnixStream::connect(crate::control::socket_path(data_dir)).is_ok() {
        anyhow::bail!(
            "a hub is running on {}: stop it before {what} (over PostgreSQL, stop every hub process of the database)",
            data_dir.display()
        );
    }
    Ok(())
}

fn report(ctx: &Ctx, done: &str, o: &Outcome) {
    print(ctx.json, json!({"ok": true, "copied": o}), || {
        let mut s = format!(
            "{done}: {} entries from {} into {}{}, in {:.1} s.\nchecked equal on both sides: every entry, {} chain heads, {} municipalities' digests:\n",
            o.entries,
            o.source,
            o.target,
            if o.resumed { " (an interrupted run resumed)" } else { "" },
            o.elapsed_ms as f64 / 1000.0,
            o.summary.chains.len(),
            o.summary.digests.len(),
        );
        for (m, n, d) in &o.summary.digests {
            s.push_str(&format!("{m}: {n} records, digest {d}\n"));
        }
        s.trim_end().to_string()
    });
}

/// `civreg-hub migrate [--from DATA_DIR] --to postgres://… [--batch N] [--restart]`.
pub(super) fn migrate(ctx: &Ctx, from: Option<PathBuf>, to: &str, how: CopyArgs) -> Result<()> {
    let from = from.unwrap_or_else(|| ctx.data_dir.clone());
    // The key file: the one in force, or the one in --from when only the data directory's
    // default was in force.
    let key_file = if ctx.cfg.key_file == crate::atrest::default_key_path(&ctx.data_dir) {
        crate::atrest::default_key_path(&from)
    } else {
        ctx.cfg.key_file.clone()
    };
    if !crate::store::backend::postgres::is_url(to) {
        anyhow::bail!(
            "--to {to} is not a PostgreSQL URL: give postgres://USER:PASSWORD@HOST:PORT/DATABASE (to move a store to a file, use export-jsonl)"
        );
    }
    not_serving(&from, "migrating its store")?;
    let source = migrate::open_source(&from)?;
    let target = migrate::open_target(&crate::paths::StoreAt::Postgres(to.to_string()))?;
    let o = migrate::migrate(
        source,
        &key_file,
        target,
        how.batch.map_or(migrate::DEFAULT_BATCH, |b| b as usize),
        how.restart,
        &mut progress,
    )?;
    report(ctx, "migrated", &o);
    if !ctx.json {
        println!(
            "Serve it with `civreg-hub serve --store {}` (or store in the config file), with the same key file. The embedded database under {} is no longer written: keep it until the hub runs on PostgreSQL, then move it aside.",
            o.target,
            crate::paths::db_dir(&from).display()
        );
    }
    Ok(())
}

/// `civreg-hub export-jsonl --out FILE`.
pub(super) fn export_jsonl(ctx: &Ctx, out: &Path) -> Result<()> {
    not_serving(&ctx.data_dir, "exporting its store")?;
    let at = ctx.cfg.store_at();
    if let crate::paths::StoreAt::Sled(db) = &at {
        if !db.is_dir() {
            return Err(MigrateError::NoSource(ctx.data_dir.clone()).into());
        }
    }
    let store = crate::store::HubStore::open_at(&at, crate::atrest::load_key(&ctx.cfg.key_file)?)?;
    let e = migrate::export_jsonl(&store, &at.shown(), out)?;
    print(ctx.json, json!({"ok": true, "exported": e}), || {
        format!(
            "exported {} entries ({} bytes) of {} to {}: values sealed as stored (importing it needs the same key file); {} chains, {} municipalities with records",
            e.entries,
            e.bytes,
            at.shown(),
            e.path.display(),
            e.summary.chains.len(),
            e.summary.digests.len()
        )
    });
    Ok(())
}

/// `civreg-hub import-jsonl --from FILE [--batch N] [--restart]`.
pub(super) fn import_jsonl(ctx: &Ctx, from: &Path, how: CopyArgs) -> Result<()> {
    not_serving(&ctx.data_dir, "importing into its store")?;
    let target = migrate::open_target(&ctx.cfg.store_at())?;
    let o = migrate::import_jsonl(
        from,
        &ctx.cfg.key_file,
        target,
        how.batch.map_or(migrate::DEFAULT_BATCH, |b| b as usize),
        how.restart,
        &mut progress,
    )?;
    report(ctx, "imported", &o);
    Ok(())
}
