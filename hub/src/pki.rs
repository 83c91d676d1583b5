//! The agency's PKI: one certificate authority that issues the hub's server certificate and a
//! client certificate per node (`civreg://node/{municipality}/{node_id}`) and per operator
//! (`civreg://operator/{name}`), a CRL of everything revoked, and a registry of everything issued.
//!
//! Layout of the PKI directory (the hub uses `<hub-data-dir>/pki/`):
//!
//! | file          | content                                                        |
//! |---------------|----------------------------------------------------------------|
//! | `ca.pem`      | the agency CA certificate (ECDSA P-256, CA:true, pathlen 0)    |
//! | `ca.key`      | the CA private key, PKCS#8 PEM, mode 0600                      |
//! | `hub.pem`     | the hub's TLS server certificate                               |
//! | `hub.key`     | the hub's private key, mode 0600                               |
//! | `crl.pem`     | the current CRL, listing every revoked serial                  |
//! | `issued.json` | the registry of every certificate issued, and the CRL number   |
//!
//! Every file is replaced atomically (temporary file, fsync, rename, fsync of the directory).
//! Commands that change the PKI hold a lock file (`.lock`) so two of them cannot interleave.
//! Private keys of nodes and operators are never stored here: they go into the enrollment
//! bundle ([`Issued::write_bundle`]) and nowhere else.
//!
//! The identity of a peer is read only from the URI SAN of its verified certificate
//! ([`peer_identity`]), never from anything else a client sends.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use civreg_shared::{gazetteer, ids};
use rcgen::{
    CertificateParams, CertificateRevocationListParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData,
    RevokedCertParams, SanType, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use ring::rand::{SecureRandom, SystemRandom};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time};

pub mod admission;
pub mod app;
pub mod lifecycle;
pub mod rollover;
pub mod root;
pub mod shared;
pub mod signer;

pub use admission::Admission;

/// Common name of the agency CA.
pub const CA_COMMON_NAME: &str = "civreg agency CA";
/// Longest validity of a node or operator certificate, in days.
pub const MAX_VALIDITY_DAYS: u32 = 825;
/// Validity of the CA certificate, in days (10 years).
pub const CA_VALIDITY_DAYS: i64 = 3653;
/// Validity of the hub's server certificate, in days.
pub const HUB_VALIDITY_DAYS: i64 = 365;
/// How long a CRL is announced to be current (`nextUpdate - thisUpdate`).
pub const CRL_VALIDITY_DAYS: i64 = 7;
/// Certificates start this long before the moment of issuing, to tolerate clocks that lag.
pub const BACKDATE: Duration = Duration::hours(1);
/// Hub names used when `pki init` is given none.
pub const DEFAULT_HUB_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];
/// ALPN protocol the hub speaks (gRPC over HTTP/2).
pub const ALPN_H2: &[u8] = b"h2";

const URI_PREFIX: &str = "civreg://";
const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca.key";
const ISSUING_CERT: &str = "issuing.pem";
const ISSUING_KEY: &str = "issuing.key";
const HUB_CERT: &str = "hub.pem";
const HUB_KEY: &str = "hub.key";
const HUB_NEXT_CERT: &str = "hub-next.pem";
const HUB_NEXT_KEY: &str = "hub-next.key";
const CRL: &str = "crl.pem";
const REGISTRY: &str = "issued.json";
const LOCK: &str = ".lock";
/// How long a PKI command waits for another one to release the lock.
const LOCK_WAIT: StdDuration = StdDuration::from_secs(10);

/// Everything that can go wrong in the PKI. Each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("there is no agency PKI in {dir}: run `civreg-hub pki init` first")]
    NotInitialised { dir: PathBuf },
    #[error(
        "{dir} already holds an agency CA: refusing to replace it (that would lock out every \
         enrolled node); use the existing PKI, or choose an empty directory"
    )]
    AlreadyInitialised { dir: PathBuf },
    #[error("cannot {action} {path}: {source}; check that the path exists and is writable by the hub's user")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is damaged: {reason}; restore the PKI directory from its backup")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "another `civreg-hub pki` command is working on this PKI; wait for it to finish, or, if none \
         is running, remove the stale lock file {lock}"
    )]
    Busy { lock: PathBuf },
    #[error("unknown municipality {0:?}: use a code from the gazetteer, e.g. prishtine")]
    UnknownMunicipality(String),
    #[error(transparent)]
    NodeId(#[from] ids::IdError),
    #[error(
        "operator name {0:?} is not valid: use 1 to 32 lowercase letters, digits, '.', '_' or '-', \
         starting with a letter or digit, e.g. \"ana\" or \"a.krasniqi\""
    )]
    OperatorName(String),
    #[error(
        "hub name {0:?} is neither an IP address nor a valid DNS name: give the names clients use \
         to reach the hub, e.g. hub.civreg.rks-gov.net or 10.0.0.5"
    )]
    HubName(String),
    #[error("{0}")]
    HubUrl(#[from] civreg_shared::hubs::HubUrlError),
    #[error("a validity of {0} days is not allowed: give 1 to {max} days (365 is usual)", max = MAX_VALIDITY_DAYS)]
    ValidityDays(u32),
    #[error(
        "the validity window {not_before} .. {not_after} is not allowed: not_after must be after \
         not_before, at most {max} days later, within the years 1950 to 9999",
        max = MAX_VALIDITY_DAYS
    )]
    ValidityWindow {
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    },
    #[error(
        "no active certificate matches {0:?}: give a serial from `civreg-hub pki list` or an \
         identity such as prishtine/1, civreg://node/prishtine/1 or operator/ana (certificates \
         already revoked are not matched)"
    )]
    NoMatch(String),
    #[error(
        "{0:?} is not a civreg identity: expected civreg://node/MUNICIPALITY/NODE_ID or \
         civreg://operator/NAME"
    )]
    BadIdentity(String),
    #[error("the peer certificate does not identify a civreg node or operator: {0}; issue its certificate with `civreg-hub pki issue`")]
    PeerIdentity(String),
    #[error("{0} already exists: refusing to overwrite an enrollment bundle; choose another output directory or remove the old bundle")]
    BundleExists(PathBuf),
    #[error("the certificate {0} is not a node or operator certificate: enrollment bundles are only for nodes and operators")]
    BundleKind(String),
    #[error("certificate generation failed: {0}; this is a bug or a damaged CA key, report it")]
    Rcgen(#[from] rcgen::Error),
    #[error(
        "the system random number generator failed; check the operating system's entropy source"
    )]
    Random,
    #[error("cannot build the hub's TLS configuration: {0}; check hub.pem, hub.key and crl.pem in the PKI directory")]
    Tls(String),
    #[error(
        "{dir} holds no issuing key (its CA key was taken offline): issue and revoke on a hub \
         made by `civreg-hub pki init` of this version, or bring the key back for the ceremony \
         (operator manual, \"Key ceremony\")"
    )]
    NoIssuingKey { dir: PathBuf },
    #[error("{path} holds no root CA: run `civreg-hub pki root init --dir {}` on the offline machine first", path.display())]
    NoRoot { path: PathBuf },
    #[error("{path} already holds a root CA: refusing to replace it (every office trusts it); use it, or choose an empty directory")]
    RootExists { path: PathBuf },
    #[error("{0}")]
    Ceremony(String),
    #[error(
        "{0:?} is neither an IP address nor a host name the clerk app can be reached by: give \
         the names the office's PCs type, e.g. --name clerks.istog.rks --name 10.20.0.5 (no \
         wildcards)"
    )]
    AppName(String),
    #[error(
        "an app certificate needs at least one name: give the host names and IP addresses the \
         office's PCs use, e.g. --name clerks.istog.rks --name 10.20.0.5"
    )]
    AppNoName,
    #[error("{0} names are too many for one app certificate: give at most {max}", max = app::MAX_APP_NAMES)]
    AppTooManyNames(usize),
    #[error(
        "{0} has no active node certificate: enrol the office first with `civreg-hub pki issue`, \
         or use `pki issue --app-name` to issue both"
    )]
    AppNotEnrolled(String),
}

/// What a certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertKind {
    Node,
    Operator,
    Hub,
    /// A document signer (issue 15, `pki/signer.rs`): signs citizens' certificates, never TLS.
    Signer,
    /// An office's clerk app (issue 14, `pki/app.rs`): a TLS server certificate only.
    App,
}

/// Whether a certificate is still good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertStatus {
    Active,
    Revoked,
}

/// One line of the registry of issued certificates (`issued.json`).
///
/// Times are UTC with second precision, stored as `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedEntry {
    /// Serial number, lowercase hex (32 digits).
    pub serial: String,
    /// `civreg://node/{municipality}/{node_id}`, `civreg://operator/{name}`, or for the hub
    /// `hub:{name},{name}…`.
    pub identity: String,
    pub kind: CertKind,
    #[serde(with = "utc_seconds")]
    pub not_before: OffsetDateTime,
    #[serde(with = "utc_seconds")]
    pub not_after: OffsetDateTime,
    pub status: CertStatus,
    #[serde(with = "utc_seconds_opt", default)]
    pub revoked_at: Option<OffsetDateTime>,
}

impl IssuedEntry {
    /// The node or operator identity of this certificate; `None` for the hub's certificate.
    pub fn peer_identity(&self) -> Option<PeerIdentity> {
        PeerIdentity::from_uri(&self.identity).ok()
    }
}

/// A freshly issued certificate with its private key. The key exists only here and in the
/// bundle written from it.
pub struct Issued {
    pub entry: IssuedEntry,
    pub cert_pem: String,
    pub key_pem: String,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("entry", &self.entry)
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"[elided]")
            .finish()
    }
}

/// `bundle.json` of an enrollment bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleInfo {
    /// `civreg://node/{municipality}/{node_id}` or `civreg://operator/{name}`.
    pub identity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// The first hub address: all that a node of the first bundle format reads.
    pub hub_url: String,
    /// Every hub address, in the order nodes try them (issue 19 part 3); absent when the bundle
    /// names one hub, so that such a bundle is byte for byte what it was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hub_urls: Vec<String>,
}

impl Issued {
    /// Writes an enrollment bundle into `out` (created if missing): `cert.pem`, `key.pem`
    /// (mode 0600), `ca.pem` and `bundle.json` ([`BundleInfo`]). Refuses to overwrite an
    /// existing bundle.
    pub fn write_bundle(&self, out: &Path, ca_pem: &str, hub_url: &str) -> Result<(), PkiError> {
        self.write_bundle_for(out, ca_pem, &[hub_url.to_owned()])
    }

    /// [`Issued::write_bundle`] naming several hubs, which nodes try in this order; checked by
    /// [`civreg_shared::hubs::check_list`] before anything is written.
    pub fn write_bundle_for(
        &self,
        out: &Path,
        ca_pem: &str,
        hub_urls: &[String],
    ) -> Result<(), PkiError> {
        civreg_shared::hubs::check_list(hub_urls)?;
        let hub_url = hub_urls[0].as_str();
        let listed = if hub_urls.len() > 1 {
            hub_urls.to_vec()
        } else {
            Vec::new()
        };
        let identity = self
            .entry
            .peer_identity()
            .ok_or_else(|| PkiError::BundleKind(self.entry.serial.clone()))?;
        let info = match &identity {
            PeerIdentity::Node {
                municipality,
                node_id,
            } => BundleInfo {
                identity: identity.uri(),
                municipality: Some(municipality.clone()),
                node_id: Some(node_id.clone()),
                operator: None,
                hub_url: hub_url.to_owned(),
                hub_urls: listed,
            },
            PeerIdentity::Operator { name } => BundleInfo {
                identity: identity.uri(),
                municipality: None,
                node_id: None,
                operator: Some(name.clone()),
                hub_url: hub_url.to_owned(),
                hub_urls: listed,
            },
        };
        fs::create_dir_all(out).map_err(io("create directory", out))?;
        for name in ["cert.pem", "key.pem", "bundle.json"] {
            let path = out.join(name);
            if path.exists() {
                return Err(PkiError::BundleExists(path));
            }
        }
        let json = serde_json::to_string_pretty(&info).map_err(|e| PkiError::Corrupt {
            path: out.join("bundle.json"),
            reason: e.to_string(),
        })?;
        write_atomic(&out.join("key.pem"), self.key_pem.as_bytes(), true)?;
        write_atomic(&out.join("cert.pem"), self.cert_pem.as_bytes(), false)?;
        write_atomic(&out.join("ca.pem"), ca_pem.as_bytes(), false)?;
        write_atomic(&out.join("bundle.json"), json.as_bytes(), false)?;
        Ok(())
    }
}

/// Who is at the other end of a verified connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PeerIdentity {
    Node {
        municipality: String,
        node_id: String,
    },
    Operator {
        name: String,
    },
}

impl PeerIdentity {
    /// A node identity, checked against the gazetteer and the node id rules.
    pub fn node(municipality: &str, node_id: &str) -> Result<Self, PkiError> {
        if gazetteer::by_code(municipality).is_none() {
            return Err(PkiError::UnknownMunicipality(municipality.to_owned()));
        }
        ids::check_node_id(node_id)?;
        Ok(PeerIdentity::Node {
            municipality: municipality.to_owned(),
            node_id: node_id.to_owned(),
        })
    }

    /// An operator identity, checked against the operator name rules.
    pub fn operator(name: &str) -> Result<Self, PkiError> {
        check_operator_name(name)?;
        Ok(PeerIdentity::Operator {
            name: name.to_owned(),
        })
    }

    /// The URI SAN form: `civreg://node/prishtine/1`, `civreg://operator/ana`.
    pub fn uri(&self) -> String {
        match self {
            PeerIdentity::Node {
                municipality,
                node_id,
            } => format!("{URI_PREFIX}node/{municipality}/{node_id}"),
            PeerIdentity::Operator { name } => format!("{URI_PREFIX}operator/{name}"),
        }
    }

    /// Parses and checks the URI SAN form. Anything else is refused.
    pub fn from_uri(uri: &str) -> Result<Self, PkiError> {
        let bad = || PkiError::BadIdentity(uri.to_owned());
        let rest = uri.strip_prefix(URI_PREFIX).ok_or_else(bad)?;
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            ["node", municipality, node_id] => Self::node(municipality, node_id),
            ["operator", name] => Self::operator(name),
            _ => Err(bad()),
        }
    }

    /// The certificate's common name: `prishtine/1`, `operator/ana`.
    fn common_name(&self) -> String {
        match self {
            PeerIdentity::Node {
                municipality,
                node_id,
            } => format!("{municipality}/{node_id}"),
            PeerIdentity::Operator { name } => format!("operator/{name}"),
        }
    }

    fn kind(&self) -> CertKind {
        match self {
            PeerIdentity::Node { .. } => CertKind::Node,
            PeerIdentity::Operator { .. } => CertKind::Operator,
        }
    }
}

impl fmt::Display for PeerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerIdentity::Node {
                municipality,
                node_id,
            } => write!(f, "node {municipality}/{node_id}"),
            PeerIdentity::Operator { name } => write!(f, "operator {name}"),
        }
    }
}

/// The store's view of a verified caller ([`crate::store::Author`]): the store does not know
/// certificates.
impl From<PeerIdentity> for crate::store::Author {
    fn from(who: PeerIdentity) -> Self {
        match who {
            PeerIdentity::Node {
                municipality,
                node_id,
            } => crate::store::Author::Node {
                municipality,
                node_id,
            },
            other => crate::store::Author::Other(other.to_string()),
        }
    }
}

/// Reads the identity out of a verified peer certificate (DER): its one `civreg://` URI SAN.
///
/// Call this only on a certificate the TLS layer has verified (e.g. the first of
/// `ServerConnection::peer_certificates()`); the identity is never taken from anything else.
pub fn peer_identity(cert_der: &[u8]) -> Result<PeerIdentity, PkiError> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|_| PkiError::PeerIdentity("it is not a readable X.509 certificate".into()))?;
    let san = cert
        .subject_alternative_name()
        .map_err(|_| PkiError::PeerIdentity("its subject alternative names are malformed".into()))?
        .ok_or_else(|| PkiError::PeerIdentity("it has no subject alternative names".into()))?;
    let mut uris = san.value.general_names.iter().filter_map(|n| match n {
        x509_parser::extensions::GeneralName::URI(u) if u.starts_with(URI_PREFIX) => Some(*u),
        _ => None,
    });
    let uri = uris
        .next()
        .ok_or_else(|| PkiError::PeerIdentity("it has no civreg:// URI name".into()))?;
    if uris.next().is_some() {
        return Err(PkiError::PeerIdentity(
            "it has more than one civreg:// URI name".into(),
        ));
    }
    PeerIdentity::from_uri(uri).map_err(|e| PkiError::PeerIdentity(e.to_string()))
}

/// The registry file: every certificate issued, and the number of the last CRL.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Registry {
    crl_number: u64,
    certificates: Vec<IssuedEntry>,
}

/// The agency PKI in one directory.
#[derive(Debug, Clone)]
pub struct Pki {
    dir: PathBuf,
    ca_pem: String,
}

impl Pki {
    /// Creates a PKI for tests and benches in one step: a root CA whose private key is
    /// dropped once it has signed the issuing CA (nothing can be signed by that root again),
    /// then everything [`Pki::init_with_root`] makes. Refuses if `dir` already holds a CA.
    pub fn init(dir: &Path, hub_names: &[String]) -> Result<Pki, PkiError> {
        Self::init_with_root(dir, None, hub_names)
    }

    /// Creates the hub's PKI: the issuing CA (key on the hub, certified by the root CA), the
    /// hub's server certificate for `hub_names` (each an IP address or a DNS name;
    /// `localhost` and `127.0.0.1` when empty), an empty CRL and the registry.
    ///
    /// The root CA is taken from `root_dir` if it holds one (`civreg-hub pki root init`, the
    /// key ceremony), or created there; its private key is written only there, never into
    /// `dir`. Without `root_dir` the root key is dropped (tests). Refuses if `dir` already
    /// holds a CA.
    pub fn init_with_root(
        dir: &Path,
        root_dir: Option<&Path>,
        hub_names: &[String],
    ) -> Result<Pki, PkiError> {
        let hub_sans = hub_sans(hub_names)?;
        fs::create_dir_all(dir).map_err(io("create directory", dir))?;
        set_private_dir(dir)?;
        let _lock = Lock::acquire(dir)?;
        if dir.join(CA_CERT).exists() {
            return Err(PkiError::AlreadyInitialised {
                dir: dir.to_owned(),
            });
        }
        for key in [CA_KEY, ISSUING_KEY] {
            if dir.join(key).exists() {
                return Err(PkiError::Corrupt {
                    path: dir.join(key),
                    reason: format!(
                        "there is a CA key but no ca.pem (an interrupted `pki init`, or a \
                         deleted certificate); restore ca.pem, or remove {key} to start over"
                    ),
                });
            }
        }
        let root = match root_dir {
            Some(r) if r.join(root::ROOT_CERT).exists() => root::RootCa::open(r)?,
            Some(r) => root::RootCa::init(r)?,
            None => root::RootCa::ephemeral()?,
        };
        let now = now_seconds();
        let issuing_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let issuing_pem = root.certify_issuing(&issuing_key, root::ISSUING_COMMON_NAME, now)?;
        let issuing_der = CertificateDer::from_pem_slice(issuing_pem.as_bytes()).map_err(|e| {
            PkiError::Corrupt {
                path: dir.join(ISSUING_CERT),
                reason: format!("no certificate in it ({e})"),
            }
        })?;
        let issuer = Issuer::from_ca_cert_der(&issuing_der, issuing_key)?;

        let pki = Pki {
            dir: dir.to_owned(),
            ca_pem: root.pem().to_owned(),
        };
        let mut registry = Registry::default();
        let (hub_entry, hub_cert_pem, hub_key_pem) =
            pki.make_hub_cert(&issuer, &registry, hub_sans, now)?;
        registry.certificates.push(hub_entry);
        registry.crl_number = 1;
        let crl_pem = make_crl(&issuer, &registry, now)?;

        // ca.pem goes last: its presence is what marks the directory as initialised, so an
        // init that fails half-way can simply be run again.
        write_atomic(&pki.hub_key_path(), hub_key_pem.as_bytes(), true)?;
        write_atomic(&pki.hub_cert_path(), hub_cert_pem.as_bytes(), false)?;
        write_atomic(&pki.crl_path(), crl_pem.as_bytes(), false)?;
        pki.save_registry(&registry)?;
        write_atomic(
            &dir.join(ISSUING_KEY),
            issuer.key().serialize_pem().as_bytes(),
            true,
        )?;
        write_atomic(&dir.join(ISSUING_CERT), issuing_pem.as_bytes(), false)?;
        write_atomic(&pki.ca_cert_path(), pki.ca_pem.as_bytes(), false)?;
        Ok(pki)
    }

    /// Opens an initialised PKI directory.
    pub fn open(dir: &Path) -> Result<Pki, PkiError> {
        let ca_path = dir.join(CA_CERT);
        let ca_pem = match fs::read_to_string(&ca_path) {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(PkiError::NotInitialised {
                    dir: dir.to_owned(),
                })
            }
            Err(e) => {
                return Err(PkiError::Io {
                    action: "read",
                    path: ca_path,
                    source: e,
                })
            }
        };
        let der =
            CertificateDer::from_pem_slice(ca_pem.as_bytes()).map_err(|e| PkiError::Corrupt {
                path: ca_path.clone(),
                reason: format!("no certificate in it ({e})"),
            })?;
        x509_parser::parse_x509_certificate(&der).map_err(|e| PkiError::Corrupt {
            path: ca_path.clone(),
            reason: format!("unreadable certificate ({e})"),
        })?;
        // A hub of the first layout keeps the CA key itself (`legacy_ca_key`); one whose key
        // was taken offline holds neither key and can serve, list and refuse, but not issue.
        Ok(Pki {
            dir: dir.to_owned(),
            ca_pem,
        })
    }

    /// Issues a node's client certificate, valid for `validity_days` (1 to 825; 365 is usual)
    /// from now. Re-issuing for an identity that already has an active certificate is allowed
    /// (renewal); both are recorded, and the old one stays valid until revoked or expired.
    pub fn issue_node(
        &self,
        municipality: &str,
        node_id: &str,
        validity_days: u32,
    ) -> Result<Issued, PkiError> {
        let identity = PeerIdentity::node(municipality, node_id)?;
        let (not_before, not_after) = window_from_days(validity_days)?;
        self.issue_client(&identity, not_before, not_after)
    }

    /// Issues a node's client certificate with an explicit validity window (at most 825 days
    /// long; it may lie in the past, which is what tests of expired certificates need).
    pub fn issue_node_with_validity(
        &self,
        municipality: &str,
        node_id: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Issued, PkiError> {
        let identity = PeerIdentity::node(municipality, node_id)?;
        let (not_before, not_after) = check_window(not_before, not_after)?;
        self.issue_client(&identity, not_before, not_after)
    }

    /// Issues an operator's client certificate, valid for `validity_days` (1 to 825).
    pub fn issue_operator(&self, name: &str, validity_days: u32) -> Result<Issued, PkiError> {
        let identity = PeerIdentity::operator(name)?;
        let (not_before, not_after) = window_from_days(validity_days)?;
        self.issue_client(&identity, not_before, not_after)
    }

    /// Issues a fresh server certificate for the hub (e.g. before the current one expires, or
    /// when the hub gets a new name) and replaces `hub.pem`/`hub.key`. The old certificate is
    /// not revoked. Rebuild the server configuration afterwards.
    pub fn renew_hub_cert(&self, hub_names: &[String]) -> Result<IssuedEntry, PkiError> {
        let (entry, cert_pem, key_pem) = self.issue_hub_cert(hub_names)?;
        write_atomic(&self.hub_key_path(), key_pem.as_bytes(), true)?;
        write_atomic(&self.hub_cert_path(), cert_pem.as_bytes(), false)?;
        Ok(entry)
    }

    /// Issues a server certificate for the hub and records it; returns it (PEM, followed by
    /// its issuing CA's certificate when that is the new CA of a rollover) and its key.
    fn issue_hub_cert(
        &self,
        hub_names: &[String],
    ) -> Result<(IssuedEntry, String, String), PkiError> {
        let sans = hub_sans(hub_names)?;
        let _lock = Lock::acquire(&self.dir)?;
        let (issuer, next) = self.load_client_issuer()?;
        let mut registry = self.load_registry()?;
        let (entry, mut cert_pem, key_pem) =
            self.make_hub_cert(&issuer, &registry, sans, now_seconds())?;
        registry.certificates.push(entry.clone());
        self.save_registry(&registry)?;
        if next {
            self.note_issued_by_next(&entry.serial)?;
            // Offices trust roots: the chain names the issuing CA that links it to the new one.
            cert_pem.push_str(&self.next_issuing_pem()?);
        }
        Ok((entry, cert_pem, key_pem))
    }

    /// Issues the hub's next server certificate without presenting it: `hub-next.pem` and
    /// `hub-next.key`, announced to offices in heartbeats until
    /// [`Pki::activate_hub_cert`] puts it in place. Replaces a certificate staged before.
    pub fn stage_hub_cert(&self, hub_names: &[String]) -> Result<IssuedEntry, PkiError> {
        let (entry, cert_pem, key_pem) = self.issue_hub_cert(hub_names)?;
        write_atomic(&self.hub_next_key_path(), key_pem.as_bytes(), true)?;
        write_atomic(&self.hub_next_cert_path(), cert_pem.as_bytes(), false)?;
        Ok(entry)
    }

    pub fn hub_next_cert_path(&self) -> PathBuf {
        self.dir.join(HUB_NEXT_CERT)
    }

    pub fn hub_next_key_path(&self) -> PathBuf {
        self.dir.join(HUB_NEXT_KEY)
    }

    /// Revokes every active certificate matching `selector` — a serial (hex, colons allowed)
    /// or an identity (`prishtine/1`, `node/prishtine/1`, `civreg://node/prishtine/1`,
    /// `operator/ana`, `civreg://operator/ana`) — and rewrites `crl.pem` with all revoked
    /// serials under the next CRL number. Returns the entries revoked.
    ///
    /// A running hub keeps the CRL it loaded: rebuild [`Pki::server_config`] after this.
    pub fn revoke(&self, selector: &str) -> Result<Vec<IssuedEntry>, PkiError> {
        let matcher = Selector::parse(selector)?;
        let _lock = Lock::acquire(&self.dir)?;
        let issuer = self.load_issuer()?;
        let mut registry = self.load_registry()?;
        let now = now_seconds();
        let mut revoked = Vec::new();
        for entry in registry.certificates.iter_mut() {
            if entry.status == CertStatus::Active && matcher.matches(entry) {
                entry.status = CertStatus::Revoked;
                entry.revoked_at = Some(now);
                revoked.push(entry.clone());
            }
        }
        if revoked.is_empty() {
            return Err(PkiError::NoMatch(selector.to_owned()));
        }
        // The CRL number must grow even if a previous run wrote crl.pem but not the registry.
        let on_disk = self.current_crl_number().unwrap_or(0);
        registry.crl_number = registry.crl_number.max(on_disk).saturating_add(1);
        let crl_pem = make_crl(&issuer, &registry, now)?;
        // CRL first: if the registry write then fails, the certificate is already refused
        // (the safe side), and running the revoke again brings the registry in line.
        write_atomic(&self.crl_path(), crl_pem.as_bytes(), false)?;
        // During a CA rollover the new issuing CA's CRL lists the same serials.
        self.write_next_crl(&registry, now)?;
        self.save_registry(&registry)?;
        Ok(revoked)
    }

    /// Every certificate ever issued (hub, nodes, operators), in issuing order.
    pub fn list(&self) -> Result<Vec<IssuedEntry>, PkiError> {
        Ok(self.load_registry()?.certificates)
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// The current CRL, PEM.
    pub fn crl_pem(&self) -> Result<String, PkiError> {
        let path = self.crl_path();
        fs::read_to_string(&path).map_err(io("read", &path))
    }

    /// The PKI directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn ca_cert_path(&self) -> PathBuf {
        self.dir.join(CA_CERT)
    }

    pub fn crl_path(&self) -> PathBuf {
        self.dir.join(CRL)
    }

    pub fn hub_cert_path(&self) -> PathBuf {
        self.dir.join(HUB_CERT)
    }

    pub fn hub_key_path(&self) -> PathBuf {
        self.dir.join(HUB_KEY)
    }

    pub fn registry_path(&self) -> PathBuf {
        self.dir.join(REGISTRY)
    }

    /// A rustls server configuration for the hub: presents `hub.pem`, requires a client
    /// certificate chained to the agency CA and not listed in `crl.pem` (unknown revocation
    /// status is refused), TLS 1.2 and 1.3 only, ALPN `h2`.
    ///
    /// The CRL is read once, here: rebuild the configuration whenever `crl.pem` changes.
    pub fn server_config(&self) -> Result<ServerConfig, PkiError> {
        self.server_config_with(Arc::new(Admission::new(self)))
    }

    /// [`Pki::server_config`], with the registry check of `admission` (shared with the gRPC
    /// layer, which re-checks every request against it).
    ///
    /// Client certificates chain to the issuing CA (the trust anchor here; on a hub of the
    /// first layout, the agency CA), are not on the CRL, and have their serial active in
    /// `issued.json`: a certificate signed with a CA key but never recorded is refused.
    pub fn server_config_with(&self, admission: Arc<Admission>) -> Result<ServerConfig, PkiError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let issuing_pem = self.issuing_pem()?;
        let anchor_path = if self.has_issuing_ca() {
            self.issuing_cert_path()
        } else {
            self.ca_cert_path()
        };
        let ca_der = CertificateDer::from_pem_slice(issuing_pem.as_bytes()).map_err(|e| {
            PkiError::Corrupt {
                path: anchor_path.clone(),
                reason: format!("no certificate in it ({e})"),
            }
        })?;
        let mut roots = RootCertStore::empty();
        roots.add(ca_der.clone()).map_err(|e| PkiError::Corrupt {
            path: anchor_path,
            reason: format!("not usable as a trust anchor ({e})"),
        })?;
        let crl_pem = self.crl_pem()?;
        let crl =
            CertificateRevocationListDer::from_pem_slice(crl_pem.as_bytes()).map_err(|e| {
                PkiError::Corrupt {
                    path: self.crl_path(),
                    reason: format!("no CRL in it ({e})"),
                }
            })?;
        let mut crls = vec![crl];
        // During a CA rollover: the new issuing CA too, with its own CRL (each certificate's
        // revocation is judged by its issuer's CRL, and one without it is refused).
        if let Some((path, cert_pem, next_crl_pem)) = self.next_anchor()? {
            let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| {
                PkiError::Corrupt {
                    path: path.clone(),
                    reason: format!("no certificate in it ({e})"),
                }
            })?;
            roots.add(der).map_err(|e| PkiError::Corrupt {
                path: path.clone(),
                reason: format!("not usable as a trust anchor ({e})"),
            })?;
            crls.push(
                CertificateRevocationListDer::from_pem_slice(next_crl_pem.as_bytes()).map_err(
                    |e| PkiError::Corrupt {
                        path: path.with_file_name(CRL),
                        reason: format!("no CRL in it ({e})"),
                    },
                )?,
            );
        }
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .with_crls(crls)
                .build()
                .map_err(|e| PkiError::Tls(format!("client certificate verifier: {e}")))?;
        let verifier = Arc::new(admission::RegisteredClients::new(verifier, admission));

        let hub_cert_path = self.hub_cert_path();
        let hub_cert_pem = fs::read(&hub_cert_path).map_err(io("read", &hub_cert_path))?;
        let chain = CertificateDer::pem_slice_iter(&hub_cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PkiError::Corrupt {
                path: hub_cert_path.clone(),
                reason: format!("unreadable PEM ({e})"),
            })?;
        if chain.is_empty() {
            return Err(PkiError::Corrupt {
                path: hub_cert_path,
                reason: "no certificate in it".into(),
            });
        }
        // Offices trust the root: the hub presents the issuing CA's certificate with its own.
        let mut chain = chain;
        if self.has_issuing_ca() && chain.len() == 1 {
            chain.push(ca_der);
        }
        let hub_key_path = self.hub_key_path();
        let hub_key_pem = fs::read(&hub_key_path).map_err(io("read", &hub_key_path))?;
        let key = PrivateKeyDer::from_pem_slice(&hub_key_pem).map_err(|e| PkiError::Corrupt {
            path: hub_key_path.clone(),
            reason: format!("no private key in it ({e})"),
        })?;

        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| PkiError::Tls(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|e| PkiError::Tls(format!("hub certificate and key: {e}")))?;
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
        Ok(config)
    }

    // ---- internals ----

    fn issue_client(
        &self,
        identity: &PeerIdentity,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Issued, PkiError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let (entry, cert_pem) = self.issue_for_key(identity, not_before, not_after, &key)?;
        Ok(Issued {
            entry,
            cert_pem,
            key_pem: key.serialize_pem(),
        })
    }

    /// Issues a client certificate for `identity` over a public key the caller holds the
    /// private half of (a key made here, or one from a node's signing request), records it in
    /// the registry and returns it, PEM.
    fn issue_for_key(
        &self,
        identity: &PeerIdentity,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
        key: &impl rcgen::PublicKeyData,
    ) -> Result<(IssuedEntry, String), PkiError> {
        let _lock = Lock::acquire(&self.dir)?;
        let (issuer, next) = self.load_client_issuer()?;
        let mut registry = self.load_registry()?;
        let serial = fresh_serial(&registry)?;
        let uri = identity.uri();

        let mut params = CertificateParams::default();
        params.distinguished_name = common_name(&identity.common_name());
        params.subject_alt_names = vec![SanType::URI(uri.as_str().try_into()?)];
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.not_before = not_before;
        params.not_after = not_after;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(key, &issuer)?;

        let entry = IssuedEntry {
            serial: hex::encode(serial),
            identity: uri,
            kind: identity.kind(),
            not_before,
            not_after,
            status: CertStatus::Active,
            revoked_at: None,
        };
        registry.certificates.push(entry.clone());
        self.save_registry(&registry)?;
        if next {
            self.note_issued_by_next(&entry.serial)?;
        }
        Ok((entry, cert.pem()))
    }

    fn make_hub_cert(
        &self,
        issuer: &Issuer<'_, KeyPair>,
        registry: &Registry,
        sans: Vec<(String, SanType)>,
        now: OffsetDateTime,
    ) -> Result<(IssuedEntry, String, String), PkiError> {
        let serial = fresh_serial(registry)?;
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let names: Vec<String> = sans.iter().map(|(n, _)| n.clone()).collect();
        let mut params = CertificateParams::default();
        params.distinguished_name = common_name("civreg hub");
        params.subject_alt_names = sans.into_iter().map(|(_, s)| s).collect();
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.not_before = now - BACKDATE;
        params.not_after = now + Duration::days(HUB_VALIDITY_DAYS);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, issuer)?;
        let entry = IssuedEntry {
            serial: hex::encode(serial),
            identity: format!("hub:{}", names.join(",")),
            kind: CertKind::Hub,
            not_before: params.not_before,
            not_after: params.not_after,
            status: CertStatus::Active,
            revoked_at: None,
        };
        Ok((entry, cert.pem(), key.serialize_pem()))
    }

    /// The key that signs certificates and the CRL: the issuing CA's (`issuing.key`), or on a
    /// hub of the first layout the agency CA's own (`ca.key`, see [`Pki::legacy_ca_key`]).
    fn load_issuer(&self) -> Result<Issuer<'static, KeyPair>, PkiError> {
        let issuing_key = self.dir.join(ISSUING_KEY);
        if issuing_key.exists() {
            let path = self.dir.join(ISSUING_CERT);
            let pem = fs::read_to_string(&path).map_err(io("read", &path))?;
            return load_ca_issuer(&pem, &path, &issuing_key);
        }
        let ca_key = self.dir.join(CA_KEY);
        if ca_key.exists() {
            return load_ca_issuer(&self.ca_pem, &self.ca_cert_path(), &ca_key);
        }
        Err(PkiError::NoIssuingKey {
            dir: self.dir.clone(),
        })
    }

    /// The CA private key of a hub of the first layout, where the agency CA signs node
    /// certificates itself and its key lies in the hub's PKI directory. `None` on a hub made
    /// by this version (root offline, issuing CA on the hub) or once the key was taken off
    /// with `civreg-hub pki root take-offline`.
    pub fn legacy_ca_key(&self) -> Option<PathBuf> {
        let key = self.dir.join(CA_KEY);
        (key.exists() && !self.dir.join(ISSUING_KEY).exists()).then_some(key)
    }

    /// The certificate client certificates chain to: the issuing CA's, or on a hub of the
    /// first layout the agency CA's.
    pub fn issuing_pem(&self) -> Result<String, PkiError> {
        let path = self.dir.join(ISSUING_CERT);
        match fs::read_to_string(&path) {
            Ok(s) => Ok(s),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(self.ca_pem.clone()),
            Err(e) => Err(PkiError::Io {
                action: "read",
                path,
                source: e,
            }),
        }
    }

    /// Whether this PKI has an issuing CA under an offline root (this version's layout).
    pub fn has_issuing_ca(&self) -> bool {
        self.dir.join(ISSUING_CERT).exists()
    }

    pub fn issuing_cert_path(&self) -> PathBuf {
        self.dir.join(ISSUING_CERT)
    }

    fn load_registry(&self) -> Result<Registry, PkiError> {
        let path = self.registry_path();
        let text = fs::read_to_string(&path).map_err(io("read", &path))?;
        serde_json::from_str(&text).map_err(|e| PkiError::Corrupt {
            path,
            reason: format!("not a valid registry ({e})"),
        })
    }

    fn save_registry(&self, registry: &Registry) -> Result<(), PkiError> {
        let path = self.registry_path();
        let mut json = serde_json::to_string_pretty(registry).map_err(|e| PkiError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        json.push('\n');
        write_atomic(&path, json.as_bytes(), false)
    }

    /// The CRL number of `crl.pem`, if it can be read.
    fn current_crl_number(&self) -> Option<u64> {
        let pem = fs::read(self.crl_path()).ok()?;
        let der = CertificateRevocationListDer::from_pem_slice(&pem).ok()?;
        let (_, crl) = x509_parser::parse_x509_crl(&der).ok()?;
        let bytes = crl.crl_number()?.to_bytes_be();
        if bytes.len() > 8 {
            return None;
        }
        Some(bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
    }
}

/// What `revoke` matches.
enum Selector {
    Serial(String),
    Identity(String),
}

impl Selector {
    fn parse(selector: &str) -> Result<Self, PkiError> {
        let s = selector.trim();
        if let Some(rest) = s.strip_prefix(URI_PREFIX) {
            if rest.starts_with("signer/") || rest.starts_with("app/") {
                return Selector::parse(rest);
            }
            return Ok(Selector::Identity(PeerIdentity::from_uri(s)?.uri()));
        }
        if s.contains('/') {
            let parts: Vec<&str> = s.split('/').collect();
            let identity = match parts.as_slice() {
                ["operator", name] => PeerIdentity::operator(name)?,
                ["signer", "hub"] => return Ok(Selector::Identity(signer::signer_uri(None))),
                ["app", municipality, node_id] => {
                    PeerIdentity::node(municipality, node_id)?;
                    return Ok(Selector::Identity(app::app_uri(municipality, node_id)));
                }
                ["signer", municipality, node_id] => {
                    PeerIdentity::node(municipality, node_id)?;
                    return Ok(Selector::Identity(signer::signer_uri(Some((
                        municipality,
                        node_id,
                    )))));
                }
                ["node", municipality, node_id] | [municipality, node_id] => {
                    PeerIdentity::node(municipality, node_id)?
                }
                _ => return Err(PkiError::NoMatch(selector.to_owned())),
            };
            return Ok(Selector::Identity(identity.uri()));
        }
        let hex_digits: String = s.chars().filter(|c| *c != ':').collect();
        if !hex_digits.is_empty() && hex_digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(Selector::Serial(hex_digits.to_ascii_lowercase()));
        }
        Err(PkiError::NoMatch(selector.to_owned()))
    }

    fn matches(&self, entry: &IssuedEntry) -> bool {
        match self {
            Selector::Serial(s) => {
                entry.serial.trim_start_matches('0') == s.trim_start_matches('0')
            }
            Selector::Identity(uri) => entry.identity == *uri,
        }
    }
}

fn check_operator_name(name: &str) -> Result<(), PkiError> {
    let ok = (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(PkiError::OperatorName(name.to_owned()))
    }
}

/// Each hub name as an IP address SAN if it parses as one, else as a DNS name SAN.
fn hub_sans(hub_names: &[String]) -> Result<Vec<(String, SanType)>, PkiError> {
    let mut names: Vec<String> = hub_names.iter().map(|n| n.trim().to_owned()).collect();
    if names.is_empty() {
        names = DEFAULT_HUB_NAMES.iter().map(|n| n.to_string()).collect();
    }
    let mut out: Vec<(String, SanType)> = Vec::new();
    for name in names {
        if out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let san = if let Ok(ip) = name.parse::<IpAddr>() {
            SanType::IpAddress(ip)
        } else {
            rustls_pki_types::DnsName::try_from(name.as_str())
                .map_err(|_| PkiError::HubName(name.clone()))?;
            // A wildcard or a trailing dot is a valid DnsName but not what a hub is called.
            if name.contains('*') || name.ends_with('.') {
                return Err(PkiError::HubName(name));
            }
            SanType::DnsName(
                name.as_str()
                    .try_into()
                    .map_err(|_| PkiError::HubName(name.clone()))?,
            )
        };
        out.push((name, san));
    }
    Ok(out)
}

fn common_name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

/// Loads a CA key and rebuilds its issuer from the CA certificate, checking they belong
/// together.
fn load_ca_issuer(
    ca_pem: &str,
    ca_path: &Path,
    key_path: &Path,
) -> Result<Issuer<'static, KeyPair>, PkiError> {
    let key_pem = fs::read_to_string(key_path).map_err(io("read", key_path))?;
    let key = KeyPair::from_pem(&key_pem).map_err(|e| PkiError::Corrupt {
        path: key_path.to_owned(),
        reason: format!("not a usable private key ({e})"),
    })?;
    let ca_der =
        CertificateDer::from_pem_slice(ca_pem.as_bytes()).map_err(|e| PkiError::Corrupt {
            path: ca_path.to_owned(),
            reason: format!("no certificate in it ({e})"),
        })?;
    let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).map_err(|e| PkiError::Corrupt {
        path: ca_path.to_owned(),
        reason: format!("unreadable certificate ({e})"),
    })?;
    if ca.public_key().raw != key.subject_public_key_info().as_slice() {
        return Err(PkiError::Corrupt {
            path: key_path.to_owned(),
            reason: format!(
                "the CA key does not belong to the CA certificate {}",
                ca_path
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            ),
        });
    }
    Issuer::from_ca_cert_der(&ca_der, key).map_err(|e| PkiError::Corrupt {
        path: ca_path.to_owned(),
        reason: format!("not usable as an issuer ({e})"),
    })
}

fn make_crl(
    issuer: &Issuer<'_, KeyPair>,
    registry: &Registry,
    now: OffsetDateTime,
) -> Result<String, PkiError> {
    let mut revoked_certs = Vec::new();
    for entry in &registry.certificates {
        if entry.status != CertStatus::Revoked {
            continue;
        }
        let serial = hex::decode(&entry.serial).map_err(|_| PkiError::Corrupt {
            path: PathBuf::from(REGISTRY),
            reason: format!("serial {:?} is not hex", entry.serial),
        })?;
        revoked_certs.push(RevokedCertParams {
            serial_number: SerialNumber::from_slice(&serial),
            revocation_time: entry.revoked_at.unwrap_or(now),
            reason_code: None,
            invalidity_date: None,
        });
    }
    let params = CertificateRevocationListParams {
        this_update: now,
        next_update: now + Duration::days(CRL_VALIDITY_DAYS),
        crl_number: SerialNumber::from(registry.crl_number),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    Ok(params.signed_by(issuer)?.pem()?)
}

/// 16 random bytes, first byte in 0x01..=0x7f: positive, and exactly 16 bytes in DER, so the
/// hex in the registry is byte for byte the serial in the certificate and in the CRL.
fn random_serial() -> Result<[u8; 16], PkiError> {
    let mut serial = [0u8; 16];
    SystemRandom::new()
        .fill(&mut serial)
        .map_err(|_| PkiError::Random)?;
    serial[0] = (serial[0] & 0x7f).max(1);
    Ok(serial)
}

fn fresh_serial(registry: &Registry) -> Result<[u8; 16], PkiError> {
    loop {
        let serial = random_serial()?;
        let hex = hex::encode(serial);
        if !registry.certificates.iter().any(|e| e.serial == hex) {
            return Ok(serial);
        }
    }
}

fn now_seconds() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    // Whole seconds, as in the certificate; a timestamp of "now" is always representable.
    OffsetDateTime::from_unix_timestamp(now.unix_timestamp()).unwrap_or(now)
}

fn window_from_days(days: u32) -> Result<(OffsetDateTime, OffsetDateTime), PkiError> {
    if days == 0 || days > MAX_VALIDITY_DAYS {
        return Err(PkiError::ValidityDays(days));
    }
    let now = now_seconds();
    Ok((now - BACKDATE, now + Duration::days(i64::from(days))))
}

fn check_window(
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<(OffsetDateTime, OffsetDateTime), PkiError> {
    let bad = || PkiError::ValidityWindow {
        not_before,
        not_after,
    };
    let nb = OffsetDateTime::from_unix_timestamp(not_before.unix_timestamp()).map_err(|_| bad())?;
    let na = OffsetDateTime::from_unix_timestamp(not_after.unix_timestamp()).map_err(|_| bad())?;
    let max = Duration::days(i64::from(MAX_VALIDITY_DAYS)) + BACKDATE;
    if na <= nb || na - nb > max || nb.year() < 1950 || na.year() > 9999 {
        return Err(bad());
    }
    Ok((nb, na))
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> PkiError {
    let path = path.to_owned();
    move |source| PkiError::Io {
        action,
        path,
        source,
    }
}

#[cfg(unix)]
fn set_private_dir(dir: &Path) -> Result<(), PkiError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(io("restrict permissions of", dir))
}

#[cfg(not(unix))]
fn set_private_dir(_dir: &Path) -> Result<(), PkiError> {
    Ok(())
}

/// Replaces `path` atomically and durably ([`civreg_runtime::fs::write_atomic`]), mode 0600
/// when `private`.
fn write_atomic(path: &Path, data: &[u8], private: bool) -> Result<(), PkiError> {
    let mode = if private {
        civreg_runtime::fs::Mode::Private
    } else {
        civreg_runtime::fs::Mode::Public
    };
    civreg_runtime::fs::write_atomic(path, data, mode).map_err(io("replace", path))
}

/// A lock file held while a command changes the PKI; removed when dropped.
struct Lock {
    path: PathBuf,
}

impl Lock {
    fn acquire(dir: &Path) -> Result<Lock, PkiError> {
        let path = dir.join(LOCK);
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    // The holder's pid, to help whoever finds a stale lock; best effort.
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(Lock { path });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if Instant::now() >= deadline {
                        return Err(PkiError::Busy { lock: path });
                    }
                    std::thread::sleep(StdDuration::from_millis(20));
                }
                Err(e) => {
                    return Err(PkiError::Io {
                        action: "create the lock file",
                        path,
                        source: e,
                    })
                }
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Formats a UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses exactly `YYYY-MM-DDTHH:MM:SSZ`; `None` for anything else.
pub fn parse_utc(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        let digits = &b[from..to];
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(
            digits
                .iter()
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0')),
        )
    };
    let year = i32::try_from(num(0, 4)?).ok()?;
    let month = Month::try_from(u8::try_from(num(5, 7)?).ok()?).ok()?;
    let day = u8::try_from(num(8, 10)?).ok()?;
    let hour = u8::try_from(num(11, 13)?).ok()?;
    let minute = u8::try_from(num(14, 16)?).ok()?;
    let second = u8::try_from(num(17, 19)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

mod utc_seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_utc(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_utc(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("{s:?} is not a time like 2026-01-31T12:00:00Z"))
        })
    }
}

mod utc_seconds_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&super::format_utc(*t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => super::parse_utc(&s).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!("{s:?} is not a time like 2026-01-31T12:00:00Z"))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator, so the "arbitrary input" tests need no extra crate.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn bytes(&mut self, max_len: usize) -> Vec<u8> {
            let len = (self.next() as usize) % (max_len + 1);
            (0..len).map(|_| self.next() as u8).collect()
        }
        fn string_from(&mut self, alphabet: &[u8], max_len: usize) -> String {
            let len = (self.next() as usize) % (max_len + 1);
            (0..len)
                .map(|_| alphabet[(self.next() as usize) % alphabet.len()] as char)
                .collect()
        }
    }

    #[test]
    fn utc_format_round_trips() {
        let t = parse_utc("2026-02-28T23:59:07Z").expect("valid time");
        assert_eq!(format_utc(t), "2026-02-28T23:59:07Z");
        let now = now_seconds();
        assert_eq!(parse_utc(&format_utc(now)), Some(now));
        for bad in [
            "",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00",
            "+026-01-01T00:00:00Z",
            "２026-01-01T00:00:0Z",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn utc_parser_never_panics() {
        let mut rng = XorShift(0x9e3779b97f4a7c15);
        for _ in 0..20_000 {
            let s = rng.string_from(b"0123456789-:TZ+ x\xc3", 24);
            let _ = parse_utc(&s);
            let raw = rng.bytes(24);
            let _ = parse_utc(&String::from_utf8_lossy(&raw));
        }
    }

    #[test]
    fn identity_uris_round_trip_and_are_strict() {
        let node = PeerIdentity::node("prishtine", "1").expect("valid node");
        assert_eq!(node.uri(), "civreg://node/prishtine/1");
        assert_eq!(node.to_string(), "node prishtine/1");
        assert_eq!(PeerIdentity::from_uri(&node.uri()).expect("parses"), node);
        let op = PeerIdentity::operator("a.krasniqi").expect("valid operator");
        assert_eq!(op.to_string(), "operator a.krasniqi");
        assert_eq!(PeerIdentity::from_uri(&op.uri()).expect("parses"), op);
        for bad in [
            "civreg://node/prishtine",
            "civreg://node/prishtine/1/x",
            "civreg://node/nowhere/1",
            "civreg://node/prishtine/Ws1",
            "civreg://node/prishtine/",
            "civreg://operator/",
            "civreg://operator/Ana",
            "civreg://operator/.hidden",
            "civreg://operator/a/b",
            "civreg://hub",
            "https://node/prishtine/1",
            "CIVREG://node/prishtine/1",
        ] {
            assert!(PeerIdentity::from_uri(bad).is_err(), "{bad:?}");
        }
        assert!(PeerIdentity::operator(&"a".repeat(32)).is_ok());
        assert!(PeerIdentity::operator(&"a".repeat(33)).is_err());
    }

    #[test]
    fn identity_parsers_never_panic() {
        let mut rng = XorShift(0x2545f4914f6cdd1d);
        for _ in 0..20_000 {
            let s = rng.string_from(b"civreg:/nodeoperatprishtn1._-\xc3\xab", 40);
            let _ = PeerIdentity::from_uri(&s);
            let _ = PeerIdentity::from_uri(&format!("civreg://{s}"));
            let _ = Selector::parse(&s);
        }
    }

    #[test]
    fn peer_identity_never_panics_on_arbitrary_der() {
        let mut rng = XorShift(0x853c49e6748fea9b);
        for _ in 0..5_000 {
            let mut der = rng.bytes(300);
            if der.len() > 2 && rng.next() % 2 == 0 {
                der[0] = 0x30; // a SEQUENCE, to get further into the parser
            }
            assert!(peer_identity(&der).is_err());
        }
    }

    #[test]
    fn selectors() {
        let uri = |s: &str| match Selector::parse(s) {
            Ok(Selector::Identity(u)) => u,
            Ok(Selector::Serial(x)) => panic!("{s:?} parsed as serial {x}"),
            Err(e) => panic!("{s:?}: {e}"),
        };
        assert_eq!(uri("prishtine/1"), "civreg://node/prishtine/1");
        assert_eq!(uri(" node/prishtine/1 "), "civreg://node/prishtine/1");
        assert_eq!(
            uri("civreg://node/prishtine/1"),
            "civreg://node/prishtine/1"
        );
        assert_eq!(uri("operator/ana"), "civreg://operator/ana");
        assert_eq!(uri("app/istog/1"), "civreg://app/istog/1");
        assert_eq!(uri("civreg://app/istog/1"), "civreg://app/istog/1");
        assert!(matches!(
            Selector::parse("app/nowhere/1"),
            Err(PkiError::UnknownMunicipality(_))
        ));
        match Selector::parse("0A:bc:01") {
            Ok(Selector::Serial(s)) => assert_eq!(s, "0abc01"),
            _ => panic!("serial not recognised"),
        }
        assert!(matches!(
            Selector::parse("nowhere/1"),
            Err(PkiError::UnknownMunicipality(_))
        ));
        assert!(matches!(Selector::parse("ana"), Err(PkiError::NoMatch(_))));
        assert!(matches!(Selector::parse(""), Err(PkiError::NoMatch(_))));
    }

    #[test]
    fn serials_are_positive_16_bytes() {
        for _ in 0..200 {
            let s = random_serial().expect("rng works");
            assert!(s[0] >= 1 && s[0] <= 0x7f);
        }
    }

    #[test]
    fn hub_names_become_ip_or_dns_sans() {
        let sans = hub_sans(&[]).expect("defaults");
        assert_eq!(sans.len(), 2);
        assert!(matches!(sans[0].1, SanType::DnsName(_)));
        assert!(matches!(sans[1].1, SanType::IpAddress(_)));
        let sans = hub_sans(&["hub.example.org".into(), "::1".into(), "10.0.0.5".into()])
            .expect("valid names");
        assert!(matches!(sans[0].1, SanType::DnsName(_)));
        assert!(matches!(sans[1].1, SanType::IpAddress(_)));
        assert!(matches!(sans[2].1, SanType::IpAddress(_)));
        for bad in ["", "hub example", "*.example.org", "hub..x", "hüb.example"] {
            assert!(
                matches!(hub_sans(&[bad.to_string()]), Err(PkiError::HubName(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn validity_windows() {
        assert!(window_from_days(0).is_err());
        assert!(window_from_days(826).is_err());
        assert!(window_from_days(825).is_ok());
        let now = now_seconds();
        assert!(check_window(now, now).is_err());
        assert!(check_window(now, now - Duration::days(1)).is_err());
        assert!(check_window(now - Duration::days(10), now - Duration::days(1)).is_ok());
        assert!(check_window(now, now + Duration::days(900)).is_err());
    }
}
