//! `civreg-hub unvoid-requests` and `civreg-hub unvoid-request grant|refuse ID`: clerks'
//! requests to un-void a record, for an operator to answer.

use super::args::UnvoidRequestCommand;
use super::{ask, print_answer, Ctx};
use crate::control;
use crate::unvoid::Request;
use anyhow::Result;

fn when(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// `civreg-hub unvoid-requests [--all]`.
pub(super) fn list(ctx: &Ctx, all: bool, operator: String) -> Result<()> {
    let list: Vec<Request> = ask(
        &ctx.data_dir,
        control::Request::UnvoidList { all, by: operator },
    )?;
    print_answer(ctx.json, &list, || {
        if list.is_empty() {
            return if all {
                "no un-void requests".into()
            } else {
                "no pending un-void requests".into()
            };
        }
        let mut s = String::new();
        for r in &list {
            s.push_str(&format!(
                "{}  {}  {}  from {} ({}) at {}\n  reason: {}\n",
                r.id,
                r.state(),
                r.regno,
                r.clerk,
                r.office,
                when(r.at_ms),
                r.reason
            ));
            if let Some(a) = &r.answer {
                s.push_str(&format!(
                    "  answered by {} at {}: {}\n",
                    a.operator,
                    when(a.at_ms),
                    a.reason
                ));
            }
        }
        s.push_str("answer: civreg-hub unvoid-request grant|refuse ID --reason TEXT");
        s
    })
}

/// `civreg-hub unvoid-request grant|refuse ID --reason TEXT`.
pub(super) fn answer(ctx: &Ctx, command: UnvoidRequestCommand) -> Result<()> {
    let (id, grant, reason, operator) = match command {
        UnvoidRequestCommand::Grant {
            id,
            reason,
            operator,
        } => (id, true, reason, operator),
        UnvoidRequestCommand::Refuse {
            id,
            reason,
            operator,
        } => (id, false, reason, operator),
    };
    let r: Request = ask(
        &ctx.data_dir,
        control::Request::UnvoidAnswer {
            id,
            grant,
            reason,
            operator,
        },
    )?;
    print_answer(ctx.json, &r, || {
        if grant {
            format!(
                "un-void request {} granted: record {} is restored by an op of the hub's log; office {} receives it with its next pull",
                r.id, r.regno, r.office
            )
        } else {
            format!(
                "un-void request {} refused: office {} sees the reason with its next heartbeat",
                r.id, r.office
            )
        }
    })
}
