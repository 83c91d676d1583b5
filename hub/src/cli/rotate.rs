//! `civreg-hub rotate-key` and `rotate-search-key` ([`crate::rotate`]): progress on standard
//! error, one line per batch; the outcome, and what to do with the old key, on standard output.

use super::{args::RotateArgs, print, Ctx};
use anyhow::Result;
use serde_json::json;
use std::io::Write;

fn progress_to_stderr<R>(line: fn(&R) -> String) -> impl FnMut(&R) {
    move |r| {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}", line(r));
        let _ = err.flush();
    }
}

/// `civreg-hub rotate-key --new-key-file PATH | --resume [--batch N]`.
pub(super) fn rotate_key(ctx: &Ctx, how: RotateArgs) -> Result<()> {
    use crate::rotate::atrest;
    let out = atrest::run(
        &ctx.cfg.store_at(),
        &ctx.data_dir,
        &ctx.cfg.key_file,
        how.new_key_file.as_deref(),
        how.resume,
        how.batch.map(|b| b as usize),
        &mut progress_to_stderr(atrest::progress_line),
    )?;
    print(ctx.json, json!({"ok": true, "rotation": out}), || {
        format!(
            "key rotated: {} values of the hub database are sealed with the new key, now in {}.\nThe old key is in {}: backups made before this rotation can only be restored with it (`civreg-hub --key-file {} restore --from BACKUP`, then rotate again). Store it offline with those backups, or destroy it once none is kept. Put a copy of the new key in the safe, and make a new backup now (`civreg-hub backup --out DIR`).",
            out.values,
            out.key_file.display(),
            out.old_key_file.display(),
            out.old_key_file.display(),
        )
    });
    Ok(())
}

/// `civreg-hub rotate-search-key --new-key-file PATH | --resume [--batch N]`.
pub(super) fn rotate_search_key(ctx: &Ctx, how: RotateArgs) -> Result<()> {
    use crate::rotate::search;
    let out = search::run(
        &ctx.cfg.store_at(),
        &ctx.data_dir,
        &ctx.cfg.key_file,
        how.new_key_file.as_deref(),
        how.resume,
        how.batch.map(|b| b as usize),
        &mut progress_to_stderr(search::progress_line),
    )?;
    print(ctx.json, json!({"ok": true, "rotation": out}), || {
        let mut s = format!(
            "search key rotated: the index ({} records) and {} import keys are under the new key, now in {}.\nThe old key is in {}: nothing needs it any more (a backup carries its own search key); destroy it. The access log's marks of personal numbers searched before the rotation differ from those made after it.",
            out.indexed,
            out.import_keys_moved,
            out.key_file.display(),
            out.old_key_file.display(),
        );
        if out.import_keys_unmatched > 0 {
            s.push_str(&format!(
                "\n{} import keys could not be derived again (their records changed since the import): importing their files again may import those rows again.",
                out.import_keys_unmatched
            ));
        }
        s
    });
    Ok(())
}
