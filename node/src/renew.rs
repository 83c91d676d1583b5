//! Renewal of the office's client certificate (issue 17 part B), over the live mTLS channel.
//!
//! The node makes a new ECDSA P-256 key and a signing request naming its own identity
//! (`civreg://node/M/ID`, from `tls/bundle.json`); the hub's `Renew` call answers with a
//! certificate for that key. The private key never leaves this PC. A renewal starts when the
//! certificate expires within [`RENEW_BEFORE_DAYS`], or when the hub's heartbeat says an
//! operator requires it (`civreg-hub pki require-renewal`).
//!
//! **Installation is atomic.** The new key, certificate and CA go to `key.pem.new`,
//! `cert.pem.new` and `ca.pem.new` (each written to a temporary file, fsynced, renamed, then the
//! directory fsynced), `cert.pem.new` last: its presence means the set is complete. Then the
//! key and CA are renamed into place and `cert.pem.new` last, and the directory is fsynced.
//! [`finish_install`], run before every connection, rolls an interrupted installation forward
//! (when `cert.pem.new` exists) or removes its leftovers, so `key.pem` and `cert.pem` always
//! belong together at the next connection.

use crate::sync::{tls_dir, Bundle, SyncError};
use civreg_proto::v1::sync_client::SyncClient;
use civreg_proto::v1::RenewRequest;
use rcgen::{CertificateParams, KeyPair, SanType, PKCS_ECDSA_P256_SHA256};
use std::io::ErrorKind;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// A node starts renewing this many days before its certificate expires.
pub const RENEW_BEFORE_DAYS: i64 = 30;
/// After a failed renewal, the node asks again after this long (a requirement or an expiry
/// does not go away; a hub that refuses is not asked every round).
pub const RETRY_AFTER: Duration = Duration::from_secs(600);

/// When the last renewal of this process failed.
static LAST_FAILURE: Mutex<Option<Instant>> = Mutex::new(None);

/// What a renewal installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renewal {
    pub serial: String,
    /// Unix seconds.
    pub not_after: i64,
}

/// Seconds since the epoch at which the installed certificate expires.
pub fn cert_not_after(data_dir: &Path) -> Option<i64> {
    let pem = std::fs::read(tls_dir(data_dir).join("cert.pem")).ok()?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).ok()?;
    let cert = pem.parse_x509().ok()?;
    Some(cert.validity().not_after.timestamp())
}

/// Whether the node should renew now: an operator requires it, or the certificate expires
/// within [`RENEW_BEFORE_DAYS`] of `now_s` (Unix seconds). Not again within [`RETRY_AFTER`] of
/// a failure.
pub fn due(data_dir: &Path, required: bool, now_s: i64) -> bool {
    let recently_failed = LAST_FAILURE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .is_some_and(|t| t.elapsed() < RETRY_AFTER);
    if recently_failed {
        return false;
    }
    required || cert_not_after(data_dir).is_some_and(|na| na - now_s <= RENEW_BEFORE_DAYS * 86_400)
}

/// Asks the hub for a new certificate over `channel` and installs it. A failure leaves the
/// current certificate in place (it is still valid) and is retried after [`RETRY_AFTER`].
pub async fn renew(channel: Channel, data_dir: &Path) -> Result<Renewal, SyncError> {
    let r = renew_inner(channel, data_dir).await;
    *LAST_FAILURE.lock().unwrap_or_else(|p| p.into_inner()) = r.is_err().then(Instant::now);
    r
}

async fn renew_inner(channel: Channel, data_dir: &Path) -> Result<Renewal, SyncError> {
    let dir = tls_dir(data_dir);
    let bad = |why: String| SyncError::Bundle {
        path: dir.clone(),
        why,
    };
    let bundle: Bundle = crate::sync::load_bundle(data_dir)?;
    let (Some(m), Some(n)) = (bundle.municipality.as_deref(), bundle.node_id.as_deref()) else {
        return Err(bad("bundle.json names no municipality and node id".into()));
    };
    let uri = format!("civreg://node/{m}/{n}");
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|e| bad(format!("could not make a new key: {e}")))?;
    let mut params = CertificateParams::default();
    params.subject_alt_names = vec![SanType::URI(
        uri.as_str()
            .try_into()
            .map_err(|e| bad(format!("identity {uri}: {e}")))?,
    )];
    let csr = params
        .serialize_request(&key)
        .map_err(|e| bad(format!("could not make the signing request: {e}")))?;
    let reply = SyncClient::new(channel)
        .renew(RenewRequest {
            csr_der: csr.der().to_vec(),
        })
        .await
        .map_err(|s| SyncError::Refused {
            code: s.code(),
            message: format!("certificate renewal: {}", s.message()),
        })?
        .into_inner();
    // Check what came back before it replaces anything: this key, this identity.
    let (_, pem) = x509_parser::pem::parse_x509_pem(reply.cert_pem.as_bytes())
        .map_err(|e| bad(format!("the hub's new certificate is not PEM: {e}")))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| bad(format!("the hub's new certificate is unreadable: {e}")))?;
    if cert.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        return Err(bad(
            "the hub's new certificate is not for this node's new key; the old one stays in use"
                .into(),
        ));
    }
    let names_me = crate::renew::names_uri(&cert, &uri);
    if !names_me {
        return Err(bad(format!(
            "the hub's new certificate does not name {uri}; the old one stays in use"
        )));
    }
    let not_after = cert.validity().not_after.timestamp();
    let ca = (!reply.ca_pem.is_empty()
        && x509_parser::pem::parse_x509_pem(reply.ca_pem.as_bytes()).is_ok())
    .then_some(reply.ca_pem.as_bytes());
    let key_pem = key.serialize_pem();
    tokio::task::block_in_place(|| {
        install(&dir, reply.cert_pem.as_bytes(), key_pem.as_bytes(), ca)
    })
    .map_err(|e| bad(format!("could not install the new certificate: {e}")))?;
    tracing::info!(serial = %reply.serial, not_after, "certificate renewed and installed; the next connection uses it");
    Ok(Renewal {
        serial: reply.serial,
        not_after,
    })
}

/// Installs a new certificate, its key and (when given) the CA set into the TLS directory
/// `dir`, atomically as the module describes.
pub fn install(dir: &Path, cert: &[u8], key: &[u8], ca: Option<&[u8]>) -> std::io::Result<()> {
    finish_install(dir)?;
    write_synced(&dir.join("key.pem.new"), key, true)?;
    if let Some(ca) = ca {
        write_synced(&dir.join("ca.pem.new"), ca, false)?;
    }
    write_synced(&dir.join("cert.pem.new"), cert, false)?;
    finish_install(dir)
}

/// Completes an installation that a crash interrupted, or removes a half-written one.
pub fn finish_install(dir: &Path) -> std::io::Result<()> {
    let staged = dir.join("cert.pem.new");
    if staged.exists() {
        for f in ["key.pem", "ca.pem"] {
            let new = dir.join(format!("{f}.new"));
            if new.exists() {
                std::fs::rename(&new, dir.join(f))?;
            }
        }
        std::fs::rename(&staged, dir.join("cert.pem"))?;
        sync_dir(dir)?;
    } else {
        for f in ["key.pem.new", "ca.pem.new"] {
            match std::fs::remove_file(dir.join(f)) {
                Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Writes `path` through a temporary file that is fsynced and renamed, then fsyncs the
/// directory ([`civreg_runtime::fs::write_atomic`]); mode 0600 when `private`.
pub(crate) fn write_synced(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    let mode = if private {
        civreg_runtime::fs::Mode::Private
    } else {
        civreg_runtime::fs::Mode::Public
    };
    civreg_runtime::fs::write_atomic(path, bytes, mode)
}

use civreg_runtime::fs::sync_dir;

/// Whether `cert` names `uri` among its subject alternative names (a node's identity,
/// `civreg://node/MUNICIPALITY/NODE_ID`): checked of a renewed certificate and of a bundle's.
pub(crate) fn names_uri(cert: &x509_parser::certificate::X509Certificate<'_>, uri: &str) -> bool {
    cert.subject_alternative_name()
        .ok()
        .flatten()
        .is_some_and(|san| {
            san.value
                .general_names
                .iter()
                .any(|g| matches!(g, x509_parser::extensions::GeneralName::URI(u) if *u == uri))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(dir: &Path, f: &str) -> String {
        std::fs::read_to_string(dir.join(f)).unwrap_or_default()
    }

    #[test]
    fn an_install_interrupted_after_staging_is_completed_and_a_partial_one_dropped() {
        let d = tempfile::tempdir().expect("temp dir");
        let dir = d.path();
        for (f, v) in [("cert.pem", "c1"), ("key.pem", "k1"), ("ca.pem", "a1")] {
            std::fs::write(dir.join(f), v).expect("write");
        }
        // Crash before cert.pem.new: the old pair stays, the stray key goes.
        std::fs::write(dir.join("key.pem.new"), "k2").expect("write");
        finish_install(dir).expect("finish");
        assert_eq!(
            (read(dir, "cert.pem"), read(dir, "key.pem")),
            ("c1".into(), "k1".into())
        );
        assert!(!dir.join("key.pem.new").exists());
        // Crash after the key was renamed but before the certificate: rolled forward.
        std::fs::write(dir.join("key.pem"), "k3").expect("write");
        std::fs::write(dir.join("cert.pem.new"), "c3").expect("write");
        finish_install(dir).expect("finish");
        assert_eq!(
            (read(dir, "cert.pem"), read(dir, "key.pem")),
            ("c3".into(), "k3".into())
        );
        // A whole install.
        install(dir, b"c4", b"k4", Some(b"a4")).expect("install");
        assert_eq!(
            (
                read(dir, "cert.pem"),
                read(dir, "key.pem"),
                read(dir, "ca.pem")
            ),
            ("c4".into(), "k4".into(), "a4".into())
        );
        let left: Vec<_> = std::fs::read_dir(dir)
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".new") || n.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("key.pem"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key is private");
        }
    }
}
