//! The trust list: one signed file with the agency's CA certificates, every document signer's
//! certificate and which signers are revoked. The hub writes it (`civreg-hub pki trust-list`);
//! anyone verifies certificates offline with a copy.
//!
//! The file is a tagged COSE_Sign1 (ES256) signed by the issuing CA, whose payload is a CBOR
//! map: format, time of issue, the issuing CA's certificate, the root's (when the issuing CA
//! is under an offline root), and the signers (certificate, revocation time). Opening it checks
//! the list's signature with the issuing CA, the issuing CA under the root, the root against
//! the anchor the verifier pinned (if any), and every signer certificate: signed by the issuing
//! CA, key usage digitalSignature, extended key usage documentSigning (RFC 9336) and nothing
//! for TLS, not a CA, a P-256 key.

use std::collections::HashMap;

use coset::{iana, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde::{Deserialize, Serialize};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::claims::hex_lower;
use crate::payload::{kid_of, SigningKey};
use crate::CertError;

/// Format of the trust list.
pub const TRUST_FORMAT: u8 = 1;

/// Largest trust list accepted (38 offices with a few workstations each is far below).
pub const MAX_TRUST_LIST_BYTES: usize = 4 * 1024 * 1024;

/// Most signers in one list.
pub const MAX_SIGNERS: usize = 10_000;

/// id-kp-documentSigning (RFC 9336): the only extended key usage of a signer certificate.
pub const OID_DOCUMENT_SIGNING: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 36];

/// The URI SAN prefix of a signer certificate: `civreg://signer/MUNICIPALITY/NODE` or
/// `civreg://signer/hub`.
pub const SIGNER_URI_PREFIX: &str = "civreg://signer/";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(rename = "v")]
    format: u8,
    #[serde(rename = "t")]
    issued_at: i64,
    #[serde(rename = "ca", with = "serde_bytes")]
    issuing: Vec<u8>,
    #[serde(rename = "root", default, with = "serde_bytes")]
    root: Option<Vec<u8>>,
    #[serde(rename = "s")]
    signers: Vec<Item>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    #[serde(rename = "c", with = "serde_bytes")]
    cert: Vec<u8>,
    #[serde(rename = "rv", default, skip_serializing_if = "Option::is_none")]
    revoked_at: Option<i64>,
}

/// A signer as the trust list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerEntry {
    pub kid: [u8; 8],
    /// `civreg://signer/istog/1`.
    pub identity: String,
    /// Certificate serial, lowercase hex.
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
    public_key: Vec<u8>,
}

impl SignerEntry {
    /// Checks an ES256 signature (r || s) of `msg` by this signer.
    pub fn verify_raw(&self, msg: &[u8], sig: &[u8]) -> Result<(), ring::error::Unspecified> {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.public_key).verify(msg, sig)
    }

    /// The office this signer belongs to: `istog/1`, or `hub`.
    pub fn office(&self) -> &str {
        self.identity
            .strip_prefix(SIGNER_URI_PREFIX)
            .unwrap_or(&self.identity)
    }
}

/// One signer to put into a trust list: its certificate (DER) and when it was revoked.
#[derive(Debug, Clone)]
pub struct SignerInput {
    pub cert_der: Vec<u8>,
    pub revoked_at: Option<i64>,
}

/// A trust list whose signature and certificates were checked.
#[derive(Debug, Clone)]
pub struct TrustList {
    pub issued_at: i64,
    /// SHA-256 of the root certificate (or of the issuing CA's where there is no root), hex:
    /// what a verifier compares with the agency's published fingerprint.
    pub anchor_fingerprint: String,
    signers: HashMap<[u8; 8], SignerEntry>,
}

/// Writes a trust list signed by the issuing CA (`issuing_key_pkcs8`, `issuing_der`).
pub fn build(
    issuing_key_pkcs8: &[u8],
    issuing_der: &[u8],
    root_der: Option<&[u8]>,
    signers: &[SignerInput],
    issued_at: i64,
) -> Result<Vec<u8>, CertError> {
    let key = SigningKey::new(issuing_key_pkcs8, issuing_der)?;
    let body = Body {
        format: TRUST_FORMAT,
        issued_at,
        issuing: issuing_der.to_vec(),
        root: root_der.map(<[u8]>::to_vec),
        signers: signers
            .iter()
            .map(|s| Item {
                cert: s.cert_der.clone(),
                revoked_at: s.revoked_at,
            })
            .collect(),
    };
    let mut payload = Vec::new();
    ciborium::into_writer(&body, &mut payload)
        .map_err(|e| CertError::Encode(format!("trust list: {e}")))?;
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .key_id(key.kid().to_vec())
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .try_create_signature(b"", |tbs| key.sign_raw(tbs))?
        .build();
    let bytes = sign1
        .to_tagged_vec()
        .map_err(|e| CertError::Encode(format!("trust list: {e}")))?;
    // What we write must open: every signer certificate is checked the same way here.
    TrustList::open(&bytes, None)?;
    Ok(bytes)
}

fn bad(why: impl Into<String>) -> CertError {
    CertError::Trust(why.into())
}

fn parse_cert<'a>(der: &'a [u8], what: &str) -> Result<X509Certificate<'a>, CertError> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| bad(format!("{what} is not a readable certificate ({e})")))?;
    if !rest.is_empty() {
        return Err(bad(format!("{what} has trailing bytes")));
    }
    Ok(cert)
}

fn is_ca(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca)
}

impl TrustList {
    /// Opens and checks a trust list. With `anchor` (a root or CA certificate, DER, e.g. the
    /// `ca.pem` of an office's enrolment bundle), the list must chain to it.
    pub fn open(bytes: &[u8], anchor: Option<&[u8]>) -> Result<TrustList, CertError> {
        if bytes.len() > MAX_TRUST_LIST_BYTES {
            return Err(bad(format!(
                "the file is {} bytes, more than {MAX_TRUST_LIST_BYTES}: it is not a trust list",
                bytes.len()
            )));
        }
        let sign1 = CoseSign1::from_tagged_slice(bytes).map_err(|e| {
            bad(format!(
                "not a signed trust list ({e}): get a fresh copy from the agency"
            ))
        })?;
        let payload = sign1
            .payload
            .as_deref()
            .ok_or_else(|| bad("the trust list has no content"))?;
        let body: Body = ciborium::from_reader(payload)
            .map_err(|e| bad(format!("the trust list's content does not decode ({e})")))?;
        if body.format != TRUST_FORMAT {
            return Err(bad(format!(
                "trust list format {} is not known: update civreg",
                body.format
            )));
        }
        if body.signers.len() > MAX_SIGNERS {
            return Err(bad(format!(
                "{} signers, more than {MAX_SIGNERS}",
                body.signers.len()
            )));
        }
        let issuing = parse_cert(&body.issuing, "the issuing CA")?;
        if !is_ca(&issuing) {
            return Err(bad("the issuing certificate is not a CA"));
        }
        let issuing_key = issuing.public_key().subject_public_key.data.to_vec();
        sign1
            .verify_signature(b"", |sig, tbs| {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &issuing_key).verify(tbs, sig)
            })
            .map_err(|_| bad("the trust list's signature is not valid: it was altered, or not made by the agency"))?;
        if sign1.protected.header.key_id != kid_of(&body.issuing).to_vec() {
            return Err(bad("the trust list names another signing key than its CA"));
        }
        let anchor_der: &[u8] = match &body.root {
            Some(root_der) => {
                let root = parse_cert(root_der, "the root CA")?;
                if !is_ca(&root) {
                    return Err(bad("the root certificate is not a CA"));
                }
                issuing
                    .verify_signature(Some(root.public_key()))
                    .map_err(|_| bad("the issuing CA is not signed by the root CA"))?;
                root_der
            }
            None => &body.issuing,
        };
        if let Some(anchor) = anchor {
            if anchor != anchor_der && anchor != body.issuing.as_slice() {
                return Err(bad(
                    "the trust list is not the agency's this office trusts (its CA differs from the pinned one)",
                ));
            }
        }
        let mut signers = HashMap::new();
        for (i, item) in body.signers.iter().enumerate() {
            let entry = check_signer(&item.cert, &issuing)
                .map_err(|e| bad(format!("signer {}: {e}", i + 1)))?;
            signers.insert(
                entry.kid,
                SignerEntry {
                    revoked_at: item.revoked_at,
                    ..entry
                },
            );
        }
        Ok(TrustList {
            issued_at: body.issued_at,
            anchor_fingerprint: hex_lower(
                ring::digest::digest(&ring::digest::SHA256, anchor_der).as_ref(),
            ),
            signers,
        })
    }

    /// The signer with key id `kid`.
    pub fn signer(&self, kid: &[u8; 8]) -> Option<&SignerEntry> {
        self.signers.get(kid)
    }

    /// Every signer, in no particular order.
    pub fn signers(&self) -> impl Iterator<Item = &SignerEntry> {
        self.signers.values()
    }
}

/// Checks a signer certificate (DER) against the issuing CA and reads it.
pub fn check_signer(der: &[u8], issuing: &X509Certificate<'_>) -> Result<SignerEntry, String> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("unreadable certificate ({e})"))?;
    if !rest.is_empty() {
        return Err("trailing bytes after the certificate".into());
    }
    cert.verify_signature(Some(issuing.public_key()))
        .map_err(|_| "not signed by the issuing CA".to_string())?;
    if is_ca(&cert) {
        return Err("a CA certificate can not sign documents".into());
    }
    let ku = cert
        .key_usage()
        .map_err(|e| format!("bad key usage ({e})"))?
        .ok_or("no key usage")?;
    if !ku.value.digital_signature() || ku.value.key_cert_sign() || ku.value.crl_sign() {
        return Err("key usage is not digitalSignature alone".into());
    }
    let eku = cert
        .extended_key_usage()
        .map_err(|e| format!("bad extended key usage ({e})"))?
        .ok_or("no extended key usage documentSigning")?;
    let doc_signing = eku.value.other.iter().any(|oid| {
        oid.iter()
            .is_some_and(|arcs| arcs.eq(OID_DOCUMENT_SIGNING.iter().copied()))
    });
    if !doc_signing || eku.value.server_auth || eku.value.client_auth || eku.value.any {
        return Err("extended key usage is not documentSigning alone".into());
    }
    let san = cert
        .subject_alternative_name()
        .map_err(|e| format!("bad alternative names ({e})"))?
        .ok_or("no civreg://signer/ name")?;
    let identity = san
        .value
        .general_names
        .iter()
        .find_map(|n| match n {
            GeneralName::URI(u) if u.starts_with(SIGNER_URI_PREFIX) => Some((*u).to_owned()),
            _ => None,
        })
        .ok_or("no civreg://signer/ name")?;
    let public_key = cert.public_key().subject_public_key.data.to_vec();
    if public_key.len() != 65 {
        return Err("its key is not a P-256 key".into());
    }
    Ok(SignerEntry {
        kid: kid_of(der),
        identity,
        serial: hex_lower(cert.raw_serial()),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        revoked_at: None,
        public_key,
    })
}

/// Reads the `civreg://signer/…` identity and validity of a signer certificate (DER) without
/// checking who signed it: for listings.
pub fn describe(der: &[u8]) -> Option<(String, i64, i64)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let san = cert.subject_alternative_name().ok()??;
    let identity = san.value.general_names.iter().find_map(|n| match n {
        GeneralName::URI(u) if u.starts_with(SIGNER_URI_PREFIX) => Some((*u).to_owned()),
        _ => None,
    })?;
    Some((
        identity,
        cert.validity().not_before.timestamp(),
        cert.validity().not_after.timestamp(),
    ))
}
