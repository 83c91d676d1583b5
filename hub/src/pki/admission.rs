//! Which client certificates the hub admits, now: those whose serial is active in the
//! registry (`issued.json`) and not on the CRL.
//!
//! The registry is the hub's own record of what it issued, so a certificate signed with a CA
//! key but never recorded (a key that leaked, a root used outside the ceremony) is refused
//! although its signature is valid, and `civreg-hub pki list` names every certificate the hub
//! accepts.
//!
//! One [`Admission`] is shared by the TLS verifier (every handshake), the gRPC layer (every
//! request, and every push batch) and the live connections (closed when their certificate
//! stops being admitted, see `crate::live`). [`Admission::refresh`] re-reads the two files when
//! they changed: the CRL by content (a few kilobytes), the registry by inode, length and
//! modification time (every write replaces it with a new file).

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use tokio::sync::watch;

use super::{CertStatus, Pki, Registry};

/// Why a client certificate is not admitted. Each message says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the certificate with serial {0} was revoked: this PC may no longer sync; if it is \
         still in service, enrol it again with `civreg-hub pki issue`"
    )]
    Revoked(String),
    #[error(
        "the certificate with serial {0} is not in the hub's registry of issued certificates \
         (it was not issued by `civreg-hub pki issue`): enrol this PC with a bundle from \
         `civreg-hub pki issue`"
    )]
    Unregistered(String),
    #[error("the client certificate is not a readable X.509 certificate; enrol this PC again")]
    Unreadable,
}

type Stamp = (u64, u64, Option<SystemTime>);

#[derive(Default)]
struct State {
    loaded: bool,
    crl: Option<Vec<u8>>,
    registry: Option<Stamp>,
    active: HashSet<String>,
    revoked: HashSet<String>,
    /// `renew-required.json`: its stamp and the serials whose holders must renew.
    required: Option<Stamp>,
    renew: HashSet<String>,
}

/// The set of admitted serials, reloaded when `crl.pem` or `issued.json` changes.
pub struct Admission {
    registry: PathBuf,
    crl: PathBuf,
    required: PathBuf,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
}

impl fmt::Debug for Admission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admission")
            .field("registry", &self.registry)
            .field("crl", &self.crl)
            .finish_non_exhaustive()
    }
}

impl Admission {
    /// The admission of `pki`'s directory, loaded now.
    pub fn new(pki: &Pki) -> Admission {
        let a = Admission {
            registry: pki.registry_path(),
            crl: pki.crl_path(),
            required: pki.renew_required_path(),
            state: Mutex::new(State::default()),
            changed: watch::channel(0).0,
        };
        a.refresh();
        a
    }

    /// Re-reads the registry and the CRL if either changed; true if they did. A registry that
    /// cannot be read keeps the previous set (nothing newly issued is admitted until it is
    /// fixed; revocations still take effect through the CRL).
    pub fn refresh(&self) -> bool {
        let crl = std::fs::read(&self.crl).ok();
        let required = stamp(&self.required);
        let stamp = stamp(&self.registry);
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.loaded && st.required != required {
            st.renew = read_required(&self.required);
            st.required = required;
        }
        if st.loaded && st.crl == crl && st.registry == stamp {
            return false;
        }
        if !st.loaded {
            st.renew = read_required(&self.required);
            st.required = required;
        }
        let mut revoked: HashSet<String> = crl.as_deref().map(crl_serials).unwrap_or_default();
        let registry = std::fs::read_to_string(&self.registry)
            .ok()
            .and_then(|t| serde_json::from_str::<Registry>(&t).ok());
        match registry {
            Some(r) => {
                let mut active = HashSet::new();
                for e in r.certificates {
                    match e.status {
                        // A document signer's certificate never opens a connection.
                        CertStatus::Active if e.kind == super::CertKind::Signer => false,
                        // Nor does an office's clerk app certificate (server only).
                        CertStatus::Active if e.kind == super::CertKind::App => false,
                        CertStatus::Active => active.insert(e.serial),
                        CertStatus::Revoked => revoked.insert(e.serial),
                    };
                }
                st.active = active;
            }
            None => tracing::warn!(
                registry = %self.registry.display(),
                "the registry of issued certificates is unreadable: keeping the previous one"
            ),
        }
        st.revoked = revoked;
        st.crl = crl;
        st.registry = stamp;
        st.loaded = true;
        drop(st);
        self.changed.send_modify(|g| *g = g.wrapping_add(1));
        true
    }

    /// Whether `serial` (lowercase hex, as in the registry) is admitted, by the sets as last
    /// loaded.
    pub fn admits(&self, serial: &str) -> Result<(), Refusal> {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.revoked.contains(serial) {
            Err(Refusal::Revoked(serial.to_owned()))
        } else if !st.active.contains(serial) {
            Err(Refusal::Unregistered(serial.to_owned()))
        } else {
            Ok(())
        }
    }

    /// Whether an operator requires the holder of `serial` to renew
    /// (`civreg-hub pki require-renewal`), by the set as last loaded.
    pub fn renewal_required(&self, serial: &str) -> bool {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.renew.contains(serial)
    }

    /// [`Admission::admits`] after a [`Admission::refresh`]: the answer as of now.
    pub fn check(&self, serial: &str) -> Result<(), Refusal> {
        self.refresh();
        self.admits(serial)
    }

    /// [`Admission::check`] of a certificate (DER); returns its serial.
    pub fn check_der(&self, der: &[u8]) -> Result<String, Refusal> {
        let serial = serial_of(der).ok_or(Refusal::Unreadable)?;
        self.check(&serial)?;
        Ok(serial)
    }

    /// Changes whenever the sets are reloaded.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

/// The serial of a certificate (DER) as the registry writes it: lowercase hex of its bytes.
pub fn serial_of(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(hex::encode(cert.raw_serial()))
}

pub(crate) fn crl_serials(pem: &[u8]) -> HashSet<String> {
    let Ok(der) = CertificateRevocationListDer::from_pem_slice(pem) else {
        return HashSet::new();
    };
    let Ok((_, crl)) = x509_parser::parse_x509_crl(&der) else {
        return HashSet::new();
    };
    crl.iter_revoked_certificates()
        .map(|r| hex::encode(r.raw_serial()))
        .collect()
}

/// The serials of `renew-required.json`; none when it is missing or unreadable (a damaged
/// file is reported by `civreg-hub pki require-renewal`, which refuses to extend it).
fn read_required(path: &std::path::Path) -> HashSet<String> {
    #[derive(serde::Deserialize)]
    struct Required {
        serials: HashSet<String>,
    }
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Required>(&t).ok())
        .map(|r| r.serials)
        .unwrap_or_default()
}

fn stamp(path: &std::path::Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0;
    Some((ino, m.len(), m.modified().ok()))
}

/// The client verifier of the hub: the WebPKI checks (chain, validity, CRL), then the
/// registry ([`Admission`]).
#[derive(Debug)]
pub(super) struct RegisteredClients {
    inner: Arc<dyn ClientCertVerifier>,
    admission: Arc<Admission>,
}

impl RegisteredClients {
    pub(super) fn new(inner: Arc<dyn ClientCertVerifier>, admission: Arc<Admission>) -> Self {
        RegisteredClients { inner, admission }
    }
}

#[derive(Debug)]
struct RefusedError(Refusal);

impl fmt::Display for RefusedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for RefusedError {}

impl ClientCertVerifier for RegisteredClients {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        match self.admission.check_der(end_entity.as_ref()) {
            Ok(_) => Ok(verified),
            Err(Refusal::Revoked(_)) => {
                Err(rustls::Error::InvalidCertificate(CertificateError::Revoked))
            }
            Err(r) => Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(RefusedError(r))),
            ))),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
