//! The registry of issued certificates shared by every hub over one store (issue 19 part 2).
//!
//! What makes an office "registered" (its certificate active in the registry) and what makes
//! it refused (revoked) is kept in the hub's store (`aux` key `pki/registry`: every entry,
//! with a version, written by compare-and-set). Each hub keeps working with its PKI directory
//! as before (`issued.json`, `crl.pem`: what [`super::Admission`], the TLS configuration and
//! the live-connection guard read), and a running hub follows the store ([`Follower`], every
//! [`FOLLOW_EVERY`]) both ways:
//! - what the store has that its directory lacks (a certificate issued or renewed through
//!   another hub, a revocation made there) is merged into `issued.json`, and a revocation
//!   taken in writes `crl.pem` again (signed with this hub's copy of the issuing key, next CRL
//!   number; the new issuing CA's CRL too during a rollover), so that the TLS configuration,
//!   the admission and the guard that ends revoked connections apply it here within seconds;
//! - what its directory has that the store lacks (a `pki issue`, `pki revoke` or a `Renew`
//!   made through this hub; the registry of an earlier version, on the first start) is added
//!   to the store.
//!
//! Merging is a union by serial: an entry is never removed, and a certificate revoked on
//! either side is revoked (the earlier revocation time kept), so the order in which hubs merge
//! does not matter and a revocation is never undone. The renewal requirement
//! (`renew-required.json`: the serials whose holders must renew, `pki require-renewal`) is
//! kept with the registry in the same value and exchanged the same way, a union of serials
//! (a requirement ends when the node renews: its new serial is in none), so a node renewing
//! or connecting at any hub is told what was required through another. The CA's private keys stay files: the
//! issuing key is on each hub machine by design (each hub issues bundles, renews and signs its
//! own CRL); the root key is offline.

use super::{CertStatus, IssuedEntry, Lock, Pki, PkiError};
use crate::store::{aux, HubStore, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, SystemTime};

/// How often a running hub compares its registry with the store's.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the registry of issued certificates in the hub's store can not be read ({0}): restore the store from a backup")]
    Damaged(String),
}

/// The registry as the store keeps it.
#[derive(Serialize, Deserialize)]
struct Kept {
    version: u64,
    certificates: Vec<IssuedEntry>,
    /// The serials whose holders must renew (absent in the values of earlier versions).
    #[serde(default)]
    renew_required: BTreeSet<String>,
}

/// What the store holds: its version, the registry, the renewal requirement.
type Shared = (u64, Vec<IssuedEntry>, BTreeSet<String>);

fn registry_key() -> Vec<u8> {
    aux::aux_key(aux::PKI, "registry")
}

fn version_key() -> Vec<u8> {
    aux::aux_key(aux::PKI, "version")
}

/// `a` and `b` as one registry: `a`'s entries in their order, then those only `b` has in
/// `b`'s; an entry revoked in either is revoked, with the earlier revocation time.
pub fn union(a: &[IssuedEntry], b: &[IssuedEntry]) -> Vec<IssuedEntry> {
    let by_serial: HashMap<&str, &IssuedEntry> = b.iter().map(|e| (e.serial.as_str(), e)).collect();
    let mut seen = HashSet::with_capacity(a.len());
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    for e in a {
        if !seen.insert(e.serial.as_str()) {
            continue;
        }
        let mut e = e.clone();
        if let Some(other) = by_serial.get(e.serial.as_str()) {
            if other.status == CertStatus::Revoked {
                e.status = CertStatus::Revoked;
                e.revoked_at = match (e.revoked_at, other.revoked_at) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                };
            }
        }
        out.push(e);
    }
    for e in b {
        if seen.insert(e.serial.as_str()) {
            out.push(e.clone());
        }
    }
    out
}

fn revoked(entries: &[IssuedEntry]) -> HashSet<&str> {
    entries
        .iter()
        .filter(|e| e.status == CertStatus::Revoked)
        .map(|e| e.serial.as_str())
        .collect()
}

impl Pki {
    /// Merges `shared` (the store's registry) into this PKI's `issued.json` ([`union`]) and,
    /// when that revokes a certificate here, writes `crl.pem` again. Returns the merged
    /// registry's entries. Writes nothing when `shared` adds nothing.
    pub fn merge_registry(&self, shared: &[IssuedEntry]) -> Result<Vec<IssuedEntry>, PkiError> {
        let local = self.load_registry()?;
        let merged = union(&local.certificates, shared);
        if merged == local.certificates {
            return Ok(merged);
        }
        let _lock = Lock::acquire(self.dir())?;
        let mut registry = self.load_registry()?;
        let merged = union(&registry.certificates, shared);
        let newly_revoked = revoked(&merged).len() > revoked(&registry.certificates).len();
        registry.certificates = merged;
        if newly_revoked {
            let now = super::now_seconds();
            let issuer = self.load_issuer()?;
            let on_disk = self.current_crl_number().unwrap_or(0);
            registry.crl_number = registry.crl_number.max(on_disk).saturating_add(1);
            let crl_pem = super::make_crl(&issuer, &registry, now)?;
            // CRL first, as `revoke` does: the certificate is refused from here on.
            super::write_atomic(&self.crl_path(), crl_pem.as_bytes(), false)?;
            self.write_next_crl(&registry, now)?;
        }
        self.save_registry(&registry)?;
        tracing::info!(
            entries = registry.certificates.len(),
            newly_revoked,
            "certificates issued or revoked through another hub taken into this hub's PKI"
        );
        Ok(registry.certificates)
    }
}

fn decode(raw: Option<Vec<u8>>) -> Result<Shared, ShareError> {
    match raw {
        None => Ok((0, Vec::new(), BTreeSet::new())),
        Some(raw) => serde_json::from_slice::<Kept>(&raw)
            .map(|k| (k.version, k.certificates, k.renew_required))
            .map_err(|e| ShareError::Damaged(e.to_string())),
    }
}

/// The store's registry version (0: none yet).
fn version_in(store: &HubStore) -> Result<u64, ShareError> {
    match store.aux_get(&version_key())? {
        None => Ok(0),
        Some(raw) => raw
            .as_slice()
            .try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| ShareError::Damaged(format!("a version of {} bytes", raw.len()))),
    }
}

/// The registry of issued certificates as the store holds it (what every hub over it admits).
pub fn registry_in(store: &HubStore) -> Result<Vec<IssuedEntry>, ShareError> {
    Ok(decode(store.aux_get(&registry_key())?)?.1)
}

/// The serials whose holders must renew, as the store holds them.
pub fn required_in(store: &HubStore) -> Result<BTreeSet<String>, ShareError> {
    Ok(decode(store.aux_get(&registry_key())?)?.2)
}

/// One exchange between `pki`'s directory and `store`, by compare-and-set: the store's
/// entries and renewal requirement merged into the directory, then the unions written to the
/// store when they add anything there. Returns the store's version after it.
pub fn exchange(pki: &Pki, store: &HubStore) -> Result<u64, ShareError> {
    store.aux_decide(|reads| {
        store.aux_get_noting(&version_key(), reads)?;
        let (version, shared, shared_required) =
            decode(store.aux_get_noting(&registry_key(), reads)?)?;
        let merged = pki.merge_registry(&shared)?;
        // A damaged `renew-required.json` must not stop revocations from being shared.
        let required = pki.merge_required(&shared_required).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the renewal requirement was not exchanged with the store: fix or delete renew-required.json");
            shared_required.clone()
        });
        let all = union(&shared, &merged);
        if all == shared && required.is_subset(&shared_required) {
            return Ok((version, None));
        }
        let next = version + 1;
        let kept = serde_json::to_vec(&Kept {
            version: next,
            certificates: all,
            renew_required: shared_required.union(&required).cloned().collect(),
        })
        .expect("a registry serialises");
        Ok::<_, ShareError>((
            next,
            Some(vec![
                (version_key(), Some(next.to_be_bytes().to_vec())),
                (registry_key(), Some(kept)),
            ]),
        ))
    })
}

/// A running hub's side of the exchange: [`exchange`] whenever the store's version or the
/// directory's `issued.json` or `renew-required.json` changed since the last one.
pub struct Follower {
    pki: Pki,
    last: Option<(u64, FileStamps)>,
}

/// The length and modification time of `issued.json` and of `renew-required.json`.
type FileStamps = [Option<(u64, SystemTime)>; 2];

fn file_stamp(pki: &Pki) -> FileStamps {
    [pki.registry_path(), pki.renew_required_path()].map(|p| {
        let m = std::fs::metadata(p).ok()?;
        Some((m.len(), m.modified().ok()?))
    })
}

impl Follower {
    pub fn new(pki: Pki) -> Follower {
        Follower { pki, last: None }
    }

    /// Exchanges when something changed on either side; whether an exchange ran.
    pub fn tick(&mut self, store: &HubStore) -> Result<bool, ShareError> {
        let now = (version_in(store)?, file_stamp(&self.pki));
        if self.last == Some(now) {
            return Ok(false);
        }
        let version = exchange(&self.pki, store)?;
        self.last = Some((version, file_stamp(&self.pki)));
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::Admission;

    /// Two hubs' PKI directories (hub B's a copy of hub A's, as the operator manual sets a
    /// second hub up) over one store: a certificate issued through A is admitted at B once B
    /// followed the store, and one revoked through B is refused at A, on A's own CRL too.
    #[test]
    fn issued_and_revoked_through_one_hub_reach_the_other_through_the_store() {
        let d = tempfile::tempdir().unwrap();
        let (a_dir, b_dir) = (d.path().join("a"), d.path().join("b"));
        let a = Pki::init(&a_dir, &[]).unwrap();
        let cp = std::process::Command::new("cp")
            .arg("-a")
            .arg(&a_dir)
            .arg(&b_dir)
            .status()
            .unwrap();
        assert!(cp.success());
        let b = Pki::open(&b_dir).unwrap();
        let store = HubStore::open_temporary().unwrap();
        let (mut fa, mut fb) = (Follower::new(a.clone()), Follower::new(b.clone()));
        assert!(
            fa.tick(&store).unwrap(),
            "the first exchange imports A's registry"
        );
        assert!(fb.tick(&store).unwrap());
        assert!(
            !fb.tick(&store).unwrap(),
            "nothing changed, nothing exchanged"
        );
        assert_eq!(registry_in(&store).unwrap(), a.list().unwrap());

        let issued = a.issue_node("prishtine", "7", 30).unwrap();
        let serial = issued.entry.serial.clone();
        let at_b = Admission::new(&b);
        at_b.refresh();
        assert!(
            at_b.admits(&serial).is_err(),
            "unknown at B before the exchange"
        );
        fa.tick(&store).unwrap();
        fb.tick(&store).unwrap();
        at_b.refresh();
        assert_eq!(
            at_b.admits(&serial),
            Ok(()),
            "issued through A, admitted at B"
        );

        let at_a = Admission::new(&a);
        at_a.refresh();
        assert_eq!(at_a.admits(&serial), Ok(()));
        b.revoke("prishtine/7").unwrap();
        fb.tick(&store).unwrap();
        fa.tick(&store).unwrap();
        at_a.refresh();
        assert!(
            matches!(
                at_a.admits(&serial),
                Err(crate::pki::admission::Refusal::Revoked(_))
            ),
            "revoked through B, refused at A"
        );
        let crl = std::fs::read(a.crl_path()).unwrap();
        let listed = crate::pki::admission::crl_serials(&crl);
        assert!(listed.contains(&serial), "A's own CRL lists it");

        // A renewal required through A: a node connecting at B is told to renew.
        let other = a.issue_node("prishtine", "8", 30).unwrap().entry.serial;
        fa.tick(&store).unwrap();
        fb.tick(&store).unwrap();
        at_b.refresh();
        assert!(!at_b.renewal_required(&other));
        a.require_renewal(Some("prishtine/8")).unwrap();
        assert!(
            fa.tick(&store).unwrap(),
            "the requirement's file changed at A"
        );
        assert!(required_in(&store).unwrap().contains(&other));
        fb.tick(&store).unwrap();
        at_b.refresh();
        assert!(
            at_b.renewal_required(&other),
            "required through A, told at B"
        );
        assert_eq!(b.renewal_required().unwrap(), a.renewal_required().unwrap());
        // And the other way round; neither side loses the other's.
        let third = b.issue_node("istog", "1", 30).unwrap().entry.serial;
        b.require_renewal(Some("istog/1")).unwrap();
        fb.tick(&store).unwrap();
        fa.tick(&store).unwrap();
        let at_a_required = a.renewal_required().unwrap();
        assert!(at_a_required.contains(&third) && at_a_required.contains(&other));
        // A revocation is never undone by a hub that had not heard of it, whichever side.
        let stale = vec![issued.entry.clone()];
        let shared = registry_in(&store).unwrap();
        for merged in [union(&shared, &stale), union(&stale, &shared)] {
            assert_eq!(merged.len(), shared.len());
            assert!(merged
                .iter()
                .any(|e| e.serial == serial && e.status == CertStatus::Revoked));
        }
    }
}
