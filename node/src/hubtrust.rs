//! What the office trusts the hub by, and what it knows of the hub's certificates (issue 17
//! part B, CA rollover and the hub's next certificate).
//!
//! Every heartbeat tells the hub which roots this node trusts (`tls/ca.pem`, by SHA-256), and
//! its reply carries the roots the node is to trust (`trust_pem`): during a CA rollover the old
//! root and the new one, afterwards the new one alone. The node replaces `ca.pem` with them when
//! they differ, under three rules that keep a bad reply from locking the office out: at most
//! [`MAX_ROOTS`] certificates in at most [`MAX_TRUST_BYTES`], each a CA certificate, and the new
//! set keeps at least one root of the current set (a rollover adds the new root first and drops
//! the old one later, never both at once). The reply came over a connection the current roots
//! verified.
//!
//! The hub's certificate and its staged successor (expiry, SHA-256) are kept in
//! `tls/hub.json` ([`HubCerts`]) for `civreg-node status`.

use crate::sync::tls_dir;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The most roots a trust set may hold.
pub const MAX_ROOTS: usize = 8;
/// The largest trust set the node accepts, in bytes of PEM.
pub const MAX_TRUST_BYTES: usize = 64 * 1024;

const HUB_FILE: &str = "hub.json";

/// The hub's certificates as the last heartbeat told of them (`tls/hub.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubCerts {
    /// The certificate the hub presents: expiry (Unix ms) and SHA-256 (hex).
    pub current_not_after_ms: u64,
    pub current_sha256: String,
    /// Its staged successor, announced before it is presented; `None` when none is staged.
    pub next_not_after_ms: Option<u64>,
    pub next_sha256: Option<String>,
    /// SHA-256 (hex) of each root this node trusts the hub by (`tls/ca.pem`).
    pub trusted_roots: Vec<String>,
}

/// Why a trust set from the hub was not taken.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrustRefused {
    #[error("it is {0} bytes, more than {MAX_TRUST_BYTES}")]
    TooLarge(usize),
    #[error("it holds {0} certificates; 1 to {MAX_ROOTS} are accepted")]
    Count(usize),
    #[error("a certificate in it is unreadable or not a CA certificate")]
    NotCa,
    #[error("it keeps none of the roots this node trusts now")]
    Disjoint,
}

/// SHA-256 (hex) of each certificate in `pem`.
pub fn fingerprints(pem: &[u8]) -> Vec<String> {
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .map(|der| hex::encode(ring::digest::digest(&ring::digest::SHA256, &der)))
        .collect()
}

/// The roots this node trusts the hub by, by SHA-256 (empty when it is not enrolled).
pub fn trusted(data_dir: &Path) -> Vec<String> {
    std::fs::read(tls_dir(data_dir).join("ca.pem"))
        .map(|pem| fingerprints(&pem))
        .unwrap_or_default()
}

/// Checks a trust set from the hub against the roots trusted now (`current`, SHA-256 each);
/// returns its fingerprints.
pub fn check(pem: &[u8], current: &[String]) -> Result<Vec<String>, TrustRefused> {
    if pem.len() > MAX_TRUST_BYTES {
        return Err(TrustRefused::TooLarge(pem.len()));
    }
    let ders: Vec<CertificateDer<'_>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|_| TrustRefused::NotCa)?;
    if ders.is_empty() || ders.len() > MAX_ROOTS {
        return Err(TrustRefused::Count(ders.len()));
    }
    for der in &ders {
        let (_, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|_| TrustRefused::NotCa)?;
        let ca = cert
            .basic_constraints()
            .ok()
            .flatten()
            .is_some_and(|b| b.value.ca);
        if !ca {
            return Err(TrustRefused::NotCa);
        }
    }
    let new: Vec<String> = ders
        .iter()
        .map(|der| hex::encode(ring::digest::digest(&ring::digest::SHA256, der)))
        .collect();
    if !current.is_empty() && !new.iter().any(|f| current.contains(f)) {
        return Err(TrustRefused::Disjoint);
    }
    Ok(new)
}

/// What a heartbeat reply said of the hub's certificates and trust.
#[derive(Debug, Clone, Default)]
pub struct FromHub<'a> {
    pub trust_pem: &'a str,
    pub current_not_after_ms: u64,
    pub current_sha256: &'a str,
    pub next_not_after_ms: u64,
    pub next_sha256: &'a str,
}

/// Takes in what a heartbeat reply said: replaces `tls/ca.pem` when the hub's trust set
/// differs and passes [`check`], and keeps `tls/hub.json` up to date. Returns whether `ca.pem`
/// changed. Files are written only when their content changes.
pub fn apply(data_dir: &Path, hub: &FromHub<'_>) -> std::io::Result<bool> {
    let dir = tls_dir(data_dir);
    let mut roots = trusted(data_dir);
    let mut changed = false;
    if !hub.trust_pem.is_empty() {
        match check(hub.trust_pem.as_bytes(), &roots) {
            Ok(new) => {
                let same = new.len() == roots.len() && new.iter().all(|f| roots.contains(f));
                if !same {
                    crate::renew::write_synced(
                        &dir.join("ca.pem"),
                        hub.trust_pem.as_bytes(),
                        false,
                    )?;
                    tracing::info!(before = ?roots, after = ?new, "the hub's trusted roots changed (CA rollover): ca.pem replaced; the next connection uses it");
                    roots = new;
                    changed = true;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the hub sent a set of roots to trust that is not taken; ca.pem is kept")
            }
        }
    }
    let certs = HubCerts {
        current_not_after_ms: hub.current_not_after_ms,
        current_sha256: hub.current_sha256.to_owned(),
        next_not_after_ms: (!hub.next_sha256.is_empty()).then_some(hub.next_not_after_ms),
        next_sha256: (!hub.next_sha256.is_empty()).then(|| hub.next_sha256.to_owned()),
        trusted_roots: roots,
    };
    if read(data_dir).as_ref() != Some(&certs) {
        if certs.next_sha256.is_some()
            && read(data_dir).and_then(|c| c.next_sha256) != certs.next_sha256
        {
            tracing::info!(sha256 = ?certs.next_sha256, not_after_ms = ?certs.next_not_after_ms, "the hub announced its next certificate");
        }
        let json = serde_json::to_vec_pretty(&certs).map_err(std::io::Error::other)?;
        crate::renew::write_synced(&dir.join(HUB_FILE), &json, false)?;
    }
    Ok(changed)
}

/// What the last heartbeat said of the hub's certificates, if any.
pub fn read(data_dir: &Path) -> Option<HubCerts> {
    let bytes = std::fs::read(tls_dir(data_dir).join(HUB_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

    fn ca() -> String {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let mut p = CertificateParams::default();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.self_signed(&key).expect("cert").pem()
    }

    fn leaf() -> String {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        CertificateParams::new(vec!["x".into()])
            .expect("params")
            .self_signed(&key)
            .expect("cert")
            .pem()
    }

    #[test]
    fn a_trust_set_must_keep_a_current_root_and_hold_only_cas() {
        let (old, new, other) = (ca(), ca(), ca());
        let cur = fingerprints(old.as_bytes());
        let both = format!("{old}{new}");
        assert_eq!(check(both.as_bytes(), &cur).expect("adds a root").len(), 2);
        // After the rollover: the new root alone, from a node that trusts both.
        let both_fp = fingerprints(both.as_bytes());
        assert_eq!(
            check(new.as_bytes(), &both_fp)
                .expect("drops the old")
                .len(),
            1
        );
        // Never a wholesale replacement, never a leaf, never nothing.
        assert_eq!(check(other.as_bytes(), &cur), Err(TrustRefused::Disjoint));
        assert_eq!(
            check(format!("{old}{}", leaf()).as_bytes(), &cur),
            Err(TrustRefused::NotCa)
        );
        assert_eq!(check(b"", &cur), Err(TrustRefused::Count(0)));
        assert!(matches!(
            check(&vec![b'a'; MAX_TRUST_BYTES + 1], &cur),
            Err(TrustRefused::TooLarge(_))
        ));
        let many = vec![old.clone(); MAX_ROOTS + 1].concat();
        assert_eq!(
            check(many.as_bytes(), &cur),
            Err(TrustRefused::Count(MAX_ROOTS + 1))
        );
    }

    #[test]
    fn apply_replaces_ca_pem_and_records_the_next_hub_certificate() {
        let d = tempfile::tempdir().expect("dir");
        let tls = tls_dir(d.path());
        std::fs::create_dir_all(&tls).expect("tls dir");
        let (old, new) = (ca(), ca());
        std::fs::write(tls.join("ca.pem"), &old).expect("ca");
        let both = format!("{old}{new}");
        let hub = FromHub {
            trust_pem: &both,
            current_not_after_ms: 1_000,
            current_sha256: "aa",
            next_not_after_ms: 2_000,
            next_sha256: "bb",
        };
        assert!(apply(d.path(), &hub).expect("apply"));
        assert_eq!(
            std::fs::read_to_string(tls.join("ca.pem")).expect("ca"),
            both
        );
        let certs = read(d.path()).expect("hub.json");
        assert_eq!(certs.next_sha256.as_deref(), Some("bb"));
        assert_eq!(certs.trusted_roots.len(), 2);
        // The same again changes nothing; a disjoint set is not taken.
        assert!(!apply(d.path(), &hub).expect("apply"));
        let other = ca();
        let bad = FromHub {
            trust_pem: &other,
            ..hub.clone()
        };
        assert!(!apply(d.path(), &bad).expect("apply"));
        assert_eq!(
            std::fs::read_to_string(tls.join("ca.pem")).expect("ca"),
            both
        );
    }
}
