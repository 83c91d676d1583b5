//! Document signers (issue 15): the key and certificate an office (or the hub's central
//! services) signs citizens' certificates with, and the trust list that publishes them.
//!
//! A signer certificate names `civreg://signer/MUNICIPALITY/NODE` (or `civreg://signer/hub`),
//! has key usage digitalSignature and the single extended key usage documentSigning (RFC 9336):
//! no TLS usage, so the handshake refuses it, and [`super::Admission`] never admits its serial
//! either. It is recorded in `issued.json` (kind `signer`) like every certificate, revoked with
//! `pki revoke signer/MUNICIPALITY/NODE` or its serial, and kept in `signers/SERIAL.pem` so that
//! the trust list can carry it.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
    SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;

use super::{
    common_name, fresh_serial, io, window_from_days, write_atomic, CertKind, CertStatus, Issued,
    IssuedEntry, Lock, PeerIdentity, Pki, PkiError, CA_KEY, ISSUING_KEY, URI_PREFIX,
};

/// Directory of the PKI that keeps every signer certificate issued (`SERIAL.pem`).
pub const SIGNERS_DIR: &str = "signers";

/// The office a signer certificate names, in its URI: `civreg://signer/istog/1`, or
/// `civreg://signer/hub` for the hub's central services.
pub fn signer_uri(office: Option<(&str, &str)>) -> String {
    match office {
        Some((m, n)) => format!("{URI_PREFIX}signer/{m}/{n}"),
        None => format!("{URI_PREFIX}signer/hub"),
    }
}

impl Pki {
    /// Issues a document-signing certificate for an enrolled node (`Some((municipality,
    /// node_id))`) or for the hub (`None`), valid for `validity_days` (1 to 825).
    pub fn issue_signer(
        &self,
        office: Option<(&str, &str)>,
        validity_days: u32,
    ) -> Result<Issued, PkiError> {
        if let Some((m, n)) = office {
            // The same checks as a node's own certificate.
            PeerIdentity::node(m, n)?;
        }
        let (not_before, not_after) = window_from_days(validity_days)?;
        let uri = signer_uri(office);
        let _lock = Lock::acquire(&self.dir)?;
        let issuer = self.load_issuer()?;
        let mut registry = self.load_registry()?;
        let serial = fresh_serial(&registry)?;
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = common_name(&format!(
            "signer {}",
            uri.trim_start_matches(&format!("{URI_PREFIX}signer/"))
        ));
        params.subject_alt_names = vec![SanType::URI(uri.as_str().try_into()?)];
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.not_before = not_before;
        params.not_after = not_after;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(
            civreg_cert::trust::OID_DOCUMENT_SIGNING.to_vec(),
        )];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &issuer)?;
        let entry = IssuedEntry {
            serial: hex::encode(serial),
            identity: uri,
            kind: CertKind::Signer,
            not_before,
            not_after,
            status: CertStatus::Active,
            revoked_at: None,
        };
        let dir = self.dir.join(SIGNERS_DIR);
        fs::create_dir_all(&dir).map_err(io("create directory", &dir))?;
        write_atomic(
            &dir.join(format!("{}.pem", entry.serial)),
            cert.pem().as_bytes(),
            false,
        )?;
        registry.certificates.push(entry.clone());
        self.save_registry(&registry)?;
        Ok(Issued {
            entry,
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// The trust list (`civreg_cert::trust`): the issuing CA, the root (when the issuing CA is
    /// under an offline root), every signer certificate issued and when each was revoked,
    /// signed by the issuing CA.
    pub fn trust_list(&self) -> Result<Vec<u8>, PkiError> {
        let issuing_pem = self.issuing_pem()?;
        let issuing_path = if self.has_issuing_ca() {
            self.issuing_cert_path()
        } else {
            self.ca_cert_path()
        };
        let der = |pem: &str, path: &Path| {
            CertificateDer::from_pem_slice(pem.as_bytes())
                .map(|d| d.to_vec())
                .map_err(|e| PkiError::Corrupt {
                    path: path.to_owned(),
                    reason: format!("no certificate in it ({e})"),
                })
        };
        let issuing_der = der(&issuing_pem, &issuing_path)?;
        let root_der = if self.has_issuing_ca() {
            Some(der(&self.ca_pem, &self.ca_cert_path())?)
        } else {
            None
        };
        let key_path = [ISSUING_KEY, CA_KEY]
            .iter()
            .map(|k| self.dir.join(k))
            .find(|p| p.exists())
            .ok_or_else(|| PkiError::NoIssuingKey {
                dir: self.dir.clone(),
            })?;
        let key_pem = fs::read_to_string(&key_path).map_err(io("read", &key_path))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| PkiError::Corrupt {
            path: key_path.clone(),
            reason: format!("not a usable private key ({e})"),
        })?;
        let mut signers = Vec::new();
        for e in self.load_registry()?.certificates {
            if e.kind != CertKind::Signer {
                continue;
            }
            let path = self.signer_cert_path(&e.serial);
            let pem = fs::read_to_string(&path).map_err(io("read", &path))?;
            signers.push(civreg_cert::SignerInput {
                cert_der: der(&pem, &path)?,
                revoked_at: match e.status {
                    CertStatus::Revoked => Some(
                        e.revoked_at
                            .map(OffsetDateTime::unix_timestamp)
                            .unwrap_or(e.not_before.unix_timestamp()),
                    ),
                    CertStatus::Active => None,
                },
            });
        }
        civreg_cert::trust::build(
            &key.serialize_der(),
            &issuing_der,
            root_der.as_deref(),
            &signers,
            OffsetDateTime::now_utc().unix_timestamp(),
        )
        .map_err(|e| PkiError::Ceremony(format!("the trust list could not be made: {e}")))
    }

    /// Where the certificate of signer `serial` is kept.
    pub fn signer_cert_path(&self, serial: &str) -> PathBuf {
        self.dir.join(SIGNERS_DIR).join(format!("{serial}.pem"))
    }
}

impl Issued {
    /// Writes a signer's `signer.pem` and `signer.key` (mode 0600) into `out` (created if
    /// missing; an enrolment bundle, or a directory of its own for `pki issue-signer`).
    /// Refuses to overwrite.
    pub fn write_signer(&self, out: &Path) -> Result<(), PkiError> {
        fs::create_dir_all(out).map_err(io("create directory", out))?;
        for name in ["signer.pem", "signer.key"] {
            let path = out.join(name);
            if path.exists() {
                return Err(PkiError::BundleExists(path));
            }
        }
        write_atomic(&out.join("signer.key"), self.key_pem.as_bytes(), true)?;
        write_atomic(&out.join("signer.pem"), self.cert_pem.as_bytes(), false)?;
        Ok(())
    }
}
