//! The hub list an office syncs with (issue 19 part 3): its enrolment bundle's, until a hub
//! sends another.
//!
//! Every heartbeat reply carries the hub list an operator last set (`civreg-hub hub-urls set`,
//! else `hub_urls` of the hub's config; empty from a hub that has none, or an older hub: no
//! news). A list that differs from the one in use is checked before it is taken:
//! - [`civreg_shared::hubs::check_list`]: at most [`civreg_shared::hubs::MAX_HUBS`] addresses,
//!   each `https://HOST[:PORT]`, none twice;
//! - every HOST is named by the hub certificate this office trusts: the one the hub that sent
//!   the list presents, verified against `tls/ca.pem` in a TLS handshake of its own
//!   ([`hub_cert_names`]). A host it does not name would be refused at every connection.
//!
//! A list taken is written durably to `tls/hubs.json` ([`Held`]) with the hub that sent it and
//! when, and is used instead of the bundle's from the worker's next round (the worker reads
//! the list before every round: [`in_use`]); it survives a restart. A list refused is logged
//! with the reason and kept beside it (for `civreg-node status`), and the list in use stays;
//! the same list is checked again only after [`RECHECK_AFTER`] (a renewed hub certificate may
//! name the host by then). A new bundle (`init --bundle`, `enrol --bundle`) is the operator's
//! word and forgets the hub's list ([`forget`]); the hub's next heartbeat brings its list
//! again.

use crate::sync::{self, tls_dir, SyncError};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// The file, in the node's `tls/` directory.
pub const FILE: &str = "hubs.json";

/// A list refused is checked again after this long, if the hub still sends it.
pub const RECHECK_AFTER: Duration = Duration::from_secs(600);

/// A list a hub sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    pub urls: Vec<String>,
    /// The address of the hub that sent it, as this office dialled it.
    pub by: String,
    /// When it came (Unix ms).
    pub at_ms: u64,
}

/// A list refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    #[serde(flatten)]
    pub list: Sent,
    pub why: String,
}

/// `tls/hubs.json`: what the hubs sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// The list taken: used instead of the bundle's.
    #[serde(default)]
    pub taken: Option<Sent>,
    /// The last list refused.
    #[serde(default)]
    pub refused: Option<Refused>,
}

/// Where the list in use came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Origin {
    /// The enrolment bundle.
    Bundle,
    /// A hub's heartbeat: which hub (its address) and when.
    Hub { by: String, at_ms: u64 },
}

/// The hub list in use, where it came from, and the last list refused (for `status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InUse {
    pub urls: Vec<String>,
    #[serde(flatten)]
    pub origin: Origin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<Refused>,
}

/// What the hubs sent, as kept (nothing when the file is missing or unreadable: the bundle's
/// list applies).
pub fn read(data_dir: &Path) -> Held {
    let path = tls_dir(data_dir).join(FILE);
    match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_else(|e| {
            tracing::warn!(path = %path.display(), error = %e, "the hub list a hub sent is unreadable; the bundle's is used until a hub sends it again");
            Held::default()
        }),
        Err(_) => Held::default(),
    }
}

fn write(data_dir: &Path, held: &Held) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(held).map_err(std::io::Error::other)?;
    crate::renew::write_synced(&tls_dir(data_dir).join(FILE), &json, false)
}

/// The hub list in use: the one a hub sent and this office took, else the bundle's.
pub fn in_use(data_dir: &Path) -> Result<InUse, SyncError> {
    let held = read(data_dir);
    let refused = held.refused.clone();
    if let Some(s) = held
        .taken
        .filter(|s| civreg_shared::hubs::check_list(&s.urls).is_ok())
    {
        return Ok(InUse {
            urls: s.urls,
            origin: Origin::Hub {
                by: s.by,
                at_ms: s.at_ms,
            },
            refused,
        });
    }
    let b = sync::load_bundle(data_dir)?;
    b.check_hubs().map_err(|e| SyncError::Bundle {
        path: tls_dir(data_dir).join("bundle.json"),
        why: e.to_string(),
    })?;
    Ok(InUse {
        urls: b.hubs(),
        origin: Origin::Bundle,
        refused,
    })
}

/// Forgets what the hubs sent: a new bundle's list applies (`init|enrol --bundle`).
pub fn forget(data_dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(tls_dir(data_dir).join(FILE)) {
        Ok(()) => civreg_runtime::fs::sync_dir(&tls_dir(data_dir)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// What became of a list a hub sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// Empty (no news), or the list in use.
    Same,
    /// Taken: the worker uses it from its next round.
    Taken,
    /// Refused, for the reason given (logged, and kept for `status`).
    Refused(String),
    /// Refused before, not checked again yet.
    RefusedBefore,
    /// Not checked now (the hub's certificate could not be read): asked again next heartbeat.
    Unchecked(String),
}

/// A hub's name as its certificate gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertName {
    Dns(String),
    Ip(std::net::IpAddr),
}

/// The DNS names and IP addresses a certificate (DER) names.
pub fn names_of(der: &[u8]) -> Result<Vec<CertName>, String> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("the hub's certificate is unreadable: {e}"))?;
    let san = cert
        .subject_alternative_name()
        .map_err(|e| format!("the hub's certificate names are unreadable: {e}"))?;
    let mut out = Vec::new();
    for g in san
        .map(|s| s.value.general_names.clone())
        .unwrap_or_default()
    {
        match g {
            GeneralName::DNSName(d) => out.push(CertName::Dns(d.to_ascii_lowercase())),
            GeneralName::IPAddress(b) => {
                if let Ok(a) = <[u8; 4]>::try_from(b) {
                    out.push(CertName::Ip(a.into()));
                } else if let Ok(a) = <[u8; 16]>::try_from(b) {
                    out.push(CertName::Ip(a.into()));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Whether `names` carries `host` (a DNS name, one `*.` wildcard label at most, or an IP
/// address), as a TLS client checks it.
fn named(names: &[CertName], host: &str) -> bool {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return names.contains(&CertName::Ip(ip));
    }
    let host = host.to_ascii_lowercase();
    names.iter().any(|n| match n {
        CertName::Dns(d) if *d == host => true,
        CertName::Dns(d) => d.strip_prefix("*.").is_some_and(|rest| {
            host.split_once('.')
                .is_some_and(|(first, after)| !first.is_empty() && after == rest)
        }),
        CertName::Ip(_) => false,
    })
}

/// Checks a list a hub sent: well formed, bounded, and every host named by `names` (the hub
/// certificate this office trusts). The reason, when refused, says what and what to do.
pub fn check(urls: &[String], names: &[CertName]) -> Result<(), String> {
    civreg_shared::hubs::check_list(urls).map_err(|e| e.to_string())?;
    for u in urls {
        let host = civreg_shared::hubs::host(u);
        if !named(names, host) {
            let carried: Vec<String> = names
                .iter()
                .map(|n| match n {
                    CertName::Dns(d) => d.clone(),
                    CertName::Ip(a) => a.to_string(),
                })
                .collect();
            return Err(format!(
                "hub address {u}: the hub's certificate does not name {host} (it names {}), so this office could not connect to it; the agency must renew the hub certificate with that name (`civreg-hub pki renew-hub`) or correct the list (`civreg-hub hub-urls set`)",
                carried.join(", ")
            ));
        }
    }
    Ok(())
}

/// The list a hub sent, cut to what is worth keeping of a refused one (a hostile list must
/// not fill the disk or the logs).
fn bounded(urls: &[String]) -> Vec<String> {
    urls.iter()
        .take(civreg_shared::hubs::MAX_HUBS + 1)
        .map(|u| {
            u.chars()
                .take(civreg_shared::hubs::MAX_HUB_URL_BYTES)
                .collect()
        })
        .collect()
}

/// Takes in the list `urls` that the hub at `by` sent in a heartbeat reply (see the module
/// documentation). `now_ms`: when it came.
pub async fn offered(data_dir: &Path, by: &str, urls: &[String], now_ms: u64) -> Offer {
    if urls.is_empty() {
        return Offer::Same;
    }
    let current = match tokio::task::block_in_place(|| in_use(data_dir)) {
        Ok(c) => c,
        Err(e) => return Offer::Unchecked(e.to_string()),
    };
    if current.urls == urls {
        return Offer::Same;
    }
    let mut held = tokio::task::block_in_place(|| read(data_dir));
    if let Some(r) = &held.refused {
        if r.list.urls == urls
            && now_ms.saturating_sub(r.list.at_ms) < RECHECK_AFTER.as_millis() as u64
        {
            return Offer::RefusedBefore;
        }
    }
    let verdict = match civreg_shared::hubs::check_list(urls) {
        Err(e) => Err(e.to_string()),
        Ok(()) => match hub_cert_names(data_dir, by).await {
            Ok(names) => check(urls, &names),
            Err(why) => {
                tracing::warn!(hub = %by, %why, "the hub sent a new hub list, but its certificate could not be read to check it; asked again at the next heartbeat");
                return Offer::Unchecked(why);
            }
        },
    };
    let sent = Sent {
        urls: bounded(urls),
        by: by.to_string(),
        at_ms: now_ms,
    };
    let offer = match verdict {
        Ok(()) => {
            tracing::info!(hub = %by, before = ?current.urls, after = ?urls, "the hub list changed: the next sync round uses the new list");
            held.taken = Some(sent);
            held.refused = None;
            Offer::Taken
        }
        Err(why) => {
            tracing::warn!(hub = %by, hubs = ?sent.urls, %why, "the hub sent a hub list that is refused; the list in use is kept");
            held.refused = Some(Refused {
                list: sent,
                why: why.clone(),
            });
            Offer::Refused(why)
        }
    };
    if let Err(e) = tokio::task::block_in_place(|| write(data_dir, &held)) {
        tracing::warn!(error = %e, "could not keep the hub list a hub sent; taken again at the next heartbeat");
        return Offer::Unchecked(e.to_string());
    }
    offer
}

/// The names of the certificate the hub at `hub_url` presents, verified against this
/// office's trusted roots (`tls/ca.pem`) and the host dialled, in a TLS handshake of its own
/// (the gRPC channel does not show the peer's certificate).
pub async fn hub_cert_names(data_dir: &Path, hub_url: &str) -> Result<Vec<CertName>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let dir = tls_dir(data_dir);
    let uri: tonic::transport::Uri = hub_url
        .parse()
        .map_err(|e| format!("not a hub address: {e}"))?;
    let host = uri.host().unwrap_or("localhost");
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(443);
    let mut roots = rustls::RootCertStore::empty();
    let ca =
        CertificateDer::pem_file_iter(dir.join("ca.pem")).map_err(|e| format!("ca.pem: {e}"))?;
    for c in ca {
        let c = c.map_err(|e| format!("ca.pem: {e}"))?;
        roots.add(c).map_err(|e| format!("ca.pem: {e}"))?;
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("cert.pem"))
        .map_err(|e| format!("cert.pem: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cert.pem: {e}"))?;
    let key =
        PrivateKeyDer::from_pem_file(dir.join("key.pem")).map_err(|e| format!("key.pem: {e}"))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from(host.clone()).map_err(|e| e.to_string())?;
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg));
    let handshake = async {
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| e.to_string())?;
        connector
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))
    };
    let tls = tokio::time::timeout(sync::HANDSHAKE_TIMEOUT, handshake)
        .await
        .map_err(|_| "no TLS handshake in time".to_string())??;
    let der = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or("the hub presented no certificate")?
        .to_vec();
    names_of(&der)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    fn cert_naming(names: &[&str]) -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("params")
            .self_signed(&key)
            .expect("cert")
            .der()
            .to_vec()
    }

    #[test]
    fn every_host_must_be_named_by_the_hub_certificate() {
        let names = names_of(&cert_naming(&["localhost", "127.0.0.1", "*.civreg.rks"])).unwrap();
        assert!(
            names.contains(&CertName::Ip("127.0.0.1".parse().unwrap())),
            "{names:?}"
        );
        check(
            &v(&[
                "https://localhost:7443",
                "https://127.0.0.1:7444",
                "https://hub-b.CIVREG.rks:7443",
            ]),
            &names,
        )
        .unwrap();
        let e = check(
            &v(&["https://localhost:1", "https://hub-c.example:1"]),
            &names,
        )
        .unwrap_err();
        assert!(e.contains("does not name hub-c.example"), "{e}");
        assert!(e.contains("civreg-hub hub-urls set"), "{e}");
        // A wildcard covers one label only; an address is not a name.
        assert!(check(&v(&["https://a.b.civreg.rks:1"]), &names).is_err());
        assert!(check(&v(&["https://127.0.0.2:1"]), &names).is_err());
        assert!(check(&v(&["https://[::1]:1"]), &names).is_err());
        // Malformed, or too many: refused before any certificate is asked.
        assert!(check(&v(&["http://localhost:1"]), &names)
            .unwrap_err()
            .contains("https://"));
        let many: Vec<String> = (0..=civreg_shared::hubs::MAX_HUBS)
            .map(|i| format!("https://localhost:{}", i + 1))
            .collect();
        assert!(check(&many, &names).unwrap_err().contains("at most"));
    }

    fn enrol(dir: &Path, urls: &[&str]) {
        let tls = tls_dir(dir);
        std::fs::create_dir_all(&tls).unwrap();
        let b = sync::Bundle {
            identity: "civreg://node/istog/1".into(),
            municipality: Some("istog".into()),
            node_id: Some("1".into()),
            hub_url: urls[0].to_string(),
            hub_urls: v(urls),
        };
        std::fs::write(tls.join("bundle.json"), serde_json::to_vec(&b).unwrap()).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_list_taken_is_used_until_a_new_bundle_and_a_bad_one_is_refused_and_kept_for_status()
    {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        enrol(d, &["https://a:1"]);
        let u = in_use(d).unwrap();
        assert_eq!((u.urls, u.origin), (v(&["https://a:1"]), Origin::Bundle));
        // No news, or the list in use: nothing is written.
        assert_eq!(offered(d, "https://a:1", &[], 1).await, Offer::Same);
        assert_eq!(
            offered(d, "https://a:1", &v(&["https://a:1"]), 1).await,
            Offer::Same
        );
        assert!(!tls_dir(d).join(FILE).exists());
        // Malformed: refused without asking the hub (there is none here), kept for status.
        let bad = v(&["https://a:1", "ftp://b:1"]);
        let Offer::Refused(why) = offered(d, "https://a:1", &bad, 5).await else {
            panic!("a bad list is refused")
        };
        assert!(why.contains("https://"), "{why}");
        let u = in_use(d).unwrap();
        assert_eq!(u.urls, v(&["https://a:1"]));
        assert_eq!(
            u.refused.as_ref().map(|r| r.list.urls.clone()),
            Some(bad.clone())
        );
        // Sent again soon: not checked again; after RECHECK_AFTER it is.
        assert_eq!(
            offered(d, "https://a:1", &bad, 6).await,
            Offer::RefusedBefore
        );
        let later = 5 + RECHECK_AFTER.as_millis() as u64;
        assert!(matches!(
            offered(d, "https://a:1", &bad, later).await,
            Offer::Refused(_)
        ));
        // A well-formed list whose hub certificate can not be read (no hub, no ca.pem): not
        // taken, not refused either.
        let good = v(&["https://a:1", "https://b:1"]);
        assert!(matches!(
            offered(d, "https://a:1", &good, 7).await,
            Offer::Unchecked(_)
        ));
        assert_eq!(in_use(d).unwrap().urls, v(&["https://a:1"]));
        // Taken (as `offered` does once the certificate names every host): used, with where
        // it came from, across a restart (it is a file).
        let held = Held {
            taken: Some(Sent {
                urls: good.clone(),
                by: "https://a:1".into(),
                at_ms: 9,
            }),
            refused: None,
        };
        write(d, &held).unwrap();
        let u = in_use(d).unwrap();
        assert_eq!(u.urls, good);
        assert_eq!(
            u.origin,
            Origin::Hub {
                by: "https://a:1".into(),
                at_ms: 9
            }
        );
        assert_eq!(offered(d, "https://b:1", &good, 10).await, Offer::Same);
        // A damaged file: the bundle's list.
        std::fs::write(tls_dir(d).join(FILE), b"{").unwrap();
        assert_eq!(in_use(d).unwrap().origin, Origin::Bundle);
        // A new bundle forgets the hub's list.
        write(d, &held).unwrap();
        enrol(d, &["https://c:1"]);
        forget(d).unwrap();
        assert_eq!(in_use(d).unwrap().urls, v(&["https://c:1"]));
        forget(d).unwrap();
    }
}
