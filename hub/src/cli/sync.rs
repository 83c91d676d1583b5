//! The offices' sync as the hub sees it: `civreg-hub status` (per node: acknowledged head,
//! liveness, clock, a failed or overdue backup; and what the PKI waits for: a CA rollover under
//! way, a staged hub certificate), `refused` (offices blocked on an op the hub refuses) and
//! `set-aside`.

use super::{ask, ask_hub, municipality_code, operator_label, print_answer, Ctx, HubAnswer};
use crate::control::answer::{PkiState, RefusedAnswer, StatusAnswer};
use crate::control::{self, Answer};
use crate::status::HubStatus;
use crate::store::SetAside;
use anyhow::{Context, Result};

/// `civreg-hub status`.
pub(super) fn status(ctx: &Ctx) -> Result<()> {
    let data_dir = &ctx.data_dir;
    // The running hub's `hub_urls` when it answered (those it was started with, which the
    // config file may no longer say), else the config file's.
    let (st, live, running_urls): (HubStatus, bool, Option<Vec<String>>) =
        match ask_hub(data_dir, &control::Request::Status) {
            Ok(Answer::Status(a)) => (
                a.status,
                a.running,
                a.hub_urls_running.then_some(a.hub_urls),
            ),
            Ok(other) => {
                return Err(
                    control::ControlError::Protocol(format!("a {} answer", other.kind())).into(),
                )
            }
            // A hub holds the database but does not answer on its control socket (an
            // older build): what it last wrote to status.json.
            Err(HubAnswer::Locked(_)) => {
                let text = std::fs::read(crate::paths::status_path(data_dir)).context(
                "the hub is running but has not written its status yet; try again in a few seconds",
            )?;
                (
                    serde_json::from_slice(&text).context("the hub's status file is damaged")?,
                    true,
                    None,
                )
            }
            Err(HubAnswer::Failed(e)) => return Err(e),
        };
    let answer = StatusAnswer {
        running: live,
        status: st,
        pki: pki_state(ctx)?,
        backup: crate::backup::last(&ctx.data_dir),
        hub_urls_running: running_urls.is_some(),
        hub_urls: running_urls.unwrap_or_else(|| ctx.cfg.hub_urls.clone()),
    };
    print_answer(ctx.json, &answer, || status_text(&answer))
}

/// What the PKI's files say waits for an operator; `None` when there is no PKI (a hub that
/// was never initialised) or nothing waits.
fn pki_state(ctx: &Ctx) -> Result<Option<PkiState>> {
    let Ok(pki) = crate::pki::Pki::open(&ctx.pki_dir) else {
        return Ok(None);
    };
    let rollover = pki
        .rollover_status()
        .context("could not read the CA rollover's state (pki/rollover/state.json)")?;
    let staged = pki
        .hub_next_cert_info()
        .context("could not read the staged hub certificate (pki/hub-next.pem)")?;
    if rollover.is_none() && staged.is_none() {
        return Ok(None);
    }
    Ok(Some(PkiState {
        rollover_since: rollover.as_ref().map(|r| r.started_at.clone()),
        on_old_ca: rollover.as_ref().map(|r| r.on_old_ca()).unwrap_or_default(),
        not_trusting_new_root: rollover
            .as_ref()
            .map(|r| r.not_trusting())
            .unwrap_or_default(),
        hub_on_new_ca: rollover.as_ref().is_some_and(|r| r.hub_on_new_ca),
        operators_on_old_ca: rollover.map(|r| r.operators_on_old_ca).unwrap_or_default(),
        hub_staged_until_ms: staged.map(|i| i.not_after_ms),
    }))
}

/// A duration in milliseconds, short.
fn short(ms: u64) -> String {
    match ms / 1000 {
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// What `status` says of the PKI, as text lines.
fn pki_text(p: &PkiState) -> String {
    let mut s = String::new();
    if let Some(since) = &p.rollover_since {
        if !p.on_old_ca.is_empty() {
            s.push_str(&format!(
                "CA ROLLOVER under way since {since}: {} office(s) still on the old CA only: {}\n    require their renewal (civreg-hub pki require-renewal); see civreg-hub pki rollover status\n",
                p.on_old_ca.len(),
                p.on_old_ca.join(", ")
            ));
        } else if !p.hub_on_new_ca {
            s.push_str(&format!(
                "CA ROLLOVER since {since}: every office is on the new CA; the hub still presents an old-CA certificate\n    stage one (civreg-hub pki renew-hub --stage), then activate it (--activate)\n"
            ));
        } else {
            s.push_str(&format!(
                "CA ROLLOVER since {since} is ready to finish: civreg-hub pki rollover finish\n"
            ));
            if !p.operators_on_old_ca.is_empty() {
                s.push_str(&format!(
                    "    operators whose certificates then stop working: {}\n",
                    p.operators_on_old_ca.join(", ")
                ));
            }
        }
        if !p.not_trusting_new_root.is_empty() {
            s.push_str(&format!(
                "    not yet trusting the new root: {}\n",
                p.not_trusting_new_root.join(", ")
            ));
        }
    }
    if let Some(until) = p.hub_staged_until_ms {
        let day = chrono::DateTime::from_timestamp_millis(until as i64)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        s.push_str(&format!(
            "HUB CERTIFICATE STAGED (valid until {day}), not yet presented: activate it with civreg-hub pki renew-hub --activate\n"
        ));
    }
    s
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
        if let Some(h) = &c.held_back {
            s.push_str(&format!("    WAITS FOR AN UPGRADE: {h}\n"));
        }
        if let Some(e) = &c.backup_error {
            s.push_str(&format!("    BACKUP FAILED: {e}\n"));
        } else if let Some(at) = c.backup_at_ms {
            let age = st.written_ms.saturating_sub(at);
            if age > crate::web::model::BACKUP_OVERDUE_HOURS * 3_600_000 {
                s.push_str(&format!(
                    "    BACKUP OVERDUE: the last one was made {} ago\n",
                    short(age)
                ));
            }
        }
    }
    match &answer.backup {
        Some(b) if b.failed() => s.push_str(&format!(
            "HUB BACKUP FAILED {} ago: {}\n",
            short(st.written_ms.saturating_sub(b.failed_ms.unwrap_or(0))),
            b.error.as_deref().unwrap_or("")
        )),
        Some(b) => s.push_str(&format!(
            "hub backup: the last one was made {} ago, to {}\n",
            short(st.written_ms.saturating_sub(b.ok_ms.unwrap_or(0))),
            b.ok_dir.as_deref().unwrap_or("?")
        )),
        None => s.push_str("hub backup: none made yet (civreg-hub backup --out DIR)\n"),
    }
    if let Some(p) = &answer.pki {
        s.push_str(&pki_text(p));
    }
    match (answer.hub_urls.is_empty(), answer.hub_urls_running) {
        (true, false) => s.push_str(
            "hubs: no hub_urls in the config (bundles name the --hub-url given to pki issue)\n",
        ),
        (true, true) => s.push_str(
            "hubs: the running hub was started with no hub_urls (bundles name the --hub-url given to pki issue)\n",
        ),
        (false, false) => s.push_str(&format!("hubs: {}\n", answer.hub_urls.join(", "))),
        (false, true) => s.push_str(&format!(
            "hubs: {} (as the running hub was started)\n",
            answer.hub_urls.join(", ")
        )),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::ChainStatus;

    #[test]
    fn status_names_failed_and_overdue_backups_a_rollover_and_a_staged_certificate() {
        let now = 10 * 86_400_000;
        let chain = |node: &str, at: Option<u64>, error: Option<&str>| ChainStatus {
            node: node.into(),
            backup_at_ms: at,
            backup_error: error.map(str::to_string),
            ..Default::default()
        };
        let mut answer = StatusAnswer {
            running: true,
            status: HubStatus {
                written_ms: now,
                chains: vec![
                    chain(
                        "istog/1",
                        Some(now - 3_600_000),
                        Some("the USB drive is full"),
                    ),
                    chain("peje/1", Some(now - 3 * 86_400_000), None),
                    chain("prizren/1", Some(now - 3_600_000), None),
                    chain("gjakove/1", None, None),
                ],
            },
            pki: None,
            backup: Some(crate::backup::LastBackup {
                ok_ms: Some(now - 2 * 86_400_000),
                ok_dir: Some("/backups/a".into()),
                failed_ms: Some(now - 3_600_000),
                error: Some("/backups: no space left on device".into()),
            }),
            hub_urls: Vec::new(),
            hub_urls_running: false,
        };
        let text = status_text(&answer);
        assert!(
            text.contains("HUB BACKUP FAILED 60 min ago: /backups: no space left on device"),
            "{text}"
        );
        assert!(
            text.contains("BACKUP FAILED: the USB drive is full"),
            "{text}"
        );
        assert!(
            text.contains("BACKUP OVERDUE: the last one was made 3 days ago"),
            "{text}"
        );
        assert_eq!(text.matches("BACKUP").count(), 3, "{text}");
        answer.backup = None;
        assert!(status_text(&answer).contains("hub backup: none made yet"));
        assert!(
            !text.contains("ROLLOVER") && !text.contains("STAGED"),
            "{text}"
        );
        answer.pki = Some(PkiState {
            rollover_since: Some("2026-12-01 10:00 UTC".into()),
            on_old_ca: vec!["peje/1".into()],
            hub_staged_until_ms: Some(now + 400 * 86_400_000),
            ..Default::default()
        });
        let text = status_text(&answer);
        assert!(
            text.contains("CA ROLLOVER under way since 2026-12-01 10:00 UTC: 1 office(s) still on the old CA only: peje/1"),
            "{text}"
        );
        assert!(
            text.contains("HUB CERTIFICATE STAGED (valid until 1971-02-15)"),
            "{text}"
        );
        answer.pki = Some(PkiState {
            rollover_since: Some("x".into()),
            hub_on_new_ca: true,
            operators_on_old_ca: vec!["arben".into()],
            ..Default::default()
        });
        let text = status_text(&answer);
        assert!(
            text.contains("ready to finish: civreg-hub pki rollover finish"),
            "{text}"
        );
        assert!(text.contains("stop working: arben"), "{text}");
        assert!(text.contains("hubs: no hub_urls in the config"), "{text}");
        answer.hub_urls = vec![
            "https://hub-a.civreg.rks:7443".into(),
            "https://hub-b.civreg.rks:7443".into(),
        ];
        let text = status_text(&answer);
        assert!(
            text.contains("hubs: https://hub-a.civreg.rks:7443, https://hub-b.civreg.rks:7443"),
            "{text}"
        );
    }
}
