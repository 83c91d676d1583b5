//! The overview's first screen: what needs an operator now, worst first, and a compact grid of
//! the 38 municipalities (rendered by `templates/now.html`).
//!
//! An item is listed only while it holds: an office not reaching the hub (it missed two of its
//! own sync rounds), a queue not flowing (ops waiting longer than two of its rounds), a refusal
//! (kept by the hub only until the office's next successful round), a revoked or expired
//! certificate, an office that stopped registering or is blocked on an op, conflicts and
//! duplicates waiting, and certificates expiring within [`model::CERT_WARN_DAYS`].

use super::html::{ago_s, url_seg, utc_ms};
use super::model::{self, CertState, MunicipalityView, Severity};
use crate::rollout::Stage;
use minijinja::context;
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

fn node_href(node: &str) -> String {
    let (m, n) = node.split_once('/').unwrap_or((node, ""));
    format!("/node/{}/{}", url_seg(m), url_seg(n))
}

/// The items of the first screen, worst first.
pub fn items(rows: &[MunicipalityView], now_ms: u64) -> Vec<Item> {
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
    for r in rows {
        conflicts += r.open_conflicts;
        duplicates += r.open_duplicates;
        let syncing = matches!(r.stage, Stage::Pilot | Stage::Live | Stage::Suspended);
        for n in &r.nodes {
            let node = n.node.as_str();
            let seen = n
                .chain
                .last_seen_ms
                .map(|t| format!("last heard {} ago", ago_s(now_ms.saturating_sub(t) / 1000)));
            match n.cert_state {
                CertState::Revoked => push(
                    Severity::Bad,
                    "revoked",
                    node,
                    format!("{node}: certificate revoked"),
                    seen.clone().unwrap_or_default(),
                ),
                CertState::Expired => push(
                    Severity::Bad,
                    "expired",
                    node,
                    format!("{node}: certificate expired"),
                    "it can not sync until it is enrolled again".into(),
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
                    format!("{node} has stopped registering"),
                    why.clone(),
                );
            }
            if let (Some(why), Some(at)) = (&n.chain.last_refusal, n.chain.last_refusal_ms) {
                push(
                    Severity::Bad,
                    "refused",
                    node,
                    format!("{node} refused: {why}"),
                    format!(
                        "{} ago, until its next successful round",
                        ago_s(now_ms.saturating_sub(at) / 1000)
                    ),
                );
            }
            if let Some(b) = &n.blocked {
                push(
                    Severity::Bad,
                    "blocked",
                    node,
                    format!("{node} blocked on op #{} ({})", b.seq, b.record_id),
                    "refused for good; see `civreg-hub refused`".into(),
                );
            }
            let revoked = matches!(n.cert_state, CertState::Revoked | CertState::Expired);
            if syncing && !n.online && !revoked {
                if let Some(seen) = &seen {
                    push(
                        Severity::Bad,
                        "not-reaching",
                        node,
                        format!("{node} is not reaching the hub"),
                        format!(
                            "{seen}; it missed two rounds (due every {})",
                            n.chain
                                .sync_interval_ms
                                .map(|i| ago_s(i.div_ceil(1000)))
                                .unwrap_or_else(|| "?".into())
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
                        format!(
                            " (as its heartbeat said {} ago)",
                            ago_s(now_ms.saturating_sub(t) / 1000)
                        )
                    })
                    .unwrap_or_default();
                push(
                    Severity::Warn,
                    "queue",
                    node,
                    format!(
                        "{node}: {waiting} ops waiting, the oldest for {}",
                        ago_s(n.lag_s())
                    ),
                    format!("the hub holds up to #{}{at}", n.chain.acked_seq),
                );
            }
            if let Some(exp) = n.cert_expiry {
                let days = (exp - today).whole_days();
                if exp > today && days <= model::CERT_WARN_DAYS {
                    push(
                        Severity::Warn,
                        "certificate",
                        node,
                        format!("{node}: certificate expires in {days} days"),
                        format!("on {}", &crate::pki::format_utc(exp)[..10]),
                    );
                }
            }
        }
    }
    if conflicts > 0 {
        out.push((
            Severity::Warn,
            Item {
                severity: "warn",
                kind: "conflicts",
                node: String::new(),
                what: format!("{conflicts} conflicts to resolve"),
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
                what: format!("{duplicates} possible duplicates to review"),
                detail: String::new(),
                href: "/duplicates".into(),
            },
        ));
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.0));
    out.into_iter().map(|(_, i)| i).collect()
}

/// The first screen, as HTML.
pub fn render(
    rows: &[MunicipalityView],
    now_ms: u64,
    refresh: u64,
    rule: &str,
) -> Result<String, super::WebError> {
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
    super::templates::render(
        "now.html",
        context! {
            items => Value::from_serialize(items(rows, now_ms)),
            tiles => Value::from_serialize(&tiles),
            rule => rule,
            refresh => refresh,
            updated => utc_ms(now_ms),
        },
    )
}
