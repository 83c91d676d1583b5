//! Citizens' certificates issued at the office (issue 15): the office's document signer, kept
//! sealed in `meta` like everything else, and every certificate issued, kept sealed in the
//! `certs` tree (serial → [`CertIssue`]: who, when, which record and version, for whom).
//!
//! Issuing works offline. The serial is minted from a counter in `meta` in the same atomic
//! write that records the issue; the certificate is signed and its PDF rendered inside that
//! write, so a failure records nothing and a recorded issue always had its document.

use civreg_cert::pdf::Lang;
use civreg_cert::{Claims, IssueContext, SigningKey};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};

use super::{Clerk, Node, NodeError};
use crate::store::Tree;

const SIGNER_KEY: &[u8] = b"signer";
/// The last serial the hub acknowledged of this office's certificates (meta).
const REPORTED_KEY: &[u8] = b"certs_reported";

/// The kind of identity document the collector showed. Only the kind is kept, never a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdDocument {
    IdCard,
    Passport,
    DrivingLicence,
    ResidencePermit,
    Other,
}

impl IdDocument {
    /// The kind as written in issue records and forms (`id-card`, ...): what `parse` reads.
    pub fn as_str(self) -> &'static str {
        match self {
            IdDocument::IdCard => "id-card",
            IdDocument::Passport => "passport",
            IdDocument::DrivingLicence => "driving-licence",
            IdDocument::ResidencePermit => "residence-permit",
            IdDocument::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<IdDocument, NodeError> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "id-card" | "id" => Ok(IdDocument::IdCard),
            "passport" => Ok(IdDocument::Passport),
            "driving-licence" | "driving-license" => Ok(IdDocument::DrivingLicence),
            "residence-permit" => Ok(IdDocument::ResidencePermit),
            "other" => Ok(IdDocument::Other),
            _ => Err(NodeError::Certificate(format!(
                "unknown identity document {s:?}: use id-card, passport, driving-licence, residence-permit or other (the kind only, never its number)"
            ))),
        }
    }
}

/// One certificate issued at this office, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertIssue {
    pub serial: String,
    pub regno: String,
    /// The record's version (number of ops) and the digest of its heads when issued.
    pub record_version: u32,
    pub record_head: String,
    pub clerk: String,
    pub at_ms: u64,
    /// Who collected it: the name they gave.
    pub collector: String,
    pub id_document: IdDocument,
    pub lang: String,
    /// The signer's key id (hex).
    pub signer_kid: String,
}

/// A certificate just issued: its record, QR text and PDF.
#[derive(Debug, Clone)]
pub struct IssuedCertificate {
    pub issue: CertIssue,
    pub claims: Claims,
    pub qr_text: String,
    pub pdf: Vec<u8>,
}

/// The installed document signer, for `status`-like listings.
#[derive(Debug, Clone, Serialize)]
pub struct SignerInfo {
    pub identity: String,
    pub kid: String,
    pub not_before: i64,
    pub not_after: i64,
}

#[derive(Serialize, Deserialize)]
struct StoredSigner {
    cert_pem: String,
    key_pem: String,
}

fn bad_signer(why: impl std::fmt::Display) -> NodeError {
    NodeError::Certificate(format!(
        "the document signer is not usable: {why}; install the one the agency issued for this office (`civreg-node signer install DIR`)"
    ))
}

/// Reads a signer certificate and key from PEM, checks they belong together and to `office`.
fn parse_signer(
    cert_pem: &str,
    key_pem: &str,
    office: &str,
) -> Result<(SigningKey, SignerInfo), NodeError> {
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .map_err(|e| bad_signer(format!("no certificate in signer.pem ({e})")))?;
    let key = PrivatePkcs8KeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| bad_signer(format!("no PKCS#8 key in signer.key ({e})")))?;
    let signing = SigningKey::new(key.secret_pkcs8_der(), &cert)?;
    let (identity, not_before, not_after) = civreg_cert::trust::describe(&cert)
        .ok_or_else(|| bad_signer("signer.pem is not a document-signing certificate"))?;
    let expected = format!("{}{office}", civreg_cert::trust::SIGNER_URI_PREFIX);
    if identity != expected {
        return Err(bad_signer(format!(
            "it names {identity}, but this office is {expected}"
        )));
    }
    let info = SignerInfo {
        identity,
        kid: signing.kid().iter().map(|b| format!("{b:02x}")).collect(),
        not_before,
        not_after,
    };
    Ok((signing, info))
}

impl Node {
    fn office(&self) -> String {
        format!("{}/{}", self.identity.municipality, self.identity.node_id)
    }

    /// Installs this office's document signer (`signer.pem`, `signer.key` from the agency),
    /// sealed in the database; replaces the previous one.
    pub fn install_signer(&self, cert_pem: &str, key_pem: &str) -> Result<SignerInfo, NodeError> {
        let (_, info) = parse_signer(cert_pem, key_pem, &self.office())?;
        let plain = serde_json::to_vec(&StoredSigner {
            cert_pem: cert_pem.to_owned(),
            key_pem: key_pem.to_owned(),
        })
        .expect("signer serialises");
        self.write(|tx| {
            let sealed = tx.node.crypto.seal(Tree::Meta.name(), SIGNER_KEY, &plain);
            tx.batch().put(Tree::Meta, SIGNER_KEY.to_vec(), sealed);
            Ok(())
        })?;
        Ok(info)
    }

    /// The installed document signer, if any.
    pub fn signer(&self) -> Result<Option<(SigningKey, SignerInfo)>, NodeError> {
        let Some(sealed) = self.store.get(Tree::Meta, SIGNER_KEY)? else {
            return Ok(None);
        };
        let plain = self
            .crypto
            .open(Tree::Meta.name(), SIGNER_KEY, &sealed)
            .map_err(|e| NodeError::Corrupt(format!("document signer: {e}")))?;
        let stored: StoredSigner = serde_json::from_slice(&plain)
            .map_err(|e| NodeError::Corrupt(format!("document signer: {e}")))?;
        parse_signer(&stored.cert_pem, &stored.key_pem, &self.office()).map(Some)
    }

    /// Issues a certificate of record `regno` as it is now: mints the serial, signs, renders the
    /// PDF and records the issue, in one write.
    pub fn issue_certificate(
        &self,
        clerk: &Clerk,
        regno: &str,
        lang: Lang,
        collector: &str,
        id_document: IdDocument,
    ) -> Result<IssuedCertificate, NodeError> {
        let collector = collector.trim();
        if collector.is_empty()
            || collector.chars().count() > civreg_shared::limits::MAX_NAME_CHARS
            || collector.chars().any(char::is_control)
        {
            return Err(NodeError::Certificate(format!(
                "the collector's name must be given, without control characters, in at most {} characters: --collector \"Given Surname\"",
                civreg_shared::limits::MAX_NAME_CHARS
            )));
        }
        let (signing, info) = self.signer()?.ok_or_else(|| {
            NodeError::Certificate(format!(
                "this office has no document signer: ask the agency for one (`civreg-hub pki issue-signer {}`) and install it with `civreg-node signer install DIR`",
                self.office()
            ))
        })?;
        let state = self.get(regno)?;
        let at_ms = (self.clock)();
        let issued_at = (at_ms / 1000) as i64;
        if issued_at < info.not_before || issued_at > info.not_after {
            return Err(NodeError::Certificate(format!(
                "this office's document signer is valid from {} to {}: certificates signed now would be refused; ask the agency for a new signer",
                civreg_cert::format_time(info.not_before),
                civreg_cert::format_time(info.not_after)
            )));
        }
        let year = chrono::DateTime::from_timestamp(issued_at, 0)
            .map(|d| chrono::Datelike::year(&d))
            .unwrap_or(0);
        let counter_key = format!("cert_seq/{year:04}").into_bytes();
        self.write(|tx| {
            let seq = tx.node.meta_u64(&counter_key)? + 1;
            let serial = civreg_cert::mint_serial(&tx.node.office(), year, seq);
            let claims = Claims::from_state(
                &state,
                &IssueContext {
                    serial: serial.clone(),
                    office: tx.node.office(),
                    issued_at,
                },
            )?;
            let qr_text = civreg_cert::sign(&claims, &signing)?;
            let pdf = civreg_cert::pdf::render(&claims, &qr_text, lang)?;
            let issue = CertIssue {
                serial: serial.clone(),
                regno: state.regno.clone(),
                record_version: claims.record_version,
                record_head: claims.record_head.clone(),
                clerk: clerk.name().to_owned(),
                at_ms,
                collector: collector.to_owned(),
                id_document,
                lang: lang.code().to_owned(),
                signer_kid: info.kid.clone(),
            };
            let plain = serde_json::to_vec(&issue).expect("issue serialises");
            let sealed = tx
                .node
                .crypto
                .seal(Tree::Certs.name(), serial.as_bytes(), &plain);
            tx.batch().put(Tree::Certs, serial.into_bytes(), sealed);
            tx.batch()
                .put(Tree::Meta, counter_key.clone(), seq.to_be_bytes().to_vec());
            Ok(IssuedCertificate {
                issue,
                claims,
                qr_text,
                pdf,
            })
        })
    }

    /// Certificates issued here that the hub has not acknowledged yet, in serial order (which
    /// is the order of issue: serials are zero-padded per year), at most `max`.
    pub fn certificates_unreported(&self, max: usize) -> Result<Vec<CertIssue>, NodeError> {
        let through = self
            .store
            .get(Tree::Meta, REPORTED_KEY)?
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default();
        // Keys are serials: skip the reported ones before opening anything.
        self.store
            .scan(Tree::Certs)
            .filter(|r| {
                r.as_ref()
                    .map_or(true, |(k, _)| k.as_slice() > through.as_bytes())
            })
            .take(max)
            .map(|r| {
                let (k, v) = r?;
                self.open_issue(&k, &v)
            })
            .collect()
    }

    /// Records that the hub holds this office's certificates up to serial `through`.
    pub fn set_certificates_reported(&self, through: &str) -> Result<(), NodeError> {
        let through = through.to_string();
        self.write(|tx| {
            tx.batch().put(
                Tree::Meta,
                REPORTED_KEY.to_vec(),
                through.clone().into_bytes(),
            );
            Ok(())
        })
    }

    /// Every certificate issued at this office, in serial order.
    pub fn certificates(&self) -> Result<Vec<CertIssue>, NodeError> {
        self.store
            .scan(Tree::Certs)
            .map(|r| {
                let (k, v) = r?;
                self.open_issue(&k, &v)
            })
            .collect()
    }

    /// One sealed entry of the `certs` tree.
    fn open_issue(&self, key: &[u8], sealed: &[u8]) -> Result<CertIssue, NodeError> {
        let plain = self
            .crypto
            .open(Tree::Certs.name(), key, sealed)
            .map_err(|e| NodeError::Corrupt(format!("certificate record: {e}")))?;
        serde_json::from_slice(&plain)
            .map_err(|e| NodeError::Corrupt(format!("certificate record: {e}")))
    }
}
