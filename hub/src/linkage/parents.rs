//! Linking a child's records proposes linking the parents named on them (issue 16).
//!
//! When a link makes two birth records' children one person (a pair's link, a cluster's
//! decision, the central import's match), the mothers named on the two records, and the
//! fathers, are probably one person too. Each such pair is scored by the saved matching model
//! ([`crate::linkage::models::current`]), and filed as a case of the duplicates queue (source
//! `parents`, with [`Proposed`] saying whose link it follows, by whom and when) when:
//! - both records name that parent;
//! - the model classes the pair Possible or Match (its thresholds, as for `match dedupe`);
//! - the two are not one person already;
//! - no case of that pair exists, in any state (a dismissed pair is not proposed again), and
//!   none was proposed earlier in the same batch; a case an unlink withdrew (the children's
//!   link that proposed it undone, [`duplicates::Status::Withdrawn`]) is opened again.
//!
//! An unlink that separates the two children withdraws the proposals of their link that are
//! still open ([`duplicates::unlink`]).
//!
//! Bounded: one level per link (a proposal is a case, never a link, so nothing cascades), at
//! most [`MAX_CHILD_PAIRS`] pairs of children per link and [`MAX_PROPOSALS`] cases per batch.
//! With no usable saved model (no `match dedupe`, `match train` or `import` has run yet) nothing
//! is proposed, and the log says so.

use crate::linkage::duplicates::{self, Case, DuplicateError, Found, LinkedBy, Merge, Proposed};
use crate::linkage::persons;
use crate::store::HubStore;
use civreg_shared::linkage::{Class, Model, PersonRecord};
use civreg_shared::model::Record;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

/// Pairs of children one link looks at (a link of two large people would otherwise compare
/// every record of one with every record of the other).
pub const MAX_CHILD_PAIRS: usize = 32;

/// Cases one batch (a decision, an import group) proposes at most.
pub const MAX_PROPOSALS: usize = 256;

/// The parents' roles compared, mother with mother and father with father.
const PARENTS: [&str; 2] = ["mother", "father"];

/// Proposes the parents' cases for the links of one batch.
pub struct Parents<'a> {
    store: &'a HubStore,
    /// `None` until first needed; then the saved model, if one can be used.
    model: Option<Option<Cow<'a, Model>>>,
    /// Records not in the store yet (an import group's), by number.
    pending: HashMap<String, Record>,
    /// Case ids proposed in this batch.
    filed: BTreeSet<String>,
    /// The key personal numbers are blinded with for comparison (never stored).
    key: ring::hmac::Key,
}

impl<'a> Parents<'a> {
    /// Uses the saved model, read when first needed.
    pub fn new(store: &'a HubStore) -> Parents<'a> {
        let mut k = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut k)
            .expect("the system's random source works");
        Parents {
            store,
            model: None,
            pending: HashMap::new(),
            filed: BTreeSet::new(),
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &k),
        }
    }

    /// Uses `model` (the import's, already loaded).
    pub fn with_model(store: &'a HubStore, model: Option<&'a Model>) -> Parents<'a> {
        let mut p = Parents::new(store);
        p.model = Some(model.map(Cow::Borrowed));
        p
    }

    /// A record written in the same batch as the links (not in the store yet).
    pub fn pending(&mut self, regno: &str, record: Record) {
        self.pending.insert(regno.to_string(), record);
    }

    fn model(&mut self) -> Option<&Model> {
        if self.model.is_none() {
            let m = match crate::linkage::models::current(self.store) {
                Ok(Some((_, Ok((_, m))))) => Some(Cow::Owned(m)),
                Ok(Some((id, Err(why)))) => {
                    tracing::warn!(model = %id, %why, "the saved matching model can not be used: no parents proposed");
                    None
                }
                Ok(None) => {
                    tracing::info!("no matching model is saved yet (`civreg-hub match train`): no parents proposed");
                    None
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the saved matching model can not be read: no parents proposed");
                    None
                }
            };
            self.model = Some(m);
        }
        self.model.as_ref().and_then(Option::as_deref)
    }

    fn record(&self, regno: &str) -> Result<Option<Record>, DuplicateError> {
        if let Some(r) = self.pending.get(regno) {
            return Ok(Some(r.clone()));
        }
        Ok(self.store.record(regno)?.and_then(|st| st.record().ok()))
    }

    /// The record of a mention that is the child of a birth.
    fn birth_of_child(&self, mention: &str) -> Result<Option<(String, Record)>, DuplicateError> {
        let Some((regno, "child")) = mention.rsplit_once('/') else {
            return Ok(None);
        };
        Ok(self
            .record(regno)?
            .filter(|r| matches!(r, Record::Birth(_)))
            .map(|r| (regno.to_string(), r)))
    }

    /// The person a mention is, without minting anything (`None`: a person of its own that
    /// nobody asked about yet).
    fn person(&self, mention: &str) -> Result<Option<String>, DuplicateError> {
        let Some((regno, role)) = mention.rsplit_once('/') else {
            return Ok(None);
        };
        if let Some(p) = persons::linked(self.store, regno, role)? {
            return Ok(Some(p.to_string()));
        }
        Ok(persons::minted(self.store, mention)?.map(|p| p.to_string()))
    }

    fn people(&self, regno: &str, record: &Record) -> Vec<PersonRecord> {
        PersonRecord::from_record(regno, record, |scheme, n| {
            let tag = ring::hmac::sign(&self.key, format!("{scheme}\0{n}").as_bytes());
            hex::encode(&tag.as_ref()[..16])
        })
    }

    /// The parents' cases a merge proposes (not written).
    pub fn propose(
        &mut self,
        merge: &Merge,
        by: &LinkedBy,
        at_ms: u64,
    ) -> Result<Vec<Case>, DuplicateError> {
        let mut out = Vec::new();
        if merge.parts.len() < 2 || self.filed.len() >= MAX_PROPOSALS {
            return Ok(out);
        }
        // The children of births in each part; pairs across parts are newly one person.
        let mut parts: Vec<Vec<(String, String, Record)>> = Vec::new();
        for part in &merge.parts {
            let mut births = Vec::new();
            for m in part {
                if let Some((regno, r)) = self.birth_of_child(m)? {
                    births.push((m.clone(), regno, r));
                }
            }
            parts.push(births);
        }
        let mut pairs = Vec::new();
        'all: for i in 0..parts.len() {
            for j in i + 1..parts.len() {
                for x in &parts[i] {
                    for y in &parts[j] {
                        if pairs.len() >= MAX_CHILD_PAIRS {
                            break 'all;
                        }
                        pairs.push((x, y));
                    }
                }
            }
        }
        if pairs.is_empty() || self.model().is_none() {
            return Ok(out);
        }
        for (x, y) in pairs {
            let (px, py) = (self.people(&x.1, &x.2), self.people(&y.1, &y.2));
            for role in PARENTS {
                if self.filed.len() >= MAX_PROPOSALS {
                    tracing::warn!(
                        max = MAX_PROPOSALS,
                        "parents proposed: the batch's bound is reached"
                    );
                    return Ok(out);
                }
                let (ma, mb) = (format!("{}/{role}", x.1), format!("{}/{role}", y.1));
                let (Some(a), Some(b)) = (
                    px.iter().find(|p| p.id == ma),
                    py.iter().find(|p| p.id == mb),
                ) else {
                    continue;
                };
                let id = duplicates::case_id(&ma, &mb);
                if self.filed.contains(&id) {
                    continue;
                }
                let (wa, wb) = (self.person(&ma)?, self.person(&mb)?);
                if wa.is_some() && wa == wb {
                    continue;
                }
                let model = self.model().expect("checked above");
                let score = model.score(a, b);
                let class = match model.class(score.weight) {
                    Class::Match => "match",
                    Class::Possible => "possible",
                    Class::New => continue,
                };
                let found = Found {
                    a: ma,
                    b: mb,
                    weight: score.weight,
                    probability: score.probability,
                    class: class.into(),
                    source: "parents".into(),
                };
                let case = match duplicates::propose_again(self.store, &found, by, at_ms)? {
                    Some(c) => Some(c),
                    None => duplicates::new_case(self.store, found)?.map(|(c, _)| c),
                };
                if let Some(mut c) = case {
                    c.proposed = Some(Box::new(Proposed {
                        children: vec![x.0.clone(), y.0.clone()],
                        operator: by.operator.clone(),
                        at_ms,
                        by: by.via.clone(),
                    }));
                    self.filed.insert(c.id.clone());
                    out.push(c);
                }
            }
        }
        Ok(out)
    }
}
