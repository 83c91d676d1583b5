//! The overview's first screen: what needs an operator now, worst first, and a compact grid of
//! the 38 municipalities (rendered by `templates/now.html`, part of the overview), in the
//! operator's language.
//!
//! An item is listed only while it holds: an office not reaching the hub (it missed two of its
//! own sync rounds), a queue not flowing (ops waiting longer than two of its rounds), a refusal
//! (kept by the hub only until the office's next successful round), a revoked or expired
//! certificate, an office that stopped registering or is blocked on an op, conflicts and
//! duplicates waiting, and certificates expiring within [`model::CERT_WARN_DAYS`]: nodes', the
//! hub's own, operators' and clerk apps' ([`model::expiring_certs`]; a hub, operator or app
//! certificate that has expired, still active, too).
//!
//! And what the hub itself waits for ([`HubState`]): a CA rollover under way (the offices still
//! on the old CA; once none is, the step left: a hub certificate of the new CA, or `finish`),
//! a hub certificate staged by `pki renew-hub --stage` and not yet activated; and offices'
//! backups (from their heartbeats): one that failed, or none made for
//! [`model::BACKUP_OVERDUE_HOURS`] by an office that makes them.

use super::fmt::{ago, url_seg};
use super::model::{self, CertState, MunicipalityView, Severity};
use crate::pki::rollover::RolloverStatus;
use crate::pki::{CertKind, IssuedEntry};
use crate::rollout::Stage;
use civreg_shared::i18n::{Arg, Catalog, Lang};
use minijinja::value::Value;
use serde::Serialize;

/// One thing that needs an operator.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// "bad" or "warn".
    pub severity: &'static str,
    /// What kind of trouble (a stable key for tests and styles).
    pub kind: &'static str,
    /// The node concerned, "m/n", or empty.
    pub node: String,
    pub what: String,
    pub detail: String,
    pub href: String,
}

#[derive(Debug, Clone, Serialize)]
struct Tile {
    code: String,
    name: String,
    stage: String,
    severity: &'static str,
    waiting: u64,
    first: String,
}

/// What the first screen says of the hub itself, read from the PKI's files
/// ([`model::hub_state`]).
#[derive(Debug, Clone, Default)]
pub struct HubState {
    pub rollover: Option<RolloverStatus>,
    /// The expiry (ms) of a hub certificate staged by `pki renew-hub --stage`, not yet
    /// presented.
    pub staged_until_ms: Option<u64>,
    /// The outcome of the hub's own last backups (`civreg-hub backup`).
    pub backup: Option<crate::backup::LastBackup>,
}

/// At most this many offices are named in one item (the rest are counted).
const NAMED: usize = 8;

fn named(list: &[String]) -> String {
    let mut s = list
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > NAMED {
        s.push_str(&format!(", … (+{})", list.len() - NAMED));
    }
    s
}

fn node_href(node: &str) -> String {
    let (m, n) = node.split_once('/').unwrap_or((node, ""));
    format!("/node/{}/{}", url_seg(m), url_seg(n))
}

/// The items of the first screen, worst first, in `lang`; `certs`: those of
/// [`model::expiring_certs`].
pub fn items(
    rows: &[MunicipalityView],
    certs: &[IssuedEntry],
    hub: &HubState,
    now_ms: u64,
    lang: Lang,
) -> Vec<Item> {
    let c = Catalog::get();
    let say = |key: &str, args: &[(&str, Arg)]| c.format(lang, key, args);
    let ago_s = |s: u64| ago(lang, s);
    let mut out: Vec<(Severity, Item)> = Vec::new();
    let today = time::OffsetDateTime::now_utc();
    let mut push = |sev: Severity, kind: &'static str, node: &str, what: String, detail: String| {
        let href = if node.is_empty() {
            String::new()
        } else {
            node_href(node)
        };
        out.push((
            sev,
            Item {
                severity: sev.class(),
                kind,
                node: node.to_string(),
                what,
                detail,
                href,
            },
        ));
    };
    let mut conflicts = 0usize;
    let mut duplicates = 0u64;
    let mut unvoid = 0u64;
    for r in rows {
        conflicts += r.open_conflicts;
        duplicates += r.open_duplicates;
        unvoid += r.open_unvoid;
        let syncing = matches!(r.stage, Stage::Pilot | Stage::Live | Stage::Suspended);
        for n in &r.nodes {
            let node = n.node.as_str();
            let seen = n.chain.last_seen_ms.map(|t| {
                say(
                    "dash-now-last-heard",
                    &[("ago", ago_s(now_ms.saturating_sub(t) / 1000).into())],
                )
            });
            match n.cert_state {
                CertState::Revoked => push(
                    Severity::Bad,
                    "revoked",
                    node,
                    say("dash-now-revoked", &[("node", node.into())]),
                    seen.clone().unwrap_or_default(),
                ),
                CertState::Expired => push(
                    Severity::Bad,
                    "expired",
                    node,
                    say("dash-now-expired", &[("node", node.into())]),
                    say("dash-now-expired-detail", &[]),
                ),
                CertState::Valid | CertState::None => {}
            }
            if let Some(why) = &n.chain.halted {
                let kind = if n.state() == "forked" {
                    "forked"
                } else {
                    "halted"
                };
                push(
                    Severity::Bad,
                    kind,
                    node,
                    say("dash-now-halted", &[("node", node.into())]),
                    why.clone(),
                );
            }
            if let Some(why) = &n.chain.held_back {
                push(
                    Severity::Bad,
                    "upgrade",
                    node,
                    say("dash-now-upgrade", &[("node", node.into())]),
                    why.clone(),
                );
            }
            if let (Some(why), Some(at)) = (&n.chain.last_refusal, n.chain.last_refusal_ms) {
                push(
                    Severity::Bad,
                    "refused",
                    node,
                    say(
                        "dash-now-refused",
                        &[("node", node.into()), ("why", why.into())],
                    ),
                    say(
                        "dash-now-refused-detail",
                        &[("ago", ago_s(now_ms.saturating_sub(at) / 1000).into())],
                    ),
                );
            }
            if let Some(b) = &n.blocked {
                push(
                    Severity::Bad,
                    "blocked",
                    node,
                    say(
                        "dash-now-blocked",
                        &[
                            ("node", node.into()),
                            ("seq", b.seq.into()),
                            ("record", (&b.record_id).into()),
                        ],
                    ),
                    say("dash-now-blocked-detail", &[]),
                );
            }
            let revoked = matches!(n.cert_state, CertState::Revoked | CertState::Expired);
            if syncing && !n.online && !revoked {
                if let Some(seen) = &seen {
                    push(
                        Severity::Bad,
                        "not-reaching",
                        node,
                        say("dash-now-not-reaching", &[("node", node.into())]),
                        say(
                            "dash-now-not-reaching-detail",
                            &[
                                ("seen", seen.into()),
                                (
                                    "every",
                                    n.chain
                                        .sync_interval_ms
                                        .map(|i| ago_s(i.div_ceil(1000)))
                                        .unwrap_or_else(|| "?".into())
                                        .into(),
                                ),
                            ],
                        ),
                    );
                }
            }
            if let Some(why) = &n.chain.backup_error {
                push(
                    Severity::Bad,
                    "backup-failed",
                    node,
                    say("dash-now-backup-failed", &[("node", node.into())]),
                    why.clone(),
                );
            } else if let Some(at) = n.chain.backup_at_ms {
                let age_s = now_ms.saturating_sub(at) / 1000;
                if age_s > model::BACKUP_OVERDUE_HOURS * 3600 {
                    push(
                        Severity::Warn,
                        "backup-overdue",
                        node,
                        say(
                            "dash-now-backup-overdue",
                            &[("node", node.into()), ("ago", ago_s(age_s).into())],
                        ),
                        say(
                            "dash-now-backup-overdue-detail",
                            &[("hours", model::BACKUP_OVERDUE_HOURS.into())],
                        ),
                    );
                }
            }
            let waiting = n.chain.unacked_ops.unwrap_or(0);
            // A queue is growing when its oldest op has waited longer than the node's window:
            // two rounds went by without it reaching the hub.
            if waiting > 0 && n.lag_s() * 1000 > n.window_ms {
                let at = n
                    .chain
                    .last_seen_ms
                    .map(|t| {
                        say(
                            "dash-now-queue-heartbeat",
                            &[("ago", ago_s(now_ms.saturating_sub(t) / 1000).into())],
                        )
                    })
                    .unwrap_or_default();
                push(
                    Severity::Warn,
                    "queue",
                    node,
                    say(
                        "dash-now-queue",
                        &[
                            ("node", node.into()),
                            ("n", waiting.into()),
                            ("ago", ago_s(n.lag_s()).into()),
                        ],
                    ),
                    format!(
                        "{} {at}",
                        say(
                            "dash-now-queue-detail",
                            &[("seq", n.chain.acked_seq.into())]
                        )
                    )
                    .trim_end()
                    .to_string(),
                );
            }
        }
    }
    for e in certs {
        let (_, who) = model::cert_subject(e);
        let on = say(
            "dash-now-cert-on",
            &[(
                "date",
                crate::pki::format_utc(e.not_after)[..10].to_string().into(),
            )],
        );
        let who_arg = || ("who", Arg::from(who.as_str()));
        if e.not_after <= today {
            // A node's expired certificate is listed with the node, above.
            let key = match e.kind {
                CertKind::Hub => "dash-now-cert-hub-expired",
                CertKind::Operator => "dash-now-cert-operator-expired",
                CertKind::App => "dash-now-cert-app-expired",
                CertKind::Node | CertKind::Signer => continue,
            };
            push(
                Severity::Bad,
                "certificate-expired",
                "",
                say(key, &[who_arg()]),
                on,
            );
            continue;
        }
        let days = (e.not_after - today).whole_days();
        let (node, what) = match e.kind {
            CertKind::Node => (
                who.as_str(),
                say(
                    "dash-now-cert-expires",
                    &[("node", who.as_str().into()), ("days", days.into())],
                ),
            ),
            CertKind::Hub => (
                "",
                say("dash-now-cert-hub-expires", &[("days", days.into())]),
            ),
            CertKind::Operator => (
                "",
                say(
                    "dash-now-cert-operator-expires",
                    &[who_arg(), ("days", days.into())],
                ),
            ),
            CertKind::App => (
                "",
                say(
                    "dash-now-cert-app-expires",
                    &[who_arg(), ("days", days.into())],
                ),
            ),
            CertKind::Signer => continue,
        };
        push(Severity::Warn, "certificate", node, what, on);
    }
    if let Some(r) = &hub.rollover {
        let old = r.on_old_ca();
        let (kind, what, detail) = if !old.is_empty() {
            (
                "rollover",
                say(
                    "dash-now-rollover",
                    &[("n", old.len().into()), ("since", (&r.started_at).into())],
                ),
                say(
                    "dash-now-rollover-detail",
                    &[("offices", named(&old).into())],
                ),
            )
        } else if !r.hub_on_new_ca {
            (
                "rollover-hub",
                say(
                    "dash-now-rollover-hub",
                    &[("since", (&r.started_at).into())],
                ),
                say("dash-now-rollover-hub-detail", &[]),
            )
        } else {
            (
                "rollover-finish",
                say(
                    "dash-now-rollover-finish",
                    &[("since", (&r.started_at).into())],
                ),
                if r.operators_on_old_ca.is_empty() {
                    say("dash-now-rollover-finish-detail", &[])
                } else {
                    say(
                        "dash-now-rollover-finish-operators",
                        &[("operators", named(&r.operators_on_old_ca).into())],
                    )
                },
            )
        };
        push(Severity::Warn, kind, "", what, detail);
    }
    if let Some(b) = hub.backup.as_ref().filter(|b| b.failed()) {
        push(
            Severity::Bad,
            "hub-backup-failed",
            "",
            say(
                "dash-now-hub-backup-failed",
                &[(
                    "ago",
                    ago_s(now_ms.saturating_sub(b.failed_ms.unwrap_or(0)) / 1000).into(),
                )],
            ),
            b.error.clone().unwrap_or_default(),
        );
    }
    if let Some(until) = hub.staged_until_ms {
        push(
            Severity::Warn,
            "hub-staged",
            "",
            say(
                "dash-now-hub-staged",
                &[(
                    "until",
                    super::fmt::utc_ms(until)
                        .chars()
                        .take(10)
                        .collect::<String>()
                        .into(),
                )],
            ),
            say("dash-now-hub-staged-detail", &[]),
        );
    }
    if conflicts > 0 {
        out.push((
            Severity::Warn,
            Item {
                severity: "warn",
                kind: "conflicts",
                node: String::new(),
                what: say("dash-now-conflicts", &[("n", conflicts.into())]),
                detail: String::new(),
                href: "/conflicts".into(),
            },
        ));
    }
    if duplicates > 0 {
        out.push((
            Severity::Warn,
            Item {
                severity: "warn",
                kind: "duplicates",
                node: String::new(),
                what: say("dash-now-duplicates", &[("n", duplicates.into())]),
                detail: String::new(),
                href: "/duplicates".into(),
            },
        ));
    }
    if unvoid > 0 {
        out.push((
            Severity::Warn,
            Item {
                severity: "warn",
                kind: "unvoid",
                node: String::new(),
                what: say("dash-now-unvoid", &[("n", unvoid.into())]),
                detail: say("dash-now-unvoid-detail", &[]),
                href: "/unvoid".into(),
            },
        ));
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.0));
    out.into_iter().map(|(_, i)| i).collect()
}

/// The first screen's values for `now.html` (included by the overview): `items` and `tiles`.
pub fn context(
    rows: &[MunicipalityView],
    certs: &[IssuedEntry],
    hub: &HubState,
    now_ms: u64,
    lang: Lang,
) -> (Value, Value) {
    let mut tiles: Vec<Tile> = rows
        .iter()
        .map(|r| Tile {
            code: r.code.clone(),
            name: r.name.clone(),
            stage: r.stage.to_string(),
            severity: r.severity.class(),
            waiting: r.waiting(),
            first: r.trouble.first().map(|t| t.1.clone()).unwrap_or_default(),
        })
        .collect();
    // The grid keeps the gazetteer's order, so a municipality is always in the same place.
    tiles.sort_by(|a, b| a.name.cmp(&b.name));
    (
        Value::from_serialize(items(rows, certs, hub, now_ms, lang)),
        Value::from_serialize(&tiles),
    )
}
