//! Citizens' certificates at the hub (issue 15): verification with what only the hub knows, and
//! cancellation.
//!
//! [`check`] verifies a QR text against the hub's *current* trust list (so a signer revoked a
//! moment ago is refused at once), then against the hub's own view: a certificate cancelled by
//! an operator (`civreg-hub certificate cancel`), a record voided since, or a record whose
//! certified content changed since (an amendment: the claims rebuilt from the record as the hub
//! holds it differ from the signed ones). A record the hub does not hold yet (the office has not
//! synced since) is reported as such, not refused.
//!
//! A validly signed certificate whose serial the hub has not been told of is judged by its
//! office's report, which arrives in serial order: when the office has already reported a
//! later serial ([`last_reported`]), this one is not in the agency's register and is refused
//! ([`Refusal::UnknownSerial`]); otherwise it was issued offline and not reported yet, and the
//! answer says so ([`Answer::pending`]), never "valid". The hub's own issues ([`issue`]) are in
//! the register before their PDF exists, so an unknown `hub` serial is always refused.
//!
//! Cancellations are kept in the store (`aux` `ccan/SERIAL`, one entry per certificate, written
//! by compare-and-set), so a certificate cancelled through one hub is refused by every hub over
//! the same database, and cancelled once; each is also appended to the operator actions trail
//! (`crate::audit`). `DATA_DIR/certificates-cancelled.json` of earlier versions is imported once
//! ([`import_file`]) and renamed `*.imported`.
//!
//! The trust list a page checks against is kept in a [`TrustCache`], rebuilt only when the PKI's
//! registry (`issued.json`: every signer issued or revoked) or the issuing CA's certificate
//! changes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use civreg_cert::{Claims, IssueContext, Refusal, TrustList, Verified};
use serde::{Deserialize, Serialize};

use crate::pki::Pki;
use crate::store::HubStore;

pub mod issue;

/// Most characters of a cancellation reason.
pub const MAX_REASON_CHARS: usize = civreg_shared::limits::MAX_TEXT_CHARS;

#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    #[error("{0}")]
    Pki(#[from] crate::pki::PkiError),
    #[error("{0}")]
    Cert(#[from] civreg_cert::CertError),
    #[error("the hub's store could not be read: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{path}: {why}")]
    File { path: PathBuf, why: String },
    #[error("a reason is required, in at most {MAX_REASON_CHARS} characters: --reason \"issued in error\"")]
    Reason,
    #[error("{0:?} is not a certificate serial (C-MUNICIPALITY-YEAR-NNNNNN, as printed)")]
    Serial(String),
    #[error("certificate {0} is already cancelled")]
    AlreadyCancelled(String),
    /// A certificate could not be issued at the hub; the message says why and what to do.
    #[error("{0}")]
    Issue(String),
}

/// One cancelled certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancelled {
    pub serial: String,
    pub reason: String,
    pub operator: String,
    pub at_ms: u64,
}

fn cancelled_path(data_dir: &Path) -> PathBuf {
    data_dir.join("certificates-cancelled.json")
}

fn cancelled_key(serial: &str) -> Vec<u8> {
    crate::store::aux::aux_key(crate::store::aux::CERT_CANCELLED, serial)
}

fn parse_cancelled(v: &[u8]) -> Result<Cancelled, CertsError> {
    serde_json::from_slice(v).map_err(|e| {
        CertsError::Store(crate::store::StoreError::Corrupt(format!(
            "a kept cancellation: {e}"
        )))
    })
}

/// Every cancellation, oldest first.
pub fn cancelled(store: &HubStore) -> Result<Vec<Cancelled>, CertsError> {
    let prefix = crate::store::aux::CERT_CANCELLED.as_bytes();
    let mut all = Vec::new();
    for kv in store.aux_scan(prefix) {
        let (_, v) = kv?;
        all.push(parse_cancelled(&v)?);
    }
    all.sort_by(|a, b| (a.at_ms, &a.serial).cmp(&(b.at_ms, &b.serial)));
    Ok(all)
}

/// The cancellation of `serial`, if it was cancelled.
pub fn cancelled_of(store: &HubStore, serial: &str) -> Result<Option<Cancelled>, CertsError> {
    store
        .aux_get(&cancelled_key(serial))?
        .map(|v| parse_cancelled(&v))
        .transpose()
}

fn check_serial(serial: &str) -> Result<(), CertsError> {
    let ok = serial.starts_with("C-")
        && (6..=64).contains(&serial.len())
        && serial.bytes().all(|b| {
            b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b.is_ascii_lowercase()
        });
    if ok {
        Ok(())
    } else {
        Err(CertsError::Serial(serial.to_owned()))
    }
}

/// Cancels certificate `serial` (issued in error): every later verification, at every hub over
/// this store, refuses it. Written by compare-and-set, so two operators cancelling the same
/// certificate through two hubs get one cancellation and one "already cancelled".
pub fn cancel(
    store: &HubStore,
    serial: &str,
    reason: &str,
    operator: &str,
) -> Result<Cancelled, CertsError> {
    let serial = serial.trim();
    check_serial(serial)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(CertsError::Reason);
    }
    let entry = Cancelled {
        serial: serial.to_owned(),
        reason: civreg_shared::redact::for_log(reason, MAX_REASON_CHARS),
        operator: operator.to_owned(),
        at_ms: crate::access::now_ms(),
    };
    let key = cancelled_key(serial);
    let v = serde_json::to_vec(&entry).expect("a cancellation is plain data and serialises");
    store.aux_decide(|reads| {
        if store.aux_get_noting(&key, reads)?.is_some() {
            return Err(CertsError::AlreadyCancelled(serial.to_owned()));
        }
        Ok((entry.clone(), Some(vec![(key.clone(), Some(v.clone()))])))
    })
}

/// Imports `DATA_DIR/certificates-cancelled.json` of an earlier version into the store once
/// (a serial already cancelled in the store keeps its entry), then renames the file
/// `certificates-cancelled.json.imported`. Returns how many were added.
pub fn import_file(data_dir: &Path, store: &HubStore) -> Result<usize, CertsError> {
    let path = cancelled_path(data_dir);
    let file = |why: String| CertsError::File {
        path: path.clone(),
        why,
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(file(e.to_string())),
    };
    let old: Vec<Cancelled> = serde_json::from_str(&text).map_err(|e| {
        file(format!(
            "not a valid list of cancellations ({e}); restore it from the backup"
        ))
    })?;
    let mut added = 0;
    for c in &old {
        check_serial(&c.serial)?;
        let key = cancelled_key(&c.serial);
        let v = serde_json::to_vec(c).expect("a cancellation is plain data and serialises");
        added += store.aux_decide(|reads| {
            if store.aux_get_noting(&key, reads)?.is_some() {
                return Ok::<_, CertsError>((0, None));
            }
            Ok((1, Some(vec![(key.clone(), Some(v.clone()))])))
        })?;
    }
    let to = data_dir.join("certificates-cancelled.json.imported");
    std::fs::rename(&path, &to).map_err(|e| file(e.to_string()))?;
    tracing::info!(from = %path.display(), added, of = old.len(), "certificate cancellations imported into the hub's store; the file is no longer read");
    Ok(added)
}

/// What the hub says of a certificate.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Valid, or the first reason it is not.
    pub result: Result<Verified, Refusal>,
    /// The claims as signed, when the signature held (also for a later refusal, so a page can
    /// show what the certificate says).
    pub claims: Option<Claims>,
    /// Whether the hub holds the record (false: the office has not synced it yet).
    pub record_held: bool,
    /// Whether the issuing office has reported this serial (its issue record reached the
    /// hub); false for a certificate printed offline and not synced yet.
    pub reported: bool,
    /// Validly signed but not reported yet, and the office has reported nothing issued after
    /// it: issued offline, to be confirmed. `result` is then `Ok`, but this is no "valid".
    pub pending: Option<Pending>,
}

/// A certificate its office has not reported yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The office that signed it (`istog/1`).
    pub office: String,
    /// The day it says it was issued (`YYYY-MM-DD`).
    pub issued_on: String,
    /// The last serial the office has reported, if any.
    pub last_reported: Option<String>,
}

/// The hub's current trust list, as `pki trust-list` would write it now.
pub fn current_trust_list(pki: &Pki) -> Result<TrustList, CertsError> {
    Ok(TrustList::open(&pki.trust_list()?, None)?)
}

type Stamp = Option<(u64, u64, Option<SystemTime>)>;

/// What a file looks like from outside: inode, length, modification time (`None`: missing).
/// Every write of the PKI's files replaces the file, so a change changes the stamp.
fn stamp(path: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.ino(), m.len(), m.modified().ok()))
}

/// The current trust list, rebuilt only when the PKI's registry (`issued.json`, written on
/// every signer issued or revoked) or the issuing CA's certificate changes: building one
/// reads every signer's certificate and signs, which a public page must not do per request.
#[derive(Debug, Default)]
pub struct TrustCache {
    held: Mutex<Option<([Stamp; 3], Arc<TrustList>)>>,
}

impl TrustCache {
    /// The trust list of `pki` as it is now.
    pub fn get(&self, pki: &Pki) -> Result<Arc<TrustList>, CertsError> {
        let stamps = [
            stamp(&pki.registry_path()),
            stamp(&pki.issuing_cert_path()),
            stamp(&pki.ca_cert_path()),
        ];
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((s, list)) = held.as_ref() {
            if *s == stamps {
                return Ok(Arc::clone(list));
            }
        }
        let list = Arc::new(current_trust_list(pki)?);
        *held = Some((stamps, Arc::clone(&list)));
        Ok(list)
    }
}

/// Verifies `text` against `trust`, and the cancellations and records of `store`.
pub fn check(text: &str, trust: &TrustList, store: &HubStore) -> Result<Answer, CertsError> {
    let verified = match civreg_cert::verify(text, trust) {
        Ok(v) => v,
        Err(refusal) => {
            return Ok(Answer {
                result: Err(refusal),
                claims: None,
                record_held: false,
                reported: false,
                pending: None,
            })
        }
    };
    let claims = verified.claims.clone();
    let reported = issue_of(store, &claims.serial)?.is_some();
    let refuse = |r: Refusal, held: bool| Answer {
        result: Err(r),
        claims: Some(claims.clone()),
        record_held: held,
        reported,
        pending: None,
    };
    if let Some(c) = cancelled_of(store, &claims.serial)? {
        return Ok(refuse(
            Refusal::Cancelled {
                at: civreg_cert::format_time((c.at_ms / 1000) as i64),
                reason: c.reason,
            },
            false,
        ));
    }
    // Not in the register: refused when the office has reported past it, else pending.
    let pending = if reported {
        None
    } else {
        let office = verified.signer.office().to_owned();
        let last = last_reported(store, &office)?;
        let this = civreg_cert::serial_order(&claims.serial, &office);
        let passed = last
            .as_deref()
            .and_then(|l| civreg_cert::serial_order(l, &office))
            .is_some_and(|l| this.is_none_or(|t| l > t));
        if office == issue::HUB_OFFICE || passed {
            return Ok(refuse(Refusal::UnknownSerial(claims.serial.clone()), false));
        }
        Some(Pending {
            office,
            issued_on: claims.issued_on.clone(),
            last_reported: last,
        })
    };
    let Some(state) = store.record(&claims.regno)? else {
        return Ok(Answer {
            result: Ok(verified),
            claims: Some(claims),
            record_held: false,
            reported,
            pending,
        });
    };
    if state.voided.is_some() {
        return Ok(refuse(
            Refusal::RecordVoided {
                regno: claims.regno.clone(),
            },
            true,
        ));
    }
    // The content as the record stands now, under the certificate's own serial, office and
    // time; person identifiers given since do not change what was certified.
    let amended = match Claims::from_state(
        &state,
        &IssueContext {
            serial: claims.serial.clone(),
            office: claims.office.clone(),
            issued_at: claims.issued_at,
        },
    ) {
        Ok(mut now) => {
            now.record_version = claims.record_version;
            now.record_head = claims.record_head.clone();
            for (p, signed) in now.people.iter_mut().zip(&claims.people) {
                if signed.person_id.is_none() {
                    p.person_id = None;
                }
            }
            now != claims
        }
        Err(_) => true,
    };
    if amended {
        return Ok(refuse(
            Refusal::RecordAmended {
                regno: claims.regno.clone(),
                issued: claims.record_version,
                now: u32::try_from(state.ops.len()).unwrap_or(u32::MAX),
            },
            true,
        ));
    }
    Ok(Answer {
        result: Ok(verified),
        claims: Some(claims),
        record_held: true,
        reported,
        pending,
    })
}

// ---- issue records reported by the offices ------------------------------------------------

/// At most this many issue records are taken from one heartbeat.
pub const MAX_ISSUES_PER_HEARTBEAT: usize = 100;
const ISSUE_PREFIX: &str = crate::store::aux::CERT_ISSUE;
/// `certlast/OFFICE` → the highest serial `OFFICE` has reported (or the hub issued).
const LAST_PREFIX: &str = crate::store::aux::CERT_LAST;
const ID_DOCUMENTS: [&str; 5] = [
    "id-card",
    "passport",
    "driving-licence",
    "residence-permit",
    "other",
];

/// One certificate an office issued, as the hub keeps it (sealed in `aux`, like all it holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRecord {
    pub serial: String,
    /// The office that issued it: `municipality/node`, from its TLS identity.
    pub office: String,
    pub regno: String,
    pub record_version: u32,
    pub record_head: String,
    pub clerk: String,
    pub at_ms: u64,
    pub collector: String,
    pub id_document: String,
    pub lang: String,
    pub signer_kid: String,
    /// When the hub received it.
    pub received_ms: u64,
}

/// Why an office's issue record is not kept: said in the hub's log, never to a verifier.
fn check_issue(
    office: &str,
    r: &civreg_proto::v1::CertificateIssued,
    now_ms: u64,
) -> Result<(), String> {
    let plain = |s: &str, max: usize| {
        s.chars().count() <= max && !s.is_empty() && !s.chars().any(char::is_control)
    };
    if civreg_cert::serial_order(&r.serial, office).is_none() {
        return Err(format!(
            "serial {:?} is not one this office mints",
            r.serial.chars().take(64).collect::<String>()
        ));
    }
    civreg_shared::ids::RegNo::parse(&r.regno).map_err(|e| format!("regno: {e}"))?;
    if !plain(&r.clerk, 64) || !plain(&r.collector, civreg_shared::limits::MAX_NAME_CHARS) {
        return Err("clerk or collector missing, too long or with control characters".into());
    }
    if !ID_DOCUMENTS.contains(&r.id_document.as_str())
        || !["sq", "sr", "en"].contains(&r.lang.as_str())
    {
        return Err(format!(
            "unknown document kind {:?} or language {:?}",
            r.id_document.chars().take(20).collect::<String>(),
            r.lang.chars().take(8).collect::<String>()
        ));
    }
    let hexish = |s: &str, max: usize| s.len() <= max && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !hexish(&r.signer_kid, 64) || !hexish(&r.record_head, 128) {
        return Err("signer key id or record head is not hex".into());
    }
    // An office's clock may be off, but not by more than a day ahead.
    if r.at_ms > now_ms + 86_400_000 {
        return Err("issued in the future".into());
    }
    Ok(())
}

/// Keeps the issue records an office reported (its identity from its certificate), in one
/// flushed write; returns the last serial dealt with. A record already held is kept as first
/// received; one that fails the checks is logged and skipped, so the office's report moves on.
pub fn record_issues(
    store: &HubStore,
    municipality: &str,
    node_id: &str,
    reports: &[civreg_proto::v1::CertificateIssued],
    now_ms: u64,
) -> Result<String, CertsError> {
    let reports = &reports[..reports.len().min(MAX_ISSUES_PER_HEARTBEAT)];
    let office = format!("{municipality}/{node_id}");
    let mut writes: Vec<crate::store::AuxWrite> = Vec::new();
    let mut last = last_reported(store, &office)?;
    let order = |s: &str| civreg_cert::serial_order(s, &office);
    for r in reports {
        if let Err(why) = check_issue(&office, r, now_ms) {
            tracing::warn!(municipality, node = node_id, %why, "certificate issue record refused");
            continue;
        }
        let key = format!("{ISSUE_PREFIX}{}", r.serial).into_bytes();
        if store.aux_get(&key)?.is_some() || writes.iter().any(|(k, _)| *k == key) {
            continue;
        }
        if last.as_deref().and_then(order) < order(&r.serial) {
            last = Some(r.serial.clone());
        }
        let rec = IssueRecord {
            serial: r.serial.clone(),
            office: office.clone(),
            regno: r.regno.clone(),
            record_version: r.record_version,
            record_head: r.record_head.clone(),
            clerk: r.clerk.clone(),
            at_ms: r.at_ms,
            collector: r.collector.clone(),
            id_document: r.id_document.clone(),
            lang: r.lang.clone(),
            signer_kid: r.signer_kid.clone(),
            received_ms: now_ms,
        };
        writes.push((
            key,
            Some(serde_json::to_vec(&rec).expect("issue record serialises")),
        ));
    }
    if let Some(last) = last.filter(|_| !writes.is_empty()) {
        writes.push((
            format!("{LAST_PREFIX}{office}").into_bytes(),
            Some(last.into_bytes()),
        ));
    }
    // `aux_write` flushes before it returns: acknowledged means on disk.
    store.aux_write(&writes)?;
    Ok(reports.last().map(|r| r.serial.clone()).unwrap_or_default())
}

/// Every certificate the offices reported, by serial; only those of `regno` when given.
pub fn issued(store: &HubStore, regno: Option<&str>) -> Result<Vec<IssueRecord>, CertsError> {
    let mut out = Vec::new();
    for kv in store.aux_scan(ISSUE_PREFIX.as_bytes()) {
        let (_, v) = kv?;
        let rec: IssueRecord = serde_json::from_slice(&v).map_err(|e| CertsError::File {
            path: PathBuf::from("aux/certissue"),
            why: e.to_string(),
        })?;
        if regno.is_none_or(|r| r == rec.regno) {
            out.push(rec);
        }
    }
    Ok(out)
}

/// The issue record of one serial, if its office reported it.
pub fn issue_of(store: &HubStore, serial: &str) -> Result<Option<IssueRecord>, CertsError> {
    match store.aux_get(format!("{ISSUE_PREFIX}{serial}").as_bytes())? {
        None => Ok(None),
        Some(v) => serde_json::from_slice(&v)
            .map(Some)
            .map_err(|e| CertsError::File {
                path: PathBuf::from("aux/certissue"),
                why: e.to_string(),
            }),
    }
}

/// The highest serial `office` has reported (the hub's own for `hub`), if any. Kept from this
/// version on: an office that reported only before it has none until its next report.
pub fn last_reported(store: &HubStore, office: &str) -> Result<Option<String>, CertsError> {
    Ok(store
        .aux_get(format!("{LAST_PREFIX}{office}").as_bytes())?
        .map(|v| String::from_utf8_lossy(&v).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests_concurrent::Shared;

    /// Two hubs over one database: a cancellation made through one is seen by the other, and
    /// two operators cancelling one certificate at once through both get one cancellation.
    fn cancelled_through_one_hub_is_cancelled_at_every_hub(db: Shared) {
        let (a, b) = (db.store(), db.store());
        let serial = "C-ISTOG-2026-000007";
        let c = cancel(&a, serial, "issued in error", "vjosa").unwrap();
        assert_eq!(cancelled_of(&b, serial).unwrap(), Some(c.clone()));
        assert_eq!(cancelled(&b).unwrap(), vec![c]);
        assert!(matches!(
            cancel(&b, serial, "again", "besa"),
            Err(CertsError::AlreadyCancelled(_))
        ));
        let other = "C-PEJE-2026-000001";
        let won: Vec<bool> = std::thread::scope(|s| {
            let hs: Vec<_> = [(&a, "vjosa"), (&b, "besa")]
                .into_iter()
                .map(|(hub, who)| s.spawn(move || cancel(hub, other, "typed twice", who).is_ok()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            won.iter().filter(|w| **w).count(),
            1,
            "one cancellation: {won:?}"
        );
        assert_eq!(cancelled(&a).unwrap().len(), 2);
        assert_eq!(cancelled_of(&a, "C-ISTOG-2026-000008").unwrap(), None);
    }

    #[test]
    fn cancellations_are_shared_on_sled_memory_and_postgres() {
        cancelled_through_one_hub_is_cancelled_at_every_hub(Shared::sled());
        cancelled_through_one_hub_is_cancelled_at_every_hub(Shared::memory());
        cancelled_through_one_hub_is_cancelled_at_every_hub(Shared::postgres());
    }

    #[test]
    fn the_file_of_an_earlier_version_is_imported_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = HubStore::open_temporary().unwrap();
        assert_eq!(import_file(dir.path(), &store).unwrap(), 0, "no file");
        let kept = cancel(&store, "C-ISTOG-2026-000001", "kept", "vjosa").unwrap();
        let old = vec![
            Cancelled {
                serial: "C-ISTOG-2026-000001".into(),
                reason: "older".into(),
                operator: "besa".into(),
                at_ms: 5,
            },
            Cancelled {
                serial: "C-ISTOG-2026-000002".into(),
                reason: "issued in error".into(),
                operator: "besa".into(),
                at_ms: 6,
            },
        ];
        std::fs::write(
            dir.path().join("certificates-cancelled.json"),
            serde_json::to_vec(&old).unwrap(),
        )
        .unwrap();
        assert_eq!(import_file(dir.path(), &store).unwrap(), 1);
        assert!(dir
            .path()
            .join("certificates-cancelled.json.imported")
            .exists());
        assert_eq!(
            cancelled_of(&store, "C-ISTOG-2026-000001").unwrap(),
            Some(kept),
            "the store's entry is kept"
        );
        assert_eq!(
            cancelled_of(&store, "C-ISTOG-2026-000002").unwrap(),
            Some(old[1].clone())
        );
        assert_eq!(import_file(dir.path(), &store).unwrap(), 0, "once");
        std::fs::write(dir.path().join("certificates-cancelled.json"), b"{oops").unwrap();
        let e = import_file(dir.path(), &store).unwrap_err().to_string();
        assert!(e.contains("restore it from the backup"), "{e}");
    }
}
