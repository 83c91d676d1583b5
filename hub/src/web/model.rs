//! What the overview shows, gathered from the hub's state: one row per municipality of the
//! gazetteer, its nodes, and what is wrong, ranked so that trouble comes first.

use super::{Context, WebError};
use crate::pki::{CertKind, CertStatus, IssuedEntry, PeerIdentity};
use crate::rollout::{Rollout, Stage};
use crate::status::ChainStatus;
use civreg_shared::i18n::{Arg, Catalog, Lang};
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;

/// Certificates expiring within this many days are flagged.
pub const CERT_WARN_DAYS: i64 = 30;

/// Added to two sync intervals before a node that told its interval is "not reaching the hub":
/// a round's own duration and the heartbeat at its end.
pub const ROUND_SLACK_MS: u64 = 5_000;
/// An office that makes backups (it told one with its heartbeat) is overdue once its last one
/// is this old: two of the daily backups `civreg-node serve` schedules were missed.
pub const BACKUP_OVERDUE_HOURS: u64 = 48;

/// The hub's own state for the first screen: a CA rollover under way, a staged hub
/// certificate (from the PKI's files).
pub fn hub_state(ctx: &Context) -> Result<super::now::HubState, WebError> {
    let pki = ctx.pki();
    Ok(super::now::HubState {
        rollover: pki.rollover_status()?,
        staged_until_ms: pki.hub_next_cert_info()?.map(|i| i.not_after_ms),
        backup: crate::backup::last(ctx.data_dir()),
    })
}

/// How long after its last heartbeat a node still counts as reaching the hub: two of its own
/// sync rounds (and [`ROUND_SLACK_MS`]) when its heartbeat told its interval, else `default`
/// (the dashboard's `online_within`, for nodes of older versions and `sync --once`).
pub fn online_window_ms(chain: &ChainStatus, default_ms: u64) -> u64 {
    match chain.sync_interval_ms {
        Some(i) if i > 0 => 2 * i + ROUND_SLACK_MS,
        _ => default_ms,
    }
}

/// What the hub's registry of issued certificates says of a node's certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertState {
    /// An active certificate that has not expired.
    Valid,
    /// Its newest certificate is revoked and none is active.
    Revoked,
    /// Its newest active certificate has expired.
    Expired,
    /// The registry holds no certificate of it.
    None,
}

/// One node as the overview shows it.
#[derive(Debug, Clone)]
pub struct NodeView {
    /// "m/n".
    pub node: String,
    pub node_id: String,
    pub chain: ChainStatus,
    pub online: bool,
    /// The rollout refused it within the online window (it keeps trying, so this is current).
    pub refused_now: bool,
    /// The expiry of its newest active certificate.
    pub cert_expiry: Option<OffsetDateTime>,
    pub cert_serial: Option<String>,
    /// The op its queue is blocked on: the hub refused it for good (an operator may set it
    /// aside: `civreg-hub set-aside`).
    pub blocked: Option<crate::store::RefusedOp>,
    pub cert_state: CertState,
    /// How long after its last heartbeat it still counts as reaching the hub.
    pub window_ms: u64,
}

impl NodeView {
    /// The node's state, worst first: "revoked", "expired" (its certificate), "forked" (its
    /// chain and the hub's differ; it has stopped registering), then "online", "offline" (it
    /// missed two rounds: not reaching the hub) or "never" (never heard from).
    pub fn state(&self) -> &'static str {
        match self.cert_state {
            CertState::Revoked => return "revoked",
            CertState::Expired => return "expired",
            CertState::Valid | CertState::None => {}
        }
        if self
            .chain
            .halted
            .as_deref()
            .is_some_and(|h| h.contains("forked"))
        {
            "forked"
        } else if self.online {
            "online"
        } else if self.chain.last_seen_ms.is_some() {
            "offline"
        } else {
            "never"
        }
    }

    pub fn lag_s(&self) -> u64 {
        if self.chain.unacked_ops.unwrap_or(0) > 0 {
            self.chain.oldest_unacked_age_s.unwrap_or(0)
        } else {
            0
        }
    }
}

/// How bad a row is: sorts the overview and colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Planned and nothing is happening.
    Idle,
    Ok,
    Warn,
    Bad,
}

impl Severity {
    pub fn class(self) -> &'static str {
        match self {
            Severity::Idle => "idle",
            Severity::Ok => "ok",
            Severity::Warn => "warn",
            Severity::Bad => "bad",
        }
    }
}

/// One municipality's row.
#[derive(Debug, Clone)]
pub struct MunicipalityView {
    pub code: String,
    pub name: String,
    pub stage: Stage,
    pub stage_by: Option<String>,
    pub nodes: Vec<NodeView>,
    pub open_conflicts: usize,
    /// Open cases of the duplicates review queue naming one of its records.
    pub open_duplicates: u64,
    /// Clerks' un-void requests from its offices waiting for an operator's answer
    /// ([`crate::unvoid`]).
    pub open_unvoid: u64,
    /// The nearest expiry of its nodes' certificates, and whose.
    pub cert_expiry: Option<(OffsetDateTime, String)>,
    /// What is wrong, in words, worst first.
    pub trouble: Vec<(Severity, String)>,
    pub severity: Severity,
}

impl MunicipalityView {
    pub fn waiting(&self) -> u64 {
        self.nodes.iter().filter_map(|n| n.chain.unacked_ops).sum()
    }

    pub fn oldest_waiting_s(&self) -> u64 {
        self.nodes.iter().map(NodeView::lag_s).max().unwrap_or(0)
    }

    /// The most recent refusal of any of its nodes.
    pub fn last_refusal(&self) -> Option<(u64, &str, &str)> {
        self.nodes
            .iter()
            .filter_map(|n| {
                Some((
                    n.chain.last_refusal_ms?,
                    n.node.as_str(),
                    n.chain.last_refusal.as_deref()?,
                ))
            })
            .max_by_key(|r| r.0)
    }
}

pub use civreg_runtime::clock::now_ms;

/// The live view of every node: chain heads, heartbeats, refusals, certificates.
pub fn nodes(ctx: &Context) -> Result<Vec<NodeView>, WebError> {
    let status = ctx.seen().status(ctx.store());
    let now = now_ms();
    let default_window = ctx.settings().online_within.as_millis() as u64;
    let mut certs: HashMap<String, (OffsetDateTime, String)> = HashMap::new();
    // Nodes with a revoked certificate (and, below, none active).
    let mut revoked: std::collections::HashSet<String> = Default::default();
    for e in ctx.pki().list()? {
        if e.kind != CertKind::Node {
            continue;
        }
        if let Some(PeerIdentity::Node {
            municipality,
            node_id,
        }) = e.peer_identity()
        {
            let k = format!("{municipality}/{node_id}");
            if e.status != CertStatus::Active {
                revoked.insert(k);
                continue;
            }
            let newer = certs.get(&k).is_none_or(|(t, _)| e.not_after > *t);
            if newer {
                certs.insert(k, (e.not_after, e.serial.clone()));
            }
        }
    }
    let today = OffsetDateTime::now_utc();
    let mut chains: BTreeMap<String, ChainStatus> = status
        .chains
        .into_iter()
        .map(|c| (c.node.clone(), c))
        .collect();
    for k in certs.keys().chain(revoked.iter()) {
        chains.entry(k.clone()).or_insert_with(|| ChainStatus {
            node: k.clone(),
            ..Default::default()
        });
    }
    Ok(chains
        .into_values()
        .filter_map(|chain| {
            let (m, n) = chain.node.split_once('/')?;
            civreg_shared::gazetteer::by_code(m)?;
            let window_ms = online_window_ms(&chain, default_window);
            let online = chain
                .last_seen_ms
                .is_some_and(|t| now.saturating_sub(t) <= window_ms);
            // Kept by the hub until the node's next successful round (`sync/service.rs`).
            let refused_now = chain.last_refusal_ms.is_some();
            let cert = certs.get(&chain.node);
            let cert_state = match cert {
                Some((t, _)) if *t <= today => CertState::Expired,
                Some(_) => CertState::Valid,
                None if revoked.contains(&chain.node) => CertState::Revoked,
                None => CertState::None,
            };
            Some(NodeView {
                cert_state,
                window_ms,
                blocked: ctx.store().refused_op(m, n),
                node_id: n.to_string(),
                online,
                refused_now,
                cert_expiry: cert.map(|c| c.0),
                cert_serial: cert.map(|c| c.1.clone()),
                node: chain.node.clone(),
                chain,
            })
        })
        .collect())
}

/// Open conflicts per municipality.
pub fn open_conflicts(ctx: &Context) -> Result<HashMap<String, usize>, WebError> {
    let mut out: HashMap<String, usize> = HashMap::new();
    for c in crate::review::list(ctx.store(), None, false)? {
        *out.entry(c.municipality).or_default() += 1;
    }
    Ok(out)
}

/// A certificate's kind and subject as the dashboard and `/metrics` name them: `("node",
/// "m/n")`, `("operator", name)`, `("hub", its names)`, `("app", "m/n")`.
pub fn cert_subject(e: &IssuedEntry) -> (&'static str, String) {
    let id = e.identity.as_str();
    let after = |p: &str| id.strip_prefix(p).unwrap_or(id).to_string();
    match e.kind {
        CertKind::Node => ("node", after("civreg://node/")),
        CertKind::Operator => ("operator", after("civreg://operator/")),
        CertKind::Hub => ("hub", after("hub:")),
        CertKind::App => ("app", after("civreg://app/")),
        CertKind::Signer => ("signer", id.to_string()),
    }
}

/// The active certificates that expire within [`CERT_WARN_DAYS`] of `now` or have expired,
/// soonest first, one per subject (its newest; one for the hub, whatever its names):
/// nodes', operators', the hub's own and clerk apps' ([`crate::pki::Pki::expiring_within`]).
pub fn expiring_certs(ctx: &Context, now: OffsetDateTime) -> Result<Vec<IssuedEntry>, WebError> {
    let mut newest: BTreeMap<(&'static str, String), IssuedEntry> = BTreeMap::new();
    for e in ctx.pki().expiring_within(CERT_WARN_DAYS, now)? {
        let (kind, who) = cert_subject(&e);
        let who = if e.kind == CertKind::Hub {
            String::new()
        } else {
            who
        };
        match newest.get(&(kind, who.clone())) {
            Some(n) if n.not_after >= e.not_after => {}
            _ => {
                newest.insert((kind, who), e);
            }
        }
    }
    let mut out: Vec<IssuedEntry> = newest.into_values().collect();
    out.sort_by_key(|e| e.not_after);
    Ok(out)
}

/// Every municipality, trouble first; what is wrong is said in `lang`.
pub fn overview(ctx: &Context, lang: Lang) -> Result<Vec<MunicipalityView>, WebError> {
    let rollout = Rollout::read_in(ctx.store())?.1;
    let conflicts = open_conflicts(ctx)?;
    let duplicates = super::open_duplicates(ctx)?;
    // From the index's keys: no request is decoded on a render.
    let unvoid = crate::unvoid::pending_counts(ctx.store())?;
    let mut by_m: HashMap<String, Vec<NodeView>> = HashMap::new();
    for n in nodes(ctx)? {
        let m = n.node.split('/').next().unwrap_or_default().to_string();
        by_m.entry(m).or_default().push(n);
    }
    let today = OffsetDateTime::now_utc();
    let mut rows: Vec<MunicipalityView> = civreg_shared::gazetteer::all()
        .iter()
        .map(|m| {
            let entry = rollout.entry(m.code);
            let stage = entry.map(|e| e.stage).unwrap_or(Stage::Planned);
            let nodes = by_m.remove(m.code).unwrap_or_default();
            let open = conflicts.get(m.code).copied().unwrap_or(0);
            let cert_expiry = nodes
                .iter()
                .filter_map(|n| n.cert_expiry.map(|t| (t, n.node.clone())))
                .min_by_key(|c| c.0);
            let mut row = MunicipalityView {
                code: m.code.to_string(),
                name: super::fmt::municipality_name(lang, m).to_string(),
                stage,
                stage_by: entry.and_then(|e| e.changed_by.clone()),
                nodes,
                open_conflicts: open,
                open_duplicates: duplicates.get(m.code).copied().unwrap_or(0),
                open_unvoid: unvoid.get(m.code).copied().unwrap_or(0),
                cert_expiry,
                trouble: Vec::new(),
                severity: Severity::Ok,
            };
            row.trouble = trouble(&row, today, lang);
            row.severity = row.trouble.first().map(|t| t.0).unwrap_or(
                if stage == Stage::Planned && row.nodes.is_empty() {
                    Severity::Idle
                } else {
                    Severity::Ok
                },
            );
            row
        })
        .collect();
    rows.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.trouble.len().cmp(&a.trouble.len()))
            .then(a.code.cmp(&b.code))
    });
    Ok(rows)
}

fn trouble(row: &MunicipalityView, today: OffsetDateTime, lang: Lang) -> Vec<(Severity, String)> {
    use Severity::{Bad, Warn};
    let c = Catalog::get();
    let say = |key: &str, node: &str, args: &[(&str, Arg)]| {
        let mut all: Vec<(&str, Arg)> = vec![("node", node.into())];
        all.extend(args.iter().cloned());
        c.format(lang, key, &all)
    };
    let mut t = Vec::new();
    let syncing = matches!(row.stage, Stage::Pilot | Stage::Live | Stage::Suspended);
    for n in &row.nodes {
        let node = n.node.as_str();
        if let Some(why) = &n.chain.halted {
            t.push((
                Bad,
                say("dash-trouble-halted", node, &[("why", why.into())]),
            ));
        }
        if let Some(why) = &n.chain.held_back {
            t.push((
                Bad,
                say("dash-trouble-upgrade", node, &[("why", why.into())]),
            ));
        }
        if n.refused_now {
            t.push((Bad, say("dash-trouble-refused", node, &[])));
        }
        if let Some(b) = &n.blocked {
            t.push((
                Bad,
                say(
                    "dash-trouble-blocked",
                    node,
                    &[("seq", b.seq.into()), ("record", (&b.record_id).into())],
                ),
            ));
        }
        match n.cert_state {
            CertState::Revoked => t.push((Bad, say("dash-trouble-revoked", node, &[]))),
            CertState::Expired | CertState::Valid | CertState::None => {}
        }
        if syncing && !n.online {
            t.push(match n.chain.last_seen_ms {
                Some(_) => (Bad, say("dash-trouble-not-reaching", node, &[])),
                // Enrolled but not yet running: worth a look, not an outage.
                None => (Warn, say("dash-trouble-never", node, &[])),
            });
        }
        if let Some(w) = n.chain.unacked_ops.filter(|w| *w > 0) {
            t.push((Warn, say("dash-trouble-waiting", node, &[("n", w.into())])));
        }
        if n.chain.clock_warning.is_some() {
            t.push((Warn, say("dash-trouble-clock", node, &[])));
        }
        if let Some(exp) = n.cert_expiry {
            let days = (exp - today).whole_days();
            if exp <= today {
                t.push((Bad, say("dash-trouble-cert-expired", node, &[])));
            } else if days <= CERT_WARN_DAYS {
                t.push((
                    Warn,
                    say("dash-trouble-cert-expires", node, &[("days", days.into())]),
                ));
            }
        }
    }
    if row.stage == Stage::Suspended {
        t.push((Warn, c.text(lang, "dash-stage-suspended")));
    }
    if row.open_conflicts > 0 {
        t.push((
            Warn,
            c.format(
                lang,
                "dash-trouble-conflicts",
                &[("n", row.open_conflicts.into())],
            ),
        ));
    }
    if row.open_duplicates > 0 {
        t.push((
            Warn,
            c.format(
                lang,
                "dash-trouble-duplicates",
                &[("n", row.open_duplicates.into())],
            ),
        ));
    }
    t.sort_by_key(|x| std::cmp::Reverse(x.0));
    t
}
