//! `civreg-hub rollout list|set|log`: municipalities' rollout stages (planned, pilot, live,
//! suspended), kept in the hub's store: a change applies at every hub over it within seconds,
//! and is listed by `rollout log` at every hub.

use super::args::RolloutCommand;
use super::{ask, kind_of, print, Ctx};
use crate::control::Request;
use crate::rollout::{Entry, Rollout};
use anyhow::{Context, Result};
use serde_json::json;

/// `civreg-hub rollout COMMAND`.
pub(super) fn run(ctx: &Ctx, command: RolloutCommand) -> Result<()> {
    match command {
        RolloutCommand::List => {
            let r: Rollout = ask(&ctx.data_dir, Request::RolloutList)?;
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
            anyhow::ensure!(
                !operator.trim().is_empty(),
                crate::rollout::RolloutError::OperatorRequired
            );
            let e: Entry = ask(
                &ctx.data_dir,
                Request::RolloutSet {
                    municipality: m.clone(),
                    stage,
                    kinds,
                    operator,
                    reason,
                },
            )?;
            print(
                ctx.json,
                json!({"ok": true, "municipality": m, "entry": e}),
                || {
                    format!(
                        "{m} is now {} (applies at every hub within seconds)",
                        e.stage
                    )
                },
            );
        }
        RolloutCommand::Log(page) => {
            super::operators::audit_log(ctx, crate::audit::Trail::Rollout, page)?
        }
    }
    Ok(())
}
