//! The clerk app's server certificate (issue 14): what `civreg-node serve` presents when it
//! serves the clerks of an office over the office network, over HTTPS.
//!
//! The agency issues it (`civreg-hub pki issue-app`, or `pki issue --app-name` into the
//! enrolment bundle): signed by the agency's issuing CA, for the host names and IP addresses
//! the office's PCs use, server authentication only. `civreg-node app-cert install DIR` (and
//! `init --bundle`/`enrol --bundle` when the bundle carries one) checks it and installs it into
//! `DATA_DIR/tls/app/` (`cert.pem` with its chain, `key.pem` mode 0600):
//!
//! - it chains to the agency CA this node trusts (`DATA_DIR/tls/ca.pem`, from its enrolment),
//!   is valid now and is for TLS servers (rustls' WebPKI verifier decides all three, as a
//!   browser would);
//! - it names at least one host (a DNS or IP name), and, when it names an office
//!   (`civreg://app/M/N`), this one;
//! - `key.pem` is the key the certificate is for.
//!
//! A running `serve` picks up a newly installed certificate for new connections within
//! [`RELOAD_EVERY`]: the server's certificate resolver ([`AppCert`]) looks at the two files'
//! stamps at most that often and loads them when they changed (a pair that does not match, a
//! key written but its certificate not yet, is skipped until it does).

use crate::sync::tls_dir;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;

/// How often a running server looks for a renewed certificate.
pub const RELOAD_EVERY: Duration = Duration::from_secs(1);
/// Warn when the app certificate expires within this many days.
pub const WARN_DAYS: i64 = 30;
/// A client gets this long to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most handshakes under way at once (more wait for a slot).
pub const MAX_HANDSHAKES: usize = 64;
/// The files of `civreg-hub pki issue-app`'s directory.
pub const SOURCE_CERT: &str = "app.pem";
pub const SOURCE_KEY: &str = "app.key";

/// `DATA_DIR/tls/app`: where the installed app certificate lives.
pub fn app_dir(data_dir: &Path) -> PathBuf {
    tls_dir(data_dir).join("app")
}

/// Why an app certificate is refused, or can not be served. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum AppCertError {
    #[error("could not read {path}: {why}; give the directory `civreg-hub pki issue-app` wrote (app.pem, app.key)")]
    Read { path: String, why: String },
    #[error("{path}: {why}; give the app.pem and app.key that `civreg-hub pki issue-app` wrote")]
    Unreadable { path: String, why: String },
    #[error(
        "this node trusts no agency CA yet (it is not enrolled): enrol it first \
         (`civreg-node enrol --bundle DIR`), then install the app certificate"
    )]
    NotEnrolled,
    #[error(
        "app.pem is not from the agency CA this node trusts ({0}): ask the agency for a \
         certificate made by `civreg-hub pki issue-app` on this node's hub"
    )]
    OtherCa(String),
    #[error("app.pem expired on {0}: ask the agency for a new one (`civreg-hub pki issue-app`)")]
    Expired(String),
    #[error(
        "app.pem is valid only from {0}: check this PC's clock, or wait until then to install it"
    )]
    NotYetValid(String),
    #[error(
        "app.pem is not a certificate for a TLS server ({0}): ask the agency for one made by \
         `civreg-hub pki issue-app`"
    )]
    NotServer(String),
    #[error(
        "app.pem names no host name or IP address: ask the agency for one with the names the \
         office's PCs use (`civreg-hub pki issue-app --name clerks.istog.rks --name 10.20.0.5`)"
    )]
    NoName,
    #[error(
        "app.pem is for {named}, but this node is {node}: ask the agency for this office's \
         (`civreg-hub pki issue-app --municipality {m} --node-id {n}`)"
    )]
    OtherOffice {
        named: String,
        node: String,
        m: String,
        n: String,
    },
    #[error(
        "app.key is not the key app.pem is for (files of two certificates mixed?): install the \
         app.pem and app.key that `civreg-hub pki issue-app` wrote together"
    )]
    KeyMismatch,
    #[error("could not install the app certificate into {path}: {source}; check the data directory's permissions and free space")]
    Install {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no clerk app certificate is installed, so the app can not serve {addr} (beyond this \
         PC, the app is served only over HTTPS): ask the agency for one (`civreg-hub pki \
         issue-app --municipality M --node-id N --name HOST --out DIR`), install it with \
         `civreg-node app-cert install DIR` and start `serve` again; or listen on this PC \
         only (a loopback address such as 127.0.0.1:8090)"
    )]
    NotInstalled { addr: String },
    #[error("the installed app certificate in {path} can not be served: {why}; install it again with `civreg-node app-cert install DIR`")]
    Broken { path: String, why: String },
}

/// What is known of an installed (or to be installed) app certificate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AppCertInfo {
    /// The DNS and IP names it is for.
    pub names: Vec<String>,
    /// `civreg://app/M/N`, when it names an office.
    pub identity: Option<String>,
    pub serial: String,
    /// Unix seconds.
    pub not_after: i64,
    pub days_left: i64,
}

fn now_s() -> i64 {
    (civreg_runtime::clock::now_ms() / 1000) as i64
}

/// The certificates of a PEM file, in order.
fn pem_chain(pem: &[u8], path: &str) -> Result<Vec<CertificateDer<'static>>, AppCertError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AppCertError::Unreadable {
            path: path.to_string(),
            why: format!("not a PEM certificate ({e})"),
        })?;
    if chain.is_empty() {
        return Err(AppCertError::Unreadable {
            path: path.to_string(),
            why: "no certificate in it".into(),
        });
    }
    Ok(chain)
}

/// Names, identity, serial and expiry of a certificate (DER).
fn info_of(der: &[u8], path: &str) -> Result<AppCertInfo, AppCertError> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|e| AppCertError::Unreadable {
            path: path.to_string(),
            why: format!("unreadable certificate ({e})"),
        })?;
    let mut names = Vec::new();
    let mut identity = None;
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for g in &san.value.general_names {
            match g {
                GeneralName::DNSName(d) => names.push(d.to_ascii_lowercase()),
                GeneralName::IPAddress(b) => {
                    let ip = match b.len() {
                        4 => <[u8; 4]>::try_from(*b).ok().map(std::net::IpAddr::from),
                        16 => <[u8; 16]>::try_from(*b).ok().map(std::net::IpAddr::from),
                        _ => None,
                    };
                    if let Some(ip) = ip {
                        names.push(ip.to_string());
                    }
                }
                GeneralName::URI(u) if u.starts_with("civreg://app/") => {
                    identity = Some(u.to_string())
                }
                _ => {}
            }
        }
    }
    let not_after = cert.validity().not_after.timestamp();
    Ok(AppCertInfo {
        names,
        identity,
        serial: hex::encode(cert.raw_serial()),
        not_after,
        days_left: (not_after - now_s()).div_euclid(86_400),
    })
}

/// The agency CA certificates this node trusts (`DATA_DIR/tls/ca.pem`, PEM).
pub fn trusted_ca(data_dir: &Path) -> Result<Vec<u8>, AppCertError> {
    std::fs::read(tls_dir(data_dir).join("ca.pem")).map_err(|_| AppCertError::NotEnrolled)
}

fn roots_of(pem: &[u8]) -> Result<rustls::RootCertStore, AppCertError> {
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_slice_iter(pem).flatten() {
        // One unusable certificate among several does not stop the others.
        let _ = roots.add(der);
    }
    if roots.is_empty() {
        return Err(AppCertError::NotEnrolled);
    }
    Ok(roots)
}

/// Checks `cert_pem` (the certificate and its chain) and `key_pem` as the module says, for
/// the node named `office` (`(municipality, node_id)`) that trusts the CA certificates of
/// `ca_pem`.
pub fn check(
    ca_pem: &[u8],
    office: (&str, &str),
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<AppCertInfo, AppCertError> {
    let chain = pem_chain(cert_pem, SOURCE_CERT)?;
    let info = info_of(&chain[0], SOURCE_CERT)?;
    if info.names.is_empty() {
        return Err(AppCertError::NoName);
    }
    let (m, n) = office;
    let me = format!("civreg://app/{m}/{n}");
    if let Some(named) = info.identity.as_ref().filter(|i| **i != me) {
        return Err(AppCertError::OtherOffice {
            named: named.trim_start_matches("civreg://app/").to_string(),
            node: format!("{m}/{n}"),
            m: m.to_string(),
            n: n.to_string(),
        });
    }
    let key_text = std::str::from_utf8(key_pem).map_err(|_| AppCertError::Unreadable {
        path: SOURCE_KEY.into(),
        why: "not a PEM key".into(),
    })?;
    let pair = rcgen::KeyPair::from_pem(key_text).map_err(|e| AppCertError::Unreadable {
        path: SOURCE_KEY.into(),
        why: format!("not a usable private key ({e})"),
    })?;
    let (_, leaf) =
        x509_parser::parse_x509_certificate(&chain[0]).map_err(|e| AppCertError::Unreadable {
            path: SOURCE_CERT.into(),
            why: format!("unreadable certificate ({e})"),
        })?;
    if leaf.public_key().subject_public_key.data.as_ref() != pair.public_key_raw() {
        return Err(AppCertError::KeyMismatch);
    }
    // The chain, the validity and the purpose, judged as a browser of an office PC that
    // trusts the agency's root would judge them.
    let roots = roots_of(ca_pem)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| AppCertError::OtherCa(e.to_string()))?;
    let name = ServerName::try_from(info.names[0].clone())
        .map_err(|e| AppCertError::NotServer(format!("its name {}: {e}", info.names[0])))?;
    let now = UnixTime::since_unix_epoch(Duration::from_secs(now_s().max(0) as u64));
    if let Err(e) = verifier.verify_server_cert(&chain[0], &chain[1..], &name, &[], now) {
        use rustls::CertificateError as C;
        let when = || civreg_cert::format_time(info.not_after);
        return Err(match e {
            rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
                AppCertError::Expired(when())
            }
            rustls::Error::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => {
                AppCertError::NotYetValid(civreg_cert::format_time(
                    leaf.validity().not_before.timestamp(),
                ))
            }
            rustls::Error::InvalidCertificate(
                C::InvalidPurpose | C::InvalidPurposeContext { .. },
            ) => AppCertError::NotServer(e.to_string()),
            other => AppCertError::OtherCa(other.to_string()),
        });
    }
    Ok(info)
}

/// Checks and installs the app certificate of directory `dir` (`app.pem`, `app.key`) for the
/// node of `data_dir` named `office`. The key is written first, mode 0600, then the
/// certificate, each atomically.
pub fn install(
    data_dir: &Path,
    office: (&str, &str),
    dir: &Path,
) -> Result<AppCertInfo, AppCertError> {
    let (cert, key) = read_source(dir)?;
    let info = check(&trusted_ca(data_dir)?, office, &cert, &key)?;
    write(data_dir, &cert, &key)?;
    Ok(info)
}

/// The files of a checked certificate and key in directory `dir`, for [`write`].
pub fn read_source(dir: &Path) -> Result<(Vec<u8>, Vec<u8>), AppCertError> {
    let read = |f: &str| {
        std::fs::read(dir.join(f)).map_err(|e| AppCertError::Read {
            path: dir.join(f).display().to_string(),
            why: e.to_string(),
        })
    };
    Ok((read(SOURCE_CERT)?, read(SOURCE_KEY)?))
}

/// Writes a certificate and key [`check`]ed before into `DATA_DIR/tls/app/`.
pub fn write(data_dir: &Path, cert: &[u8], key: &[u8]) -> Result<(), AppCertError> {
    let to = app_dir(data_dir);
    let err = |source: std::io::Error| AppCertError::Install {
        path: to.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&to).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    civreg_runtime::fs::write_atomic(&to.join("key.pem"), key, civreg_runtime::fs::Mode::Private)
        .map_err(err)?;
    civreg_runtime::fs::write_atomic(&to.join("cert.pem"), cert, civreg_runtime::fs::Mode::Public)
        .map_err(err)?;
    Ok(())
}

/// What `app-cert install` (and `enrol`) say of a certificate installed.
pub fn installed_text(info: &AppCertInfo) -> String {
    format!(
        "clerk app certificate installed for {} (serial {}, valid until {}): serve the office \
         network with `civreg-node serve --http-listen 0.0.0.0:8443`; a serve already serving \
         HTTPS presents it to new connections within a second",
        info.names.join(", "),
        info.serial,
        civreg_cert::format_time(info.not_after)
    )
}

/// The status line of the installed app certificate (for `civreg-node status`), when one is
/// installed: its names and expiry, with a warning within [`WARN_DAYS`].
pub fn status_line(data_dir: &Path) -> Option<String> {
    let info = installed(data_dir)?;
    let warn = match expiry_warning(&info) {
        Some(d) if d < 0 => " EXPIRED: ask the agency for a new one (civreg-hub pki issue-app)".to_string(),
        Some(d) => format!(" WARNING: expires in {d} days: ask the agency for a new one (civreg-hub pki issue-app)"),
        None => String::new(),
    };
    Some(format!(
        "clerk app cert:     {} until {}{warn}\n",
        info.names.join(", "),
        civreg_cert::format_time(info.not_after)
    ))
}

/// The installed app certificate, if any (unreadable counts as none).
pub fn installed(data_dir: &Path) -> Option<AppCertInfo> {
    let path = app_dir(data_dir).join("cert.pem");
    let pem = std::fs::read(&path).ok()?;
    let chain = pem_chain(&pem, "cert.pem").ok()?;
    info_of(&chain[0], "cert.pem").ok()
}

/// A warning for the people concerned when the installed app certificate expires within
/// [`WARN_DAYS`] (negative days: expired).
pub fn expiry_warning(info: &AppCertInfo) -> Option<i64> {
    (info.days_left <= WARN_DAYS).then_some(info.days_left)
}

type Stamp = (u64, u64, Option<SystemTime>);

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0;
    Some((ino, m.len(), m.modified().ok()))
}

struct Loaded {
    stamps: (Option<Stamp>, Option<Stamp>),
    checked: Instant,
    key: Arc<CertifiedKey>,
    info: AppCertInfo,
}

/// The installed certificate as a running server presents it, reloaded when it changes.
pub struct AppCert {
    dir: PathBuf,
    state: Mutex<Loaded>,
}

impl fmt::Debug for AppCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCert")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Reads the pair in `dir` into what rustls presents.
fn load_pair(dir: &Path) -> Result<(Arc<CertifiedKey>, AppCertInfo), AppCertError> {
    let broken = |why: String| AppCertError::Broken {
        path: dir.display().to_string(),
        why,
    };
    let cert = std::fs::read(dir.join("cert.pem")).map_err(|e| broken(format!("cert.pem: {e}")))?;
    let key = std::fs::read(dir.join("key.pem")).map_err(|e| broken(format!("key.pem: {e}")))?;
    let chain = pem_chain(&cert, "cert.pem").map_err(|e| broken(e.to_string()))?;
    let info = info_of(&chain[0], "cert.pem").map_err(|e| broken(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(&key)
        .map_err(|e| broken(format!("key.pem holds no private key ({e})")))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| broken(format!("key.pem: {e}")))?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .map_err(|_| broken("key.pem is not the key of cert.pem".into()))?;
    Ok((Arc::new(certified), info))
}

impl AppCert {
    /// The certificate installed in `data_dir`: `Ok(None)` when there is none.
    pub fn load(data_dir: &Path) -> Result<Option<Arc<AppCert>>, AppCertError> {
        let dir = app_dir(data_dir);
        if !dir.join("cert.pem").exists() {
            return Ok(None);
        }
        let stamps = (stamp(&dir.join("cert.pem")), stamp(&dir.join("key.pem")));
        let (key, info) = load_pair(&dir)?;
        Ok(Some(Arc::new(AppCert {
            dir,
            state: Mutex::new(Loaded {
                stamps,
                checked: Instant::now(),
                key,
                info,
            }),
        })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Loaded> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The pair to present now: reloaded when the files changed since the last look (at
    /// most every [`RELOAD_EVERY`]).
    fn current(&self) -> Arc<CertifiedKey> {
        let mut st = self.state();
        if st.checked.elapsed() >= RELOAD_EVERY {
            st.checked = Instant::now();
            let stamps = (
                stamp(&self.dir.join("cert.pem")),
                stamp(&self.dir.join("key.pem")),
            );
            if stamps != st.stamps {
                match load_pair(&self.dir) {
                    Ok((key, info)) => {
                        tracing::info!(serial = %info.serial, "the clerk app presents its newly installed certificate to new connections");
                        st.key = key;
                        st.info = info;
                        st.stamps = stamps;
                    }
                    // Half installed (the key, not yet its certificate): looked at again soon.
                    Err(e) => {
                        tracing::warn!(error = %e, "the clerk app keeps its certificate for now")
                    }
                }
            }
        }
        st.key.clone()
    }

    /// The certificate presented now.
    pub fn info(&self) -> AppCertInfo {
        self.current();
        self.state().info.clone()
    }

    /// The TLS configuration of the app: this certificate (and its renewals), TLS 1.2 and
    /// 1.3, HTTP/1.1.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<rustls::ServerConfig>, AppCertError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| AppCertError::Broken {
                path: self.dir.display().to_string(),
                why: e.to_string(),
            })?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for AppCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// A listener that hands the app TLS connections: it accepts TCP connections and completes
/// their handshakes off the accept loop (each within [`HANDSHAKE_TIMEOUT`], at most
/// [`MAX_HANDSHAKES`] at once), so a slow or silent client holds up no one. A client that
/// does not speak TLS (plain HTTP) fails its handshake and is closed.
pub struct TlsListener {
    rx: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, rx) = tokio::sync::mpsc::channel(MAX_HANDSHAKES);
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_HANDSHAKES));
        let task = tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of file descriptors and the like: pass, and try again.
                        tracing::debug!(error = %e, "clerk app: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    return;
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            drop(slot);
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "clerk app: TLS handshake failed")
                        }
                        Err(_) => tracing::debug!(%peer, "clerk app: TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { rx, local, task })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The accept loop ended: no connection will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn base64(data: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in data.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                if i <= c.len() {
                    out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    proptest! {
        /// Whatever the files hold, `check` answers with an error, never a panic.
        #[test]
        fn check_never_panics(cert in proptest::collection::vec(any::<u8>(), 0..600),
                              key in proptest::collection::vec(any::<u8>(), 0..300),
                              ca in proptest::collection::vec(any::<u8>(), 0..300),
                              wrap in any::<bool>()) {
            let pem = |der: &[u8], label: &str| {
                use std::fmt::Write;
                let b64 = base64(der);
                let mut s = format!("-----BEGIN {label}-----\n");
                for chunk in b64.as_bytes().chunks(64) {
                    let _ = writeln!(s, "{}", String::from_utf8_lossy(chunk));
                }
                let _ = writeln!(s, "-----END {label}-----");
                s.into_bytes()
            };
            let (cert, key, ca) = if wrap {
                (pem(&cert, "CERTIFICATE"), pem(&key, "PRIVATE KEY"), pem(&ca, "CERTIFICATE"))
            } else {
                (cert, key, ca)
            };
            prop_assert!(check(&ca, ("istog", "1"), &cert, &key).is_err());
        }
    }
}
