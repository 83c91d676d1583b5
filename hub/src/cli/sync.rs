//! The offices' sync as the hub sees it: `civreg-hub status` (per node: acknowledged head,
//! liveness, clock), `refused` (offices blocked on an op the hub refuses) and `set-aside`.

use super::{ask, ask_hub, municipality_code, operator_label, print_answer, Ctx, HubAnswer};
use crate::control::answer::{RefusedAnswer, StatusAnswer};
use crate::control::{self, Answer};
use crate::status::HubStatus;
use crate::store::SetAside;
use anyhow::{Context, Result};

/// `civreg-hub status`.
pub(super) fn status(ctx: &Ctx) -> Result<()> {
    let data_dir = &ctx.data_dir;
    let (st, live): (HubStatus, bool) = match ask_hub(data_dir, &control::Request::Status) {
        Ok(Answer::Status(a)) => (a.status, a.running),
        Ok(other) => {
            return Err(
                control::ControlError::Protocol(format!("a {} answer", other.kind())).into(),
            )
        }
        // A hub holds the database but does not answer on its control socket (an
        // older build): what it last wrote to status.json.
        Err(HubAnswer::Locked) => {
            let text = std::fs::read(crate::paths::status_path(data_dir)).context(
                "the hub is running but has not written its status yet; try again in a few seconds",
            )?;
            (
                serde_json::from_slice(&text).context("the hub's status file is damaged")?,
                true,
            )
        }
        Err(HubAnswer::Failed(e)) => return Err(e),
    };
    let answer = StatusAnswer {
        running: live,
        status: st,
    };
    print_answer(ctx.json, &answer, || status_text(&answer))
}

fn status_text(answer: &StatusAnswer) -> String {
    let (st, live) = (&answer.status, answer.running);
    let ago = |ms: Option<u64>| match ms {
        Some(ms) => format!("{}s ago", st.written_ms.saturating_sub(ms) / 1000),
        None => "-".into(),
    };
    let mut s = format!(
        "hub {}\n{:<28} {:>10} {:>12} {:>9} {:>10}\n",
        if live {
            "running"
        } else {
            "stopped (figures from its database)"
        },
        "node",
        "acked",
        "last seen",
        "waiting",
        "clock off"
    );
    for c in &st.chains {
        s.push_str(&format!(
            "{:<28} {:>10} {:>12} {:>9} {:>10}\n",
            c.node,
            c.acked_seq,
            ago(c.last_seen_ms),
            c.unacked_ops
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            c.clock_offset_ms
                .map(|n| format!("{n}ms"))
                .unwrap_or_else(|| "-".into()),
        ));
        if let Some(w) = &c.clock_warning {
            s.push_str(&format!("    clock: {w}\n"));
        }
        if let Some(r) = &c.last_refusal {
            s.push_str(&format!("    refused {}: {r}\n", ago(c.last_refusal_ms)));
        }
        if let Some(h) = &c.halted {
            s.push_str(&format!("    STOPPED REGISTERING: {h}\n"));
        }
        if let Some(e) = &c.backup_error {
            s.push_str(&format!("    BACKUP FAILED: {e}\n"));
        }
    }
    s.trim_end().to_string()
}

/// `civreg-hub refused`.
pub(super) fn refused(ctx: &Ctx) -> Result<()> {
    let v: RefusedAnswer = ask(&ctx.data_dir, control::Request::Refused)?;
    print_answer(ctx.json, &v, || refused_text(&v))
}

/// `civreg-hub refused` as text.
fn refused_text(v: &RefusedAnswer) -> String {
    let mut out = Vec::new();
    if v.refused.is_empty() {
        out.push("no office is blocked on a refused op".to_string());
    }
    for r in &v.refused {
        let op = &r.op;
        out.push(format!(
            "BLOCKED {}/{} at op #{} (record {}, hash {}): {}\n  to set it aside: civreg-hub set-aside {} {} {} --reason \"...\"",
            r.municipality,
            r.node_id,
            op.seq,
            op.record_id,
            op.hash,
            op.why,
            r.municipality,
            r.node_id,
            op.seq,
        ));
    }
    for a in &v.set_aside {
        out.push(format!(
            "set aside {}/{} op #{}{} by {}: {}",
            a.municipality,
            a.node_id,
            a.seq,
            a.record_id
                .as_deref()
                .map(|r| format!(" (record {r})"))
                .unwrap_or_default(),
            a.operator,
            a.reason
        ));
    }
    out.join("\n")
}

/// What `civreg-hub set-aside` was given.
pub(super) struct SetAsideArgs {
    pub municipality: String,
    pub node: String,
    pub seq: u64,
    pub reason: String,
    pub operator: String,
    pub hash: Option<String>,
    pub undo: bool,
}

/// `civreg-hub set-aside` (and `--undo`).
pub(super) fn set_aside(ctx: &Ctx, a: SetAsideArgs) -> Result<()> {
    if a.undo {
        let d: SetAside = ask(
            &ctx.data_dir,
            control::Request::UndoSetAside {
                municipality: municipality_code(&a.municipality)?,
                node_id: a.node,
                seq: a.seq,
                reason: a.reason,
                operator: operator_label(&a.operator),
            },
        )?;
        return print_answer(ctx.json, &d, || {
            format!(
                "op #{} of {}/{} is no longer set aside: the hub expects it again",
                d.seq, d.municipality, d.node_id
            )
        });
    }
    let d: SetAside = ask(
        &ctx.data_dir,
        control::Request::SetAside {
            municipality: municipality_code(&a.municipality)?,
            node_id: a.node,
            seq: a.seq,
            hash: a.hash,
            reason: a.reason,
            operator: operator_label(&a.operator),
        },
    )?;
    print_answer(ctx.json, &d, || {
        format!(
            "op #{} of {}/{} set aside (hash {}): the office's next ops are taken at its next sync",
            d.seq, d.municipality, d.node_id, d.hash
        )
    })
}
