//! `civreg-hub conflicts ...`: conflicts between concurrent edits, for an operator to decide.

use super::args::ConflictsCommand;
use super::{ask, municipality_code, print_answer, Ctx};
use crate::control;
use crate::control::answer::{ConflictView, Resolved};
use crate::store::FiledConflict;
use anyhow::Result;
use civreg_shared::op::{Hlc, OpId};
use serde_json::Value;

/// `civreg-hub conflicts COMMAND`.
pub(super) fn run(ctx: &Ctx, command: ConflictsCommand) -> Result<()> {
    match command {
        ConflictsCommand::List { municipality, all } => {
            let m = municipality.map(|m| municipality_code(&m)).transpose()?;
            let list: Vec<FiledConflict> = ask(
                &ctx.data_dir,
                control::Request::ConflictsList {
                    municipality: m,
                    all,
                },
            )?;
            print_answer(ctx.json, &list, || {
                if list.is_empty() {
                    return "no open conflicts".into();
                }
                let mut s = format!(
                    "{:<15} {:<16} {:<26} {:<26} {}\n",
                    "id", "municipality", "record", "field", "status"
                );
                for c in &list {
                    s.push_str(&format!(
                        "{:<15} {:<16} {:<26} {:<26} {}\n",
                        c.conflict.id,
                        c.municipality,
                        c.conflict.record_id,
                        c.conflict.path,
                        if c.conflict.resolution.is_none() {
                            "open"
                        } else {
                            "resolved"
                        }
                    ));
                }
                s.trim_end().to_string()
            })
        }
        ConflictsCommand::Show { id } => {
            let v: ConflictView = ask(&ctx.data_dir, control::Request::ConflictsShow { id })?;
            print_answer(ctx.json, &v, || {
                let c = &v.conflict.conflict;
                let mut s = format!(
                    "conflict {} on record {} ({}), field {}\n",
                    c.id, c.record_id, v.conflict.municipality, c.path
                );
                let (w, l) = (&c.winner, &c.loser);
                s.push_str(&side_text(
                    "A (kept for now)",
                    &w.value,
                    &w.clerk,
                    &w.op,
                    &w.at,
                    &w.reason,
                ));
                s.push_str(&side_text(
                    "B (set aside)   ",
                    &l.value,
                    &l.clerk,
                    &l.op,
                    &l.at,
                    &l.reason,
                ));
                s.push_str(&format!("  the record now holds: {}\n", v.current));
                match &c.resolution {
                    Some(r) => s.push_str(&side_text(
                        "resolved", &r.value, &r.clerk, &r.op, &r.at, &r.reason,
                    )),
                    None => s.push_str(&format!(
                        "  open: civreg-hub conflicts resolve {} --keep A|B --reason TEXT",
                        c.id
                    )),
                }
                s.trim_end().to_string()
            })
        }
        ConflictsCommand::Resolve {
            id,
            keep,
            value,
            reason,
            operator,
        } => {
            let value = value.map(|v| serde_json::from_str(&v).unwrap_or(Value::String(v)));
            let v: Resolved = ask(
                &ctx.data_dir,
                control::Request::ConflictsResolve {
                    id: id.clone(),
                    keep: keep.map(|k| k.to_ascii_uppercase()),
                    value,
                    reason,
                    operator,
                },
            )?;
            print_answer(ctx.json, &v, || {
                format!(
                    "conflict {id} resolved by op {}/{}#{} on {}: the record's offices receive it with their next pull",
                    v.op.municipality, v.op.node_id, v.op.seq, v.record
                )
            })
        }
    }
}

/// One side of a conflict (or its resolution): the value, who wrote it, where and when.
fn side_text(label: &str, value: &Value, clerk: &str, op: &OpId, at: &Hlc, reason: &str) -> String {
    format!(
        "  {label}: {}  by {} on node {}/{} at {}{}\n",
        value,
        clerk,
        op.municipality,
        op.node_id,
        chrono::DateTime::from_timestamp_millis(at.wall_ms as i64)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default(),
        if reason.is_empty() {
            String::new()
        } else {
            format!(" ({reason})")
        }
    )
}
