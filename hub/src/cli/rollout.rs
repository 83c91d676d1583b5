//! `civreg-hub rollout list|set`: municipalities' rollout stages (planned, pilot, live,
//! suspended), kept in a file the running hub reads again within a second.

use super::args::RolloutCommand;
use super::{kind_of, print, Ctx};
use anyhow::{Context, Result};
use serde_json::json;

/// `civreg-hub rollout COMMAND`.
pub(super) fn run(ctx: &Ctx, command: RolloutCommand) -> Result<()> {
    match command {
        RolloutCommand::List => {
            let r = crate::rollout::Rollout::load(&ctx.data_dir)?;
            print(ctx.json, serde_json::to_value(&r)?, || {
                let mut s = format!(
                    "{:<18} {:<10} {:<24} {}\n",
                    "municipality", "stage", "may register", "last change"
                );
                for (code, e) in &r.municipalities {
                    s.push_str(&format!(
                        "{:<18} {:<10} {:<24} {}\n",
                        code,
                        e.stage,
                        e.kinds
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                        e.changed_by
                            .as_ref()
                            .map(|b| format!(
                                "by {b}{}",
                                if e.reason.is_empty() {
                                    String::new()
                                } else {
                                    format!(": {}", e.reason)
                                }
                            ))
                            .unwrap_or_else(|| "default".into())
                    ));
                }
                s.trim_end().to_string()
            });
        }
        RolloutCommand::Set {
            code,
            stage,
            kinds,
            operator,
            reason,
        } => {
            let m = civreg_shared::gazetteer::resolve(&code)
                .map(|g| g.code.to_string())
                .with_context(|| {
                    format!(
                        "unknown municipality {code:?}: `civreg-hub rollout list` shows the codes"
                    )
                })?;
            let kinds = kinds.map(|k| k.iter().map(|s| kind_of(s)).collect());
            let e =
                crate::rollout::Rollout::set(&ctx.data_dir, &m, stage, kinds, &operator, &reason)?;
            print(
                ctx.json,
                json!({"ok": true, "municipality": m, "entry": e}),
                || {
                    format!(
                        "{m} is now {} (applies to the running hub within a second)",
                        e.stage
                    )
                },
            );
        }
    }
    Ok(())
}
