//! The agency's root CA, kept offline.
//!
//! The root signs one thing: the hub's issuing CA (`issuing.pem`), when the hub is set up and
//! each time that certificate is renewed. Its key never goes into the hub's data directory.
//! The issuing CA stays on the hub, so that `civreg-hub pki issue` (enrolment of an office,
//! a day-to-day task) and `pki revoke` (which re-signs the CRL at once, at any hour) work
//! without the offline machine; its power is bounded by the hub's registry (a certificate it
//! signs outside `pki issue` is refused, see `admission`) and by the root, which can certify a
//! new issuing key if the hub is lost. The CRL of node and operator certificates is signed by
//! the issuing CA, the issuer of those certificates.
//!
//! Layout of the offline directory: `root.pem` (the root certificate, ECDSA P-256, CA:true,
//! pathlen 1, ten years; it is the `ca.pem` every office trusts) and `root.key` (mode 0600).

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PublicKeyData, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use super::{
    common_name, io, load_ca_issuer, now_seconds, random_serial, set_private_dir, write_atomic,
    Lock, Pki, PkiError, BACKDATE, CA_CERT, CA_COMMON_NAME, CA_KEY, CA_VALIDITY_DAYS, ISSUING_CERT,
    ISSUING_KEY,
};

/// The root certificate in the offline directory.
pub const ROOT_CERT: &str = "root.pem";
/// The root private key in the offline directory.
pub const ROOT_KEY: &str = "root.key";
/// Common name of the issuing CA on the hub.
pub const ISSUING_COMMON_NAME: &str = "civreg agency issuing CA";
/// Validity of an issuing CA certificate, in days (five years; renew with
/// `civreg-hub pki root sign-issuer`).
pub const ISSUING_VALIDITY_DAYS: i64 = 1826;

/// The root CA: its certificate, and its key when at hand.
pub struct RootCa {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl RootCa {
    /// Creates a root CA in `dir` (`root.pem`, `root.key`). Refuses if one is there.
    pub fn init(dir: &Path) -> Result<RootCa, PkiError> {
        fs::create_dir_all(dir).map_err(io("create directory", dir))?;
        set_private_dir(dir)?;
        let _lock = Lock::acquire(dir)?;
        for f in [ROOT_CERT, ROOT_KEY] {
            if dir.join(f).exists() {
                return Err(PkiError::RootExists { path: dir.join(f) });
            }
        }
        // A name of its own (date and serial), so that during a CA rollover the old and the new
        // root, both trusted by the offices, are told apart by name.
        let root = Self::make(None)?;
        write_atomic(
            &dir.join(ROOT_KEY),
            root.issuer.key().serialize_pem().as_bytes(),
            true,
        )?;
        write_atomic(&dir.join(ROOT_CERT), root.pem.as_bytes(), false)?;
        Ok(root)
    }

    /// A new root CA held only in memory: the key is gone when this is dropped.
    pub fn ephemeral() -> Result<RootCa, PkiError> {
        Self::make(Some(CA_COMMON_NAME))
    }

    /// A new root named `cn`, or by default [`CA_COMMON_NAME`] with its date and the start of
    /// its serial.
    fn make(cn: Option<&str>) -> Result<RootCa, PkiError> {
        let now = now_seconds();
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let serial = random_serial()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = common_name(&match cn {
            Some(cn) => cn.to_owned(),
            None => dated_name(CA_COMMON_NAME, now, &serial),
        });
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.not_before = now - BACKDATE;
        params.not_after = now + Duration::days(CA_VALIDITY_DAYS);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.key_identifier_method = KeyIdMethod::Sha256;
        let pem = params.self_signed(&key)?.pem();
        Ok(RootCa {
            pem,
            issuer: Issuer::new(params, key),
        })
    }

    /// Opens the root CA of `dir`, key included.
    pub fn open(dir: &Path) -> Result<RootCa, PkiError> {
        let cert = dir.join(ROOT_CERT);
        let key = dir.join(ROOT_KEY);
        if !cert.exists() || !key.exists() {
            return Err(PkiError::NoRoot {
                path: dir.to_owned(),
            });
        }
        let pem = fs::read_to_string(&cert).map_err(io("read", &cert))?;
        let issuer = load_ca_issuer(&pem, &cert, &key)?;
        Ok(RootCa { pem, issuer })
    }

    /// The root certificate, PEM (what offices trust as `ca.pem`).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// Certifies `key` as the issuing CA (pathlen 0) named `cn` for [`ISSUING_VALIDITY_DAYS`].
    pub fn certify_issuing(
        &self,
        key: &impl PublicKeyData,
        cn: &str,
        now: OffsetDateTime,
    ) -> Result<String, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = common_name(cn);
        params.serial_number = Some(SerialNumber::from_slice(&random_serial()?));
        params.not_before = now - BACKDATE;
        params.not_after = now + Duration::days(ISSUING_VALIDITY_DAYS);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.key_identifier_method = KeyIdMethod::Sha256;
        params.use_authority_key_identifier_extension = true;
        Ok(params.signed_by(key, &self.issuer)?.pem())
    }

    /// The ceremony's offline step: a new certificate for the issuing key of `current` (the
    /// hub's `issuing.pem`, carried here), signed by this root. Returns the PEM to carry back
    /// and install with [`Pki::install_issuing`].
    pub fn renew_issuing(&self, current_pem: &str) -> Result<String, PkiError> {
        let der = CertificateDer::from_pem_slice(current_pem.as_bytes())
            .map_err(|e| PkiError::Ceremony(format!("no certificate in the given file ({e})")))?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| PkiError::Ceremony(format!("unreadable certificate ({e})")))?;
        let spki = rcgen::SubjectPublicKeyInfo::from_der(cert.public_key().raw)?;
        // The same name: the certificates it issued name it as their issuer.
        let cn = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|c| c.as_str().ok())
            .unwrap_or(ISSUING_COMMON_NAME)
            .to_owned();
        self.certify_issuing(&spki, &cn, now_seconds())
    }
}

/// `base` followed by the day of `now` and the first four bytes of `serial` (hex): a name that
/// tells this CA from an earlier one of the same role (webpki finds an issuer, and a CRL's
/// issuer, by name).
pub(super) fn dated_name(base: &str, now: OffsetDateTime, serial: &[u8]) -> String {
    let day = super::format_utc(now);
    format!(
        "{base} {} {}",
        day.get(..10).unwrap_or(&day),
        hex::encode(serial.get(..4).unwrap_or(serial))
    )
}

/// Takes the CA key of a hub of the first layout off the hub: writes `root.key` and
/// `root.pem` into `to` (the offline medium), then removes `ca.key` from the hub. The hub
/// goes on serving; issuing and revoking need the key back (see the operator manual).
pub fn take_offline(pki: &Pki, to: &Path) -> Result<PathBuf, PkiError> {
    let key = pki.dir().join(CA_KEY);
    if !key.exists() {
        return Err(PkiError::Ceremony(format!(
            "{} holds no CA key: nothing to take offline",
            pki.dir().display()
        )));
    }
    let _lock = Lock::acquire(pki.dir())?;
    // Check that the key is the CA's before moving it.
    load_ca_issuer(&pki.ca_pem(), &pki.ca_cert_path(), &key)?;
    fs::create_dir_all(to).map_err(io("create directory", to))?;
    set_private_dir(to)?;
    for f in [ROOT_CERT, ROOT_KEY] {
        if to.join(f).exists() {
            return Err(PkiError::RootExists { path: to.join(f) });
        }
    }
    let key_pem = fs::read(&key).map_err(io("read", &key))?;
    write_atomic(&to.join(ROOT_KEY), &key_pem, true)?;
    write_atomic(&to.join(ROOT_CERT), pki.ca_pem().as_bytes(), false)?;
    // Only once the copy is safely written.
    fs::remove_file(&key).map_err(io("remove", &key))?;
    Ok(to.join(ROOT_KEY))
}

impl Pki {
    /// The ceremony's last step on the hub: installs a renewed issuing certificate, after
    /// checking that it certifies the hub's own issuing key and is signed by the root
    /// (`ca.pem`).
    pub fn install_issuing(&self, pem: &str) -> Result<(), PkiError> {
        let _lock = Lock::acquire(self.dir())?;
        let key_path = self.dir().join(ISSUING_KEY);
        let cert_path = self.dir().join(ISSUING_CERT);
        // Loading the issuer checks that the key belongs to the certificate.
        load_ca_issuer(pem, &cert_path, &key_path)?;
        let der = CertificateDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| PkiError::Ceremony(format!("no certificate in it ({e})")))?;
        let root_der = CertificateDer::from_pem_slice(self.ca_pem().as_bytes())
            .map_err(|e| PkiError::Ceremony(format!("ca.pem holds no certificate ({e})")))?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| PkiError::Ceremony(format!("unreadable certificate ({e})")))?;
        let (_, root) = x509_parser::parse_x509_certificate(&root_der)
            .map_err(|e| PkiError::Ceremony(format!("unreadable {CA_CERT} ({e})")))?;
        let signed = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_ASN1,
            &root.public_key().subject_public_key.data,
        )
        .verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
        .is_ok();
        if !signed || cert.issuer() != root.subject() {
            return Err(PkiError::Ceremony(
                "this issuing certificate is not signed by the agency root (ca.pem): sign it \
                 with `civreg-hub pki root sign-issuer` on the offline machine that holds \
                 root.key"
                    .into(),
            ));
        }
        write_atomic(&cert_path, pem.as_bytes(), false)
    }
}
