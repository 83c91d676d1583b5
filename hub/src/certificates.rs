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
//! Cancellations live in `DATA_DIR/certificates-cancelled.json` (written atomically); each is
//! also appended to `operator-actions.log`.

use std::path::{Path, PathBuf};

use civreg_cert::{Claims, IssueContext, Refusal, TrustList, Verified};
use serde::{Deserialize, Serialize};

use crate::pki::Pki;
use crate::store::HubStore;

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

/// Every cancellation, oldest first.
pub fn cancelled(data_dir: &Path) -> Result<Vec<Cancelled>, CertsError> {
    let path = cancelled_path(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| CertsError::File {
            path,
            why: format!("not a valid list of cancellations ({e}); restore it from the backup"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(CertsError::File {
            path,
            why: e.to_string(),
        }),
    }
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

/// Cancels certificate `serial` (issued in error): every later verification at the hub refuses
/// it. Effective at the next verification; a running hub reads the file on every check.
pub fn cancel(
    data_dir: &Path,
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
    let mut all = cancelled(data_dir)?;
    if all.iter().any(|c| c.serial == serial) {
        return Err(CertsError::AlreadyCancelled(serial.to_owned()));
    }
    let entry = Cancelled {
        serial: serial.to_owned(),
        reason: civreg_shared::redact::for_log(reason, MAX_REASON_CHARS),
        operator: operator.to_owned(),
        at_ms: crate::access::now_ms(),
    };
    all.push(entry.clone());
    let path = cancelled_path(data_dir);
    let json = serde_json::to_vec_pretty(&all).expect("cancellations serialise");
    let tmp = path.with_extension("json.tmp");
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    };
    write().map_err(|e| CertsError::File {
        path: path.clone(),
        why: e.to_string(),
    })?;
    Ok(entry)
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
}

/// The hub's current trust list, as `pki trust-list` would write it now.
pub fn current_trust_list(pki: &Pki) -> Result<TrustList, CertsError> {
    Ok(TrustList::open(&pki.trust_list()?, None)?)
}

/// Verifies `text` against `trust`, the cancellations in `data_dir` and the records of `store`.
pub fn check(
    text: &str,
    trust: &TrustList,
    data_dir: &Path,
    store: &HubStore,
) -> Result<Answer, CertsError> {
    let verified = match civreg_cert::verify(text, trust) {
        Ok(v) => v,
        Err(refusal) => {
            return Ok(Answer {
                result: Err(refusal),
                claims: None,
                record_held: false,
            })
        }
    };
    let claims = verified.claims.clone();
    let refuse = |r: Refusal, held: bool| Answer {
        result: Err(r),
        claims: Some(claims.clone()),
        record_held: held,
    };
    if let Some(c) = cancelled(data_dir)?
        .into_iter()
        .find(|c| c.serial == claims.serial)
    {
        return Ok(refuse(
            Refusal::Cancelled {
                at: civreg_cert::format_time((c.at_ms / 1000) as i64),
                reason: c.reason,
            },
            false,
        ));
    }
    let Some(state) = store.record(&claims.regno)? else {
        return Ok(Answer {
            result: Ok(verified),
            claims: Some(claims),
            record_held: false,
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
    })
}
