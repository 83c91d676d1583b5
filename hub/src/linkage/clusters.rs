//! The duplicates queue by person: clusters of open cases, and one decision for a whole cluster.
//!
//! A cluster is a connected component of the open cases: its nodes are *people* (the mentions of
//! the cases, mentions that are already one person counting as one node), its edges the open
//! cases. One man registered six times is one cluster of six records and fifteen cases. An
//! operator decides a cluster at once ([`decide`]): **all one person** (every node linked to
//! the first node's person, by the link ops of [`persons::apply_plan`], one op per record, and
//! every case closed as linked), or **split** (the operator gives each record a group: each
//! group becomes one person, cases across groups are dismissed). Every case keeps the decision
//! (operator, time, reason, `via` the cluster), and the cluster decision itself is kept under
//! `dc/CLUSTER/TIME` with its groups, the cases it closed and its ops.
//!
//! Cluster ids are `c` + 12 hex digits of SHA-256 over the cluster's smallest mention, so a
//! cluster keeps its id while cases are added to it; the *version* hashes its open cases and
//! its nodes, and a decision made on a page that shows an older version is refused.
//!
//! A decision covers at most [`MAX_CLUSTER`] records: a larger cluster (long chains of
//! common names) is decided pair by pair.

use super::duplicates::{self, Case, Decision, DuplicateError, Status, Via};
use super::persons::{self, Planned};
use crate::store::{aux, AuxReads, AuxWrite, HubStore};
use civreg_shared::ids::PersonId;
use civreg_shared::op::OpId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The most records a cluster page shows and one decision covers.
pub const MAX_CLUSTER: usize = 50;

/// One person of a cluster: the cluster's mentions that are this person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The person identifier, when one was minted or linked (none yet: a record nobody asked
    /// about).
    pub person: Option<String>,
    /// `REGNO/ROLE`, sorted.
    pub mentions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    pub id: String,
    /// Changes when a case or a node of the cluster changes.
    pub version: String,
    /// Sorted by first mention.
    pub nodes: Vec<Node>,
    /// How many records (mentions) it has.
    pub size: usize,
    /// Its open cases, strongest first.
    pub cases: Vec<Case>,
    pub strongest: f64,
    pub weakest: f64,
    pub municipalities: Vec<String>,
}

impl Cluster {
    /// Every mention, in node order.
    pub fn mentions(&self) -> impl Iterator<Item = &String> {
        self.nodes.iter().flat_map(|n| n.mentions.iter())
    }

    /// Too many records for one decision.
    pub fn too_large(&self) -> bool {
        self.size > MAX_CLUSTER
    }
}

/// One group of a cluster decision: its records became this person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub mentions: Vec<String>,
    pub person: String,
}

/// An operator's decision on a whole cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterDecision {
    pub cluster: String,
    /// `one` (all one person) or `split`.
    pub choice: String,
    pub operator: String,
    pub at_ms: u64,
    pub reason: String,
    pub groups: Vec<Group>,
    /// Cases closed as linked, and dismissed (across groups).
    pub linked: Vec<String>,
    pub dismissed: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<OpId>,
}

/// What the operator decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    /// Every record of the cluster is one person.
    One,
    /// Mention → group number (`1`, `2`, …), for every record of the cluster.
    Split(BTreeMap<String, String>),
}

/// `c` + 12 hex digits of SHA-256 over the smallest mention.
pub fn cluster_id(smallest: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, smallest.as_bytes());
    format!("c{}", hex::encode(&d.as_ref()[..6]))
}

fn decision_key(cluster: &str, at_ms: u64) -> Vec<u8> {
    aux::aux_key(aux::CLUSTER_DECISIONS, &format!("{cluster}/{at_ms:020}"))
}

/// The person of each mention, read only (nothing minted), records read once.
struct People<'a> {
    store: &'a HubStore,
    links: HashMap<String, BTreeMap<String, String>>,
}

impl People<'_> {
    /// The node key of a mention (`p:PID` or, for a mention with no identifier yet,
    /// `m:MENTION`) and its person.
    fn of(&mut self, mention: &str) -> Result<(String, Option<String>), DuplicateError> {
        if let Some((regno, role)) = mention.rsplit_once('/') {
            if !self.links.contains_key(regno) {
                let l = self
                    .store
                    .record(regno)?
                    .map(|st| {
                        st.persons
                            .iter()
                            .map(|(r, l)| (r.clone(), l.person.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                self.links.insert(regno.to_string(), l);
            }
            if let Some(p) = self.links.get(regno).and_then(|l| l.get(role)) {
                return Ok((format!("p:{p}"), Some(p.clone())));
            }
        }
        match persons::minted(self.store, mention)? {
            Some(p) => Ok((format!("p:{p}"), Some(p.to_string()))),
            None => Ok((format!("m:{mention}"), None)),
        }
    }
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// The clusters of the open cases, of one municipality (a cluster with a record there) or all,
/// strongest first.
pub fn list(store: &HubStore, municipality: Option<&str>) -> Result<Vec<Cluster>, DuplicateError> {
    let open = duplicates::list(store, None, false)?;
    let mut people = People {
        store,
        links: HashMap::new(),
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut nodes: Vec<(Option<String>, BTreeSet<String>)> = Vec::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut ends = Vec::with_capacity(open.len());
    for c in &open {
        let mut pair = [0usize; 2];
        for (slot, m) in pair.iter_mut().zip([&c.a, &c.b]) {
            let (key, person) = people.of(m)?;
            let i = *index.entry(key).or_insert_with(|| {
                nodes.push((person, BTreeSet::new()));
                parent.push(parent.len());
                nodes.len() - 1
            });
            nodes[i].1.insert(m.clone());
            *slot = i;
        }
        let (ra, rb) = (find(&mut parent, pair[0]), find(&mut parent, pair[1]));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
        ends.push(pair[0]);
    }
    let mut comps: BTreeMap<usize, (Vec<usize>, Vec<Case>)> = BTreeMap::new();
    for i in 0..nodes.len() {
        let r = find(&mut parent, i);
        comps.entry(r).or_default().0.push(i);
    }
    for (c, end) in open.into_iter().zip(ends) {
        let r = find(&mut parent, end);
        comps.entry(r).or_default().1.push(c);
    }
    let mut out = Vec::new();
    for (_, (members, cases)) in comps {
        let mut ns: Vec<Node> = members
            .iter()
            .map(|&i| Node {
                person: nodes[i].0.clone(),
                mentions: nodes[i].1.iter().cloned().collect(),
            })
            .collect();
        ns.sort_by(|a, b| a.mentions.cmp(&b.mentions));
        let cl = make(ns, cases);
        if municipality.is_some_and(|m| !cl.municipalities.iter().any(|x| x == m)) {
            continue;
        }
        out.push(cl);
    }
    out.sort_by(|a, b| b.strongest.total_cmp(&a.strongest).then(a.id.cmp(&b.id)));
    Ok(out)
}

fn make(nodes: Vec<Node>, mut cases: Vec<Case>) -> Cluster {
    cases.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.id.cmp(&b.id)));
    let smallest = nodes
        .iter()
        .filter_map(|n| n.mentions.first())
        .min()
        .cloned()
        .unwrap_or_default();
    let mut v = String::new();
    for c in &cases {
        v.push_str(&c.id);
        v.push('\0');
    }
    for n in &nodes {
        v.push('|');
        v.push_str(n.person.as_deref().unwrap_or(""));
        v.push_str(&n.mentions.join(","));
    }
    let version =
        hex::encode(&ring::digest::digest(&ring::digest::SHA256, v.as_bytes()).as_ref()[..8]);
    let municipalities: BTreeSet<String> = cases
        .iter()
        .flat_map(|c| c.municipalities.iter().cloned())
        .collect();
    Cluster {
        id: cluster_id(&smallest),
        version,
        size: nodes.iter().map(|n| n.mentions.len()).sum(),
        strongest: cases.first().map_or(0.0, |c| c.weight),
        weakest: cases.last().map_or(0.0, |c| c.weight),
        nodes,
        cases,
        municipalities: municipalities.into_iter().collect(),
    }
}

/// One cluster of open cases by id.
pub fn get(store: &HubStore, id: &str) -> Result<Cluster, DuplicateError> {
    let id = id.trim();
    list(store, None)?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| DuplicateError::NoCluster(id.chars().take(40).collect()))
}

/// The decisions made on cluster `id`, oldest first.
pub fn decisions(store: &HubStore, id: &str) -> Result<Vec<ClusterDecision>, DuplicateError> {
    let prefix = aux::aux_key(aux::CLUSTER_DECISIONS, &format!("{}/", id.trim()));
    let mut out = Vec::new();
    for r in store.aux_scan(&prefix) {
        let (_, v) = r?;
        out.push(
            serde_json::from_slice(&v)
                .map_err(|_| DuplicateError::Damaged(format!("cluster decision of {id}")))?,
        );
    }
    Ok(out)
}

/// The group of each node of `cl`, from the operator's choice: group numbers `0..groups`.
fn groups_of(cl: &Cluster, choice: &Choice) -> Result<Vec<usize>, DuplicateError> {
    let Choice::Split(given) = choice else {
        return Ok(vec![0; cl.nodes.len()]);
    };
    let all: BTreeSet<&String> = cl.mentions().collect();
    if let Some(m) = given.keys().find(|m| !all.contains(m)) {
        return Err(DuplicateError::NotInCluster {
            mention: m.chars().take(80).collect(),
            cluster: cl.id.clone(),
        });
    }
    let n = cl.nodes.len();
    let mut out = Vec::with_capacity(n);
    for node in &cl.nodes {
        let mut group: Option<(usize, &String)> = None;
        for m in &node.mentions {
            let g = given
                .get(m)
                .ok_or_else(|| DuplicateError::Unassigned(m.clone()))?;
            let g = g
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|g| (1..=n).contains(g))
                .ok_or_else(|| DuplicateError::BadGroup {
                    given: g.chars().take(20).collect(),
                    max: n,
                })?;
            match group {
                Some((h, first)) if h != g - 1 => {
                    return Err(DuplicateError::SplitsAPerson {
                        a: first.clone(),
                        b: m.clone(),
                    })
                }
                Some(_) => {}
                None => group = Some((g - 1, m)),
            }
        }
        out.push(group.map_or(0, |(g, _)| g));
    }
    // Renumber in order of first appearance, so that the groups read 1, 2, 3.
    let mut renum: BTreeMap<usize, usize> = BTreeMap::new();
    let mut next = 0;
    for g in &mut out {
        let r = *renum.entry(*g).or_insert_with(|| {
            next += 1;
            next - 1
        });
        *g = r;
    }
    Ok(out)
}

/// Decides cluster `id` as it was shown at `version` (any version if `None`): every group
/// becomes one person, cases inside a group are closed as linked, cases across groups are
/// dismissed. Returns the decision kept.
pub fn decide(
    store: &HubStore,
    id: &str,
    version: Option<&str>,
    choice: &Choice,
    operator: &str,
    reason: &str,
) -> Result<ClusterDecision, DuplicateError> {
    duplicates::check_decision(operator, reason)?;
    let (operator, reason) = (operator.trim(), reason.trim());
    let _one_at_a_time = duplicates::decide_lock(store);
    for _ in 0..HubStore::DECIDE_ATTEMPTS {
        if let Some(d) = decide_once(store, id, version, choice, operator, reason)? {
            return Ok(d);
        }
    }
    Err(HubStore::contended().into())
}

/// [`decide`] once; `None`: another hub changed a case of the cluster or minted an identifier
/// this decision minted, first (nothing written: decide again).
fn decide_once(
    store: &HubStore,
    id: &str,
    version: Option<&str>,
    choice: &Choice,
    operator: &str,
    reason: &str,
) -> Result<Option<ClusterDecision>, DuplicateError> {
    let cl = get(store, id)?;
    // The cases decided on, as the store holds them: the write's conditions.
    let mut reads = AuxReads::default();
    for c in &cl.cases {
        if !duplicates::note_case(store, c, &mut reads)? {
            return Ok(None);
        }
    }
    if version.is_some_and(|v| v.trim() != cl.version) {
        return Err(DuplicateError::ClusterChanged(cl.id));
    }
    if cl.too_large() {
        return Err(DuplicateError::ClusterTooLarge {
            id: cl.id,
            size: cl.size,
            max: MAX_CLUSTER,
        });
    }
    let group = groups_of(&cl, choice)?;
    let n_groups = group.iter().max().map_or(0, |g| g + 1);
    let clerk = format!("operator:{operator}");
    let why = format!("cluster {}: {reason}", cl.id);

    // Each group: the first node's person is the group's; every other node's person joins it.
    let mut plan = Vec::new();
    let mut groups = Vec::with_capacity(n_groups);
    let mut minting = persons::Minting::default();
    let mut person_of_node = Vec::with_capacity(cl.nodes.len());
    for node in &cl.nodes {
        let p = match &node.person {
            Some(p) => PersonId::parse(p).map_err(persons::PersonError::from)?,
            None => minting.own(store, &node.mentions[0])?,
        };
        person_of_node.push(p);
    }
    for g in 0..n_groups {
        let in_group: Vec<usize> = (0..cl.nodes.len()).filter(|&i| group[i] == g).collect();
        let target = person_of_node[in_group[0]];
        let mut mentions = Vec::new();
        for &i in &in_group {
            mentions.extend(cl.nodes[i].mentions.iter().cloned());
            let p = person_of_node[i];
            if p == target {
                continue;
            }
            // A node without an identifier before this decision is only its mentions.
            let members = if cl.nodes[i].person.is_some() {
                persons::members(store, &p)?
            } else {
                cl.nodes[i].mentions.clone()
            };
            for m in members {
                if let Some((regno, role)) = m.rsplit_once('/') {
                    plan.push(Planned {
                        regno: regno.to_string(),
                        role: role.to_string(),
                        to: target,
                        from: p,
                    });
                }
            }
        }
        mentions.sort();
        groups.push(Group {
            mentions,
            person: target.to_string(),
        });
    }
    let node_of: HashMap<&String, usize> = cl
        .nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.mentions.iter().map(move |m| (m, i)))
        .collect();
    let at_ms = crate::access::now_ms();
    let (mut linked, mut dismissed) = (Vec::new(), Vec::new());
    let mut writes: Vec<AuxWrite> = minting.writes();
    reads.extend(minting.reads().clone());
    for c in &cl.cases {
        let same = match (node_of.get(&c.a), node_of.get(&c.b)) {
            (Some(&x), Some(&y)) => group[x] == group[y],
            _ => false,
        };
        let status = if same {
            Status::Linked
        } else {
            Status::Dismissed
        };
        let mut c = c.clone();
        c.status = status;
        c.decisions.push(Decision {
            status,
            operator: operator.to_string(),
            at_ms,
            reason: reason.to_string(),
            ops: Vec::new(),
            via: Some(Via::Cluster(cl.id.clone())),
        });
        if same {
            linked.push(c.id.clone());
        } else {
            dismissed.push(c.id.clone());
        }
        writes.push(duplicates::write_of(&c));
    }
    // The queue's rules for the links (one place, [`duplicates::after_links`]): cases outside
    // the cluster made moot, and the parents of children joined proposed.
    let mut merges = Vec::new();
    for g in 0..n_groups {
        let mut parts = Vec::new();
        for (i, node) in cl.nodes.iter().enumerate().filter(|(i, _)| group[*i] == g) {
            let mut part: BTreeSet<String> = node.mentions.iter().cloned().collect();
            if node.person.is_some() {
                part.extend(persons::members(store, &person_of_node[i])?);
            }
            parts.push(part.into_iter().collect());
        }
        if parts.len() > 1 {
            merges.push(duplicates::Merge { parts });
        }
    }
    let by = duplicates::LinkedBy {
        operator: operator.to_string(),
        reason: reason.to_string(),
        via: Via::Cluster(cl.id.clone()),
    };
    let except: BTreeSet<String> = cl.cases.iter().map(|c| c.id.clone()).collect();
    let mut parents = crate::linkage::parents::Parents::new(store);
    let after = duplicates::after_links(store, &merges, &except, &by, &mut parents)?;
    if !after.note_reads(store, &mut reads)? {
        return Ok(None);
    }
    writes.extend(after.writes());
    let mut d = ClusterDecision {
        cluster: cl.id.clone(),
        choice: match choice {
            Choice::One => "one".into(),
            Choice::Split(_) => "split".into(),
        },
        operator: operator.to_string(),
        at_ms,
        reason: reason.to_string(),
        groups,
        linked,
        dismissed,
        ops: Vec::new(),
    };
    let record = |d: &ClusterDecision| {
        (
            decision_key(&d.cluster, d.at_ms),
            Some(serde_json::to_vec(d).expect("a cluster decision serialises")),
        )
    };
    writes.push(record(&d));
    if plan.is_empty() {
        if !store.aux_write_if(&reads, &writes)? {
            return Ok(None);
        }
    } else {
        let Some(ops) = persons::apply_plan_if(store, &plan, &clerk, &why, writes, &reads)? else {
            return Ok(None);
        };
        d.ops = ops.iter().map(|o| o.id.clone()).collect();
        // The decision's own record (its key names this decision's time): no one else writes it.
        store.aux_write(&[record(&d)])?;
    }
    tracing::info!(cluster = %d.cluster, operator = %operator, choice = %d.choice, groups = d.groups.len(), linked = d.linked.len(), dismissed = d.dismissed.len(), ops = d.ops.len(), moot = after.moot.len(), parents_proposed = after.proposed.len(), "duplicate cluster decided");
    Ok(Some(d))
}
