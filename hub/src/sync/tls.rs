//! TLS for the gRPC port: terminated here with `tokio_rustls`, not tonic's built-in TLS, because
//! the client verifier must carry the CRL. Each new connection uses the current `ServerConfig`,
//! rebuilt whenever `crl.pem`, the hub's certificate or the issuing CA's certificate changes on
//! disk, so `civreg-hub pki revoke` and `pki renew-hub` take effect without a restart. A
//! connection that fails the handshake (no certificate, another CA, expired, revoked) never
//! reaches a gRPC handler.

use crate::metrics::Metrics;
use crate::pki::Pki;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tracing::{info, warn};

/// How long a client may take to finish the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The rustls server config, rebuilt when the content of the CRL file, the hub's certificate
/// (`civreg-hub pki renew-hub`) or the issuing CA's certificate changes (compared by content,
/// not modification time, so two revocations within one timestamp tick are both seen).
pub struct TlsReloader {
    pki: Pki,
    admission: Arc<crate::pki::Admission>,
    crl: PathBuf,
    current: Mutex<(Option<Vec<u8>>, Arc<rustls::ServerConfig>)>,
}

impl TlsReloader {
    pub fn new(
        pki: Pki,
        admission: Arc<crate::pki::Admission>,
    ) -> Result<TlsReloader, crate::pki::PkiError> {
        let crl = pki.crl_path();
        let content = Self::watched(&pki);
        let cfg = Arc::new(pki.server_config_with(admission.clone())?);
        Ok(TlsReloader {
            pki,
            admission,
            crl,
            current: Mutex::new((content, cfg)),
        })
    }

    /// What the configuration is built from: CRL, hub certificate (its key is written before
    /// it, so a new certificate comes with its key), issuing CA certificate.
    fn watched(pki: &Pki) -> Option<Vec<u8>> {
        let mut all = std::fs::read(pki.crl_path()).ok()?;
        all.extend(std::fs::read(pki.hub_cert_path()).ok()?);
        all.extend(std::fs::read(pki.issuing_cert_path()).unwrap_or_default());
        // The root, and a CA rollover's new issuing CA and CRL.
        all.extend(pki.rollover_watched());
        Some(all)
    }

    fn config(&self) -> Arc<rustls::ServerConfig> {
        let content = Self::watched(&self.pki);
        let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if content != cur.0 {
            match self.pki.server_config_with(self.admission.clone()) {
                Ok(cfg) => {
                    info!(crl = %self.crl.display(), "revocation list or hub certificate changed: new TLS config in force");
                    *cur = (content, Arc::new(cfg));
                }
                // Keep refusing with the old config rather than serving without a CRL.
                Err(e) => {
                    warn!(error = %e, "could not reload the revocation list; keeping the previous one")
                }
            }
        }
        cur.1.clone()
    }
}

/// After a refused handshake the alert has been written; close our side and read what the
/// client still sends for a moment, so the socket is not reset before the alert reaches it.
async fn linger(mut io: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = io.shutdown().await;
    let mut buf = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        while let Ok(n) = io.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// A connection that passed the handshake: counted by the metrics while open, and closed on
/// revocation or when no HTTP/2 preface comes (`live.rs`).
pub type Connection = crate::live::Guarded<crate::metrics::Tracked<tokio::net::TcpStream>>;

/// Accepts TCP connections on `listener` and hands each one that completes the TLS handshake
/// (with the configuration in force at that moment) to the returned stream, for tonic's
/// `serve_with_incoming_shutdown`. The task runs until aborted.
pub fn accept(
    listener: TcpListener,
    reloader: Arc<TlsReloader>,
    metrics: Arc<Metrics>,
    conn_admission: Arc<crate::pki::Admission>,
    handshake_timeout: Duration,
) -> (
    tokio::task::JoinHandle<()>,
    mpsc::Receiver<Result<Connection, std::io::Error>>,
) {
    let (tx, rx) = mpsc::channel(64);
    let accept = tokio::spawn(async move {
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = tokio_rustls::TlsAcceptor::from(reloader.config());
            let tx = tx.clone();
            let metrics = metrics.clone();
            let admission = conn_admission.clone();
            tokio::spawn(async move {
                let accept = acceptor.accept(tcp).into_fallible();
                match tokio::time::timeout(handshake_timeout, accept).await {
                    Ok(Ok(tls)) => {
                        let leaf = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
                        let leaf = leaf.map(|c| c.as_ref().to_vec());
                        // metrics: counts the node as connected while the connection is open.
                        let tls = metrics.track(tls);
                        // Closed on revocation, or when no HTTP/2 preface comes (live.rs).
                        let tls = crate::live::Guarded::new(tls, leaf.as_deref(), admission);
                        let _ = tx.send(Ok::<_, std::io::Error>(tls)).await;
                    }
                    Ok(Err((e, io))) => {
                        warn!(%peer, reason = %e, "TLS handshake refused");
                        metrics.handshake_failed(crate::metrics::handshake_failure_reason(&e));
                        linger(io).await;
                    }
                    Err(_) => {
                        warn!(%peer, "TLS handshake timed out");
                        metrics.handshake_failed("timeout");
                    }
                }
            });
        }
    });
    (accept, rx)
}
