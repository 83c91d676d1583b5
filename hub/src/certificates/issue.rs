//! Issuing at the hub (issue 15), for central services: `civreg-hub certificate REGNO`.
//!
//! The hub signs with a document signer of its own (`civreg://signer/hub`): issued by the
//! agency's issuing CA like an office's (key usage digitalSignature, extended key usage
//! documentSigning only), listed in the trust list, revoked with `pki revoke signer/hub`. Its
//! key is kept sealed in the hub store's `aux` tree (`certsigner/hub`), so it is encrypted at
//! rest with the hub's key file like everything the store holds, and it is never written to
//! disk in clear: `civreg-hub certificate signer` issues it and installs it in one step.
//!
//! A certificate is issued from the record as the hub holds it (merged). The serial
//! (`C-HUB-YEAR-NNNNNN`) is minted from a counter in `aux`, and the issue is entered in the
//! hub's certificate register exactly as an office's report is ([`super::IssueRecord`], office
//! `hub`, who = the operator), in the same flushed write as the counter: the PDF leaves only
//! once its issue is on disk. Issues are serialised by a lock, since the running hub answers
//! control requests on several threads.

use std::sync::Mutex;

use civreg_cert::pdf::Lang;
use civreg_cert::{Claims, IssueContext, SigningKey};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};

use super::{CertsError, IssueRecord, ID_DOCUMENTS, ISSUE_PREFIX, LAST_PREFIX};
use crate::store::HubStore;

/// The office name of the hub's central services, in claims, serials and the register.
pub const HUB_OFFICE: &str = "hub";
/// [`crate::store::aux::CERT_SIGNER`] then `hub`.
const SIGNER_KEY: &[u8] = b"certsigner/hub";
/// [`crate::store::aux::CERT_SEQ`] then `hub/`.
const SEQ_PREFIX: &str = "certseq/hub/";

/// One issue at a time (the counter and the register are read, then written).
static ISSUING: Mutex<()> = Mutex::new(());

/// A private key in PEM, which `Debug` never prints (control requests are logged).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretPem(pub String);

impl std::fmt::Debug for SecretPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretPem(..)")
    }
}

#[derive(Serialize, Deserialize)]
struct StoredSigner {
    cert_pem: String,
    key_pem: String,
}

/// The hub's installed document signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerInfo {
    pub identity: String,
    /// The key id (hex) a verifier looks the signer up by.
    pub kid: String,
    pub not_before: i64,
    pub not_after: i64,
}

fn unusable(why: impl std::fmt::Display) -> CertsError {
    CertsError::Issue(format!(
        "the hub's document signer is not usable: {why}; install a new one with `civreg-hub certificate signer`"
    ))
}

/// Reads a signer certificate and key from PEM; checks they belong together and name the hub.
fn parse_signer(cert_pem: &str, key_pem: &str) -> Result<(SigningKey, SignerInfo), CertsError> {
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .map_err(|e| unusable(format!("no certificate in signer.pem ({e})")))?;
    let key = PrivatePkcs8KeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| unusable(format!("no PKCS#8 key in signer.key ({e})")))?;
    let signing = SigningKey::new(key.secret_pkcs8_der(), &cert).map_err(unusable)?;
    let (identity, not_before, not_after) = civreg_cert::trust::describe(&cert)
        .ok_or_else(|| unusable("signer.pem is not a document-signing certificate"))?;
    let expected = format!("{}{HUB_OFFICE}", civreg_cert::trust::SIGNER_URI_PREFIX);
    if identity != expected {
        return Err(unusable(format!(
            "it names {identity}, not the hub's central services ({expected})"
        )));
    }
    let info = SignerInfo {
        identity,
        kid: hex::encode(signing.kid()),
        not_before,
        not_after,
    };
    Ok((signing, info))
}

/// Installs the hub's document signer (replacing the previous one, which stays in the trust
/// list for the certificates it signed), sealed in the store.
pub fn install_signer(
    store: &HubStore,
    cert_pem: &str,
    key_pem: &str,
) -> Result<SignerInfo, CertsError> {
    let (_, info) = parse_signer(cert_pem, key_pem)?;
    let stored = serde_json::to_vec(&StoredSigner {
        cert_pem: cert_pem.to_owned(),
        key_pem: key_pem.to_owned(),
    })
    .expect("signer serialises");
    store.aux_write(&[(SIGNER_KEY.to_vec(), Some(stored))])?;
    Ok(info)
}

/// The hub's installed document signer, if any.
pub fn signer(store: &HubStore) -> Result<Option<(SigningKey, SignerInfo)>, CertsError> {
    let Some(v) = store.aux_get(SIGNER_KEY)? else {
        return Ok(None);
    };
    let stored: StoredSigner =
        serde_json::from_slice(&v).map_err(|e| unusable(format!("unreadable ({e})")))?;
    parse_signer(&stored.cert_pem, &stored.key_pem).map(Some)
}

/// What an operator asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRequest {
    pub regno: String,
    /// `sq`, `sr` or `en`.
    pub lang: String,
    /// The name the collector gave.
    pub collector: String,
    /// The kind of identity document shown (`id-card`, `passport`, ...), never its number.
    pub id_document: String,
    /// Who issues: recorded as the issuer, like a clerk at an office.
    pub operator: String,
}

/// A certificate the hub issued.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HubIssued {
    pub issue: IssueRecord,
    pub qr_text: String,
    /// The PDF, hex (it travels in the control socket's JSON).
    pub pdf_hex: String,
}

fn invalid(why: impl Into<String>) -> CertsError {
    CertsError::Issue(why.into())
}

/// Issues a certificate of record `req.regno` as the hub holds it now: mints the serial,
/// signs, renders the PDF and enters the issue in the register, in one flushed write.
pub fn issue(store: &HubStore, req: &IssueRequest, now_ms: u64) -> Result<HubIssued, CertsError> {
    let max_name = civreg_shared::limits::MAX_NAME_CHARS;
    let plain = |s: &str, max: usize| {
        !s.is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
    };
    let collector = req.collector.trim();
    if !plain(collector, max_name) {
        return Err(invalid(format!(
            "the collector's name must be given, without control characters, in at most {max_name} characters: --collector \"Given Surname\""
        )));
    }
    let operator = req.operator.trim();
    if !plain(operator, 64) {
        return Err(invalid(
            "say who issues, in at most 64 characters: --operator NAME or CIVREG_OPERATOR",
        ));
    }
    let id_document = req.id_document.trim().to_ascii_lowercase();
    if !ID_DOCUMENTS.contains(&id_document.as_str()) {
        return Err(invalid(format!(
            "unknown identity document {:?}: use id-card, passport, driving-licence, residence-permit or other (the kind only, never its number)",
            req.id_document.chars().take(40).collect::<String>()
        )));
    }
    let lang = Lang::parse(&req.lang).ok_or_else(|| {
        invalid(format!(
            "unknown language {:?}: use sq, sr or en",
            req.lang.chars().take(8).collect::<String>()
        ))
    })?;
    let regno = civreg_shared::ids::RegNo::parse(req.regno.trim())
        .map_err(|e| invalid(format!("{e}")))?
        .to_string();
    let (signing, info) = signer(store)?.ok_or_else(|| {
        invalid("the hub has no document signer: issue and install one with `civreg-hub certificate signer`, then publish a new trust list (`civreg-hub pki trust-list`)")
    })?;
    let issued_at = (now_ms / 1000) as i64;
    if issued_at < info.not_before || issued_at > info.not_after {
        return Err(invalid(format!(
            "the hub's document signer is valid from {} to {}: certificates signed now would be refused; install a new one with `civreg-hub certificate signer`",
            civreg_cert::format_time(info.not_before),
            civreg_cert::format_time(info.not_after)
        )));
    }
    let state = store
        .record(&regno)?
        .ok_or_else(|| invalid(format!("the hub holds no record {regno}: check the number, or wait until its office has synced")))?;
    let year = chrono::DateTime::from_timestamp(issued_at, 0)
        .map(|d| chrono::Datelike::year(&d))
        .ok_or_else(|| invalid("the hub's clock is out of range"))?;

    let _one = ISSUING.lock().unwrap_or_else(|p| p.into_inner());
    let seq_key = format!("{SEQ_PREFIX}{year:04}").into_bytes();
    // The serial is minted by compare-and-set on the year's counter: another hub issuing at
    // the same time takes the next serial, and this one signs again under a fresh one.
    for _ in 0..HubStore::DECIDE_ATTEMPTS {
        let mut reads = crate::store::AuxReads::default();
        let seq = match store.aux_get_noting(&seq_key, &mut reads)? {
            None => 0,
            Some(v) => u64::from_be_bytes(v.as_slice().try_into().map_err(|_| {
                invalid(
                "the hub's certificate counter is damaged: restore the database from its backup",
            )
            })?),
        } + 1;
        let serial = civreg_cert::mint_serial(HUB_OFFICE, year, seq);
        let claims = Claims::from_state(
            &state,
            &IssueContext {
                serial: serial.clone(),
                office: HUB_OFFICE.to_owned(),
                issued_at,
            },
        )?;
        let qr_text = civreg_cert::sign(&claims, &signing)?;
        let pdf = civreg_cert::pdf::render(&claims, &qr_text, lang)?;
        let record = IssueRecord {
            serial: serial.clone(),
            office: HUB_OFFICE.to_owned(),
            regno: regno.clone(),
            record_version: claims.record_version,
            record_head: claims.record_head.clone(),
            clerk: operator.to_owned(),
            at_ms: now_ms,
            collector: collector.to_owned(),
            id_document: id_document.clone(),
            lang: lang.code().to_owned(),
            signer_kid: info.kid.clone(),
            received_ms: now_ms,
        };
        // `aux_write_if` flushes before it returns: the PDF leaves only once its issue is on disk.
        let written = store.aux_write_if(
            &reads,
            &[
                (seq_key.clone(), Some(seq.to_be_bytes().to_vec())),
                (
                    format!("{ISSUE_PREFIX}{serial}").into_bytes(),
                    Some(serde_json::to_vec(&record).expect("issue record serialises")),
                ),
                (
                    format!("{LAST_PREFIX}{HUB_OFFICE}").into_bytes(),
                    Some(serial.into_bytes()),
                ),
            ],
        )?;
        if written {
            return Ok(HubIssued {
                issue: record,
                qr_text,
                pdf_hex: hex::encode(pdf),
            });
        }
    }
    Err(HubStore::contended().into())
}
