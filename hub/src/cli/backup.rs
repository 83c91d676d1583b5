//! `civreg-hub backup` (made by the running hub through its control socket, or from the
//! stopped store) and `restore` (into a data directory without a database, then a drill).

use super::{ask, print, print_answer, Ctx};
use crate::control;
use crate::control::answer::BackupMade;
use anyhow::Result;
use serde_json::json;
use std::path::Path;

/// `civreg-hub backup --out DIR`.
pub(super) fn backup(ctx: &Ctx, out: &Path) -> Result<()> {
    let out = std::path::absolute(out)?;
    let v: BackupMade = ask(&ctx.data_dir, control::Request::Backup { out })?;
    print_answer(ctx.json, &v, || {
        format!(
            "backup made: {}\n{} chains, {} store entries, {} files, {} bytes; encrypted with the hub's key file, which it does not contain",
            v.path.display(),
            v.manifest.chains.len(),
            v.manifest.store_entries,
            v.manifest.files.len(),
            v.manifest.bytes
        )
    })
}

/// `civreg-hub restore --from DIR`: fails when the restored chains do not all lead to their
/// heads.
pub(super) fn restore(ctx: &Ctx, from: &Path) -> Result<()> {
    if let crate::paths::StoreAt::Postgres(url) = ctx.cfg.store_at() {
        anyhow::bail!(
            "restore writes the embedded database under {}, not the PostgreSQL store {}: run it without --store (and without store in the config file)",
            ctx.data_dir.display(),
            crate::store::backend::postgres::redact(&url)
        );
    }
    let r = crate::backup::restore(&ctx.data_dir, &ctx.cfg.key_file, from)?;
    let ok = r.drill.problems.is_empty();
    print(ctx.json, json!({"ok": ok, "restored": r}), || {
        let mut s = format!(
            "restored the backup made {} into {}\ndrill: {} chains, {} ops checked from #1 to each head: {}\n",
            r.manifest.created_at,
            ctx.data_dir.display(),
            r.drill.chains,
            r.drill.ops,
            if ok { "all lead to their heads".to_string() } else { r.drill.problems.join("; ") }
        );
        for (m, n, d) in &r.drill.digests {
            s.push_str(&format!("{m}: {n} records, digest {d}\n"));
        }
        s.trim_end().to_string()
    });
    if !ok {
        anyhow::bail!("the restored hub's chains do not all lead to their heads");
    }
    Ok(())
}
