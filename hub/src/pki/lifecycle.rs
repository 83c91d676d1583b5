//! The certificate lifecycle (issue 17 part B): a node renews its client certificate over its
//! live mTLS connection from a signing request (its private key never leaves the office), an
//! operator can require the renewal of one node or all, the hub renews its own server
//! certificate, and the certificates that expire soon are listed.
//!
//! Renewal issues only for the identity of the calling certificate, whatever the request asks:
//! the request's one URI name must equal it, and the new certificate is built from the hub's
//! own parameters (client authentication only, the usual validity) over the request's public
//! key, so a request can not smuggle in a CA flag or another extension.
//!
//! Renewal requirements live in `renew-required.json` beside the registry: the serials whose
//! holders must renew. A certificate issued afterwards is not in it, so the requirement ends
//! when the node has renewed. [`crate::pki::Admission`] keeps the set in memory for the
//! heartbeat. With several hubs the set is shared through the store with the registry
//! ([`crate::pki::shared`]: a union, like the registry's, [`Pki::merge_required`]), so a node
//! is told to renew at whichever hub it talks to.

use std::collections::BTreeSet;
use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;

use rcgen::{CertificateSigningRequestParams, SanType, PKCS_ECDSA_P256_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateSigningRequestDer};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::rollover::RolloverError;
use super::{
    io, now_seconds, write_atomic, CertKind, CertStatus, IssuedEntry, Lock, PeerIdentity, Pki,
    PkiError, Selector, BACKDATE,
};

/// A time in Unix milliseconds as `YYYY-MM-DDTHH:MM:SSZ`.
fn format_ms(ms: u64) -> String {
    OffsetDateTime::from_unix_timestamp((ms / 1000) as i64)
        .map(super::format_utc)
        .unwrap_or_else(|_| ms.to_string())
}

/// How long a renewed certificate is valid.
pub const RENEWAL_DAYS: i64 = 365;
/// A node starts renewing this many days before its certificate expires.
pub const RENEW_BEFORE_DAYS: i64 = 30;
/// The largest signing request the hub reads (one P-256 key and one name take about 400 bytes).
pub const MAX_CSR_BYTES: usize = 8 * 1024;

const RENEW_REQUIRED: &str = "renew-required.json";

/// Why a renewal was refused. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum RenewError {
    #[error(
        "the certificate signing request is {0} bytes, more than the {max} the hub reads: send \
         a request for one P-256 key and the node's own name",
        max = MAX_CSR_BYTES
    )]
    TooLarge(usize),
    #[error(
        "the certificate signing request can not be read or its signature does not verify \
         ({0}): make it again with the node's new key"
    )]
    BadRequest(String),
    #[error(
        "the certificate signing request uses another key type: renewal takes ECDSA P-256 keys \
         (what `civreg-node` makes)"
    )]
    KeyType,
    #[error(
        "the certificate signing request names {asked}, but the calling certificate is {caller}: \
         a node renews only its own certificate"
    )]
    NotCaller { asked: String, caller: String },
    #[error("{0} is not a node: only nodes renew their certificates over the network; operators ask the agency for a new bundle")]
    NotNode(String),
    #[error(transparent)]
    Pki(#[from] PkiError),
}

/// A certificate issued by [`Pki::renew_from_csr`].
#[derive(Debug, Clone)]
pub struct Renewed {
    pub entry: IssuedEntry,
    pub cert_pem: String,
    /// What nodes trust the hub by (`ca.pem`; both roots during a CA rollover).
    pub ca_pem: String,
}

/// `renew-required.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Required {
    serials: BTreeSet<String>,
}

/// The hub's server certificate as nodes are told of it in the heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubCertInfo {
    pub not_after_ms: u64,
    /// SHA-256 of the certificate (DER), lowercase hex.
    pub sha256: String,
}

impl Pki {
    /// Issues a new certificate for `caller` (a node, as its verified certificate names it) over
    /// the public key of `csr_der`, valid [`RENEWAL_DAYS`] from now. Refuses a request that
    /// does not verify, names anyone but the caller, or holds another key type. The caller's
    /// older certificates stay valid until they expire or are revoked.
    pub fn renew_from_csr(
        &self,
        caller: &PeerIdentity,
        csr_der: &[u8],
    ) -> Result<Renewed, RenewError> {
        if !matches!(caller, PeerIdentity::Node { .. }) {
            return Err(RenewError::NotNode(caller.to_string()));
        }
        if csr_der.len() > MAX_CSR_BYTES {
            return Err(RenewError::TooLarge(csr_der.len()));
        }
        let der = CertificateSigningRequestDer::from(csr_der);
        let csr = CertificateSigningRequestParams::from_der(&der)
            .map_err(|e| RenewError::BadRequest(e.to_string()))?;
        if csr.public_key.algorithm() != &PKCS_ECDSA_P256_SHA256 {
            return Err(RenewError::KeyType);
        }
        let names: Vec<String> = csr
            .params
            .subject_alt_names
            .iter()
            .map(|n| match n {
                SanType::URI(u) => u.as_str().to_owned(),
                other => format!("{other:?}"),
            })
            .collect();
        let uri = caller.uri();
        if names.len() != 1 || names[0] != uri {
            return Err(RenewError::NotCaller {
                asked: if names.is_empty() {
                    "no name".into()
                } else {
                    names.join(", ")
                },
                caller: uri,
            });
        }
        let now = now_seconds();
        let (entry, cert_pem) = self.issue_for_key(
            caller,
            now - BACKDATE,
            now + Duration::days(RENEWAL_DAYS),
            &csr.public_key,
        )?;
        Ok(Renewed {
            entry,
            cert_pem,
            // During a CA rollover: both roots, so that the node trusts the hub across the switch.
            ca_pem: self.trust_pem()?,
        })
    }

    /// Requires the holders of the active node certificates matching `selector` (a serial or
    /// an identity, as for `revoke`), or of every active node certificate when `None`, to
    /// renew: each node is told with its next heartbeat and renews at once. Returns the
    /// certificates concerned.
    pub fn require_renewal(&self, selector: Option<&str>) -> Result<Vec<IssuedEntry>, PkiError> {
        let matcher = selector.map(Selector::parse).transpose()?;
        let _lock = Lock::acquire(self.dir())?;
        let now = now_seconds();
        let registry = self.load_registry()?;
        let chosen: Vec<IssuedEntry> = registry
            .certificates
            .into_iter()
            .filter(|e| e.kind == CertKind::Node && e.status == CertStatus::Active)
            .filter(|e| e.not_after > now)
            .filter(|e| matcher.as_ref().is_none_or(|m| m.matches(e)))
            .collect();
        if chosen.is_empty() {
            return Err(PkiError::NoMatch(selector.unwrap_or("--all").to_owned()));
        }
        let mut required = self.load_required()?;
        required
            .serials
            .extend(chosen.iter().map(|e| e.serial.clone()));
        self.save_required(&required)?;
        Ok(chosen)
    }

    /// The serials whose holders must renew (empty when none was ever required).
    pub fn renewal_required(&self) -> Result<BTreeSet<String>, PkiError> {
        Ok(self.load_required()?.serials)
    }

    /// Adds the serials of `shared` (required through another hub, as the store holds them)
    /// to `renew-required.json`, written only when that adds one. Returns the set after it.
    pub fn merge_required(&self, shared: &BTreeSet<String>) -> Result<BTreeSet<String>, PkiError> {
        let local = self.load_required()?;
        if shared.is_subset(&local.serials) {
            return Ok(local.serials);
        }
        let _lock = Lock::acquire(self.dir())?;
        let mut required = self.load_required()?;
        required.serials.extend(shared.iter().cloned());
        self.save_required(&required)?;
        tracing::info!(
            serials = required.serials.len(),
            "renewals required through another hub taken into this hub's PKI"
        );
        Ok(required.serials)
    }

    fn save_required(&self, required: &Required) -> Result<(), PkiError> {
        let path = self.renew_required_path();
        let mut json = serde_json::to_string_pretty(required).map_err(|e| PkiError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        json.push('\n');
        write_atomic(&path, json.as_bytes(), false)
    }

    pub fn renew_required_path(&self) -> PathBuf {
        self.dir().join(RENEW_REQUIRED)
    }

    /// The active node, operator, hub and clerk app certificates that expire within `days` of `now`
    /// (expired ones included), soonest first, leaving out any identity that also holds an
    /// active certificate valid beyond that (it has renewed). For the dashboard and `/metrics`.
    pub fn expiring_within(
        &self,
        days: i64,
        now: OffsetDateTime,
    ) -> Result<Vec<IssuedEntry>, PkiError> {
        let limit = now + Duration::days(days);
        let all = self.list()?;
        let active = || {
            all.iter().filter(|e| {
                e.status == CertStatus::Active
                    && matches!(
                        e.kind,
                        CertKind::Node | CertKind::Operator | CertKind::Hub | CertKind::App
                    )
            })
        };
        let renewed: BTreeSet<&str> = active()
            .filter(|e| e.not_after > limit)
            .map(|e| e.identity.as_str())
            .collect();
        let mut out: Vec<IssuedEntry> = active()
            .filter(|e| e.not_after <= limit && !renewed.contains(e.identity.as_str()))
            .filter(|e| e.kind != CertKind::Hub || !renewed.iter().any(|i| i.starts_with("hub:")))
            .cloned()
            .collect();
        out.sort_by_key(|e| e.not_after);
        Ok(out)
    }

    /// Expiry and fingerprint of the certificate the hub presents now (`hub.pem`).
    pub fn hub_cert_info(&self) -> Result<HubCertInfo, PkiError> {
        cert_info(self.hub_cert_path())
    }

    /// Expiry and fingerprint of the hub's next certificate, staged by `pki renew-hub --stage`
    /// and not yet presented; `None` when none is staged.
    pub fn hub_next_cert_info(&self) -> Result<Option<HubCertInfo>, PkiError> {
        let path = self.hub_next_cert_path();
        if !path.exists() {
            return Ok(None);
        }
        cert_info(path).map(Some)
    }

    /// Presents the staged certificate (`pki renew-hub --activate`): `hub-next.pem` and its
    /// key become `hub.pem` and `hub.key`, which a running hub picks up for new connections.
    /// During a CA rollover, a certificate of the new CA is presented only once every office
    /// trusts the new root.
    pub fn activate_hub_cert(&self) -> Result<HubCertInfo, RolloverError> {
        let staged = self.hub_next_cert_path();
        let Some(info) = self.hub_next_cert_info()? else {
            return Err(PkiError::Ceremony(
                "no hub certificate is staged: stage one with `civreg-hub pki renew-hub --stage`, \
                 or renew at once with `civreg-hub pki renew-hub`"
                    .into(),
            )
            .into());
        };
        let pem = fs::read(&staged).map_err(io("read", &staged))?;
        let serial = CertificateDer::from_pem_slice(&pem)
            .ok()
            .and_then(|d| super::admission::serial_of(&d))
            .unwrap_or_default();
        self.check_hub_switch(&serial)?;
        let _lock = Lock::acquire(self.dir())?;
        let key =
            fs::read(self.hub_next_key_path()).map_err(io("read", &self.hub_next_key_path()))?;
        // The key first, then the certificate: the TLS reloader rebuilds on the certificate's
        // change, and keeps the configuration in force if it finds the two not matching.
        write_atomic(&self.hub_key_path(), &key, true)?;
        write_atomic(&self.hub_cert_path(), &pem, false)?;
        fs::remove_file(&staged).map_err(io("remove", &staged))?;
        let staged_key = self.hub_next_key_path();
        fs::remove_file(&staged_key).map_err(io("remove", &staged_key))?;
        Ok(info)
    }
}

fn cert_info(path: PathBuf) -> Result<HubCertInfo, PkiError> {
    let pem = fs::read(&path).map_err(io("read", &path))?;
    let der = CertificateDer::from_pem_slice(&pem).map_err(|e| PkiError::Corrupt {
        path: path.clone(),
        reason: format!("no certificate in it ({e})"),
    })?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|e| PkiError::Corrupt {
        path: path.clone(),
        reason: format!("unreadable certificate ({e})"),
    })?;
    let not_after = cert.validity().not_after.timestamp().max(0) as u64;
    Ok(HubCertInfo {
        not_after_ms: not_after.saturating_mul(1000),
        sha256: hex::encode(ring::digest::digest(&ring::digest::SHA256, &der)),
    })
}

impl Pki {
    fn load_required(&self) -> Result<Required, PkiError> {
        let path = self.renew_required_path();
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| PkiError::Corrupt {
                path,
                reason: format!("not a valid list of renewals required ({e})"),
            }),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Required::default()),
            Err(e) => Err(PkiError::Io {
                action: "read",
                path,
                source: e,
            }),
        }
    }
}

/// `civreg-hub pki require-renewal NODE|--all`.
#[derive(Debug, clap::Args)]
pub struct RequireRenewalArgs {
    /// The node (`istog/1`, `civreg://node/istog/1`) or a certificate serial.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub node: Option<String>,
    /// Every node with an active certificate.
    #[arg(long)]
    pub all: bool,
}

impl RequireRenewalArgs {
    /// Records the requirement; returns the JSON and text answers.
    pub fn run(&self, pki: &Pki) -> Result<(serde_json::Value, String), PkiError> {
        let chosen = pki.require_renewal(self.node.as_deref())?;
        let text = chosen
            .iter()
            .map(|e| {
                format!(
                    "{} (serial {}, expires {}) must renew: it will at its next heartbeat",
                    e.identity,
                    e.serial,
                    super::format_utc(e.not_after)
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        Ok((serde_json::json!({"ok": true, "required": chosen}), text))
    }
}

/// `civreg-hub pki renew-hub [--hub-name NAME]... [--stage | --activate]`.
#[derive(Debug, clap::Args)]
pub struct RenewHubArgs {
    /// DNS names or IP addresses nodes use to reach the hub (default: the current
    /// certificate's names).
    #[arg(long = "hub-name")]
    pub hub_names: Vec<String>,
    /// Issue the next certificate without presenting it: offices are told of it in their
    /// heartbeats; present it later with --activate.
    #[arg(long, conflicts_with = "activate")]
    pub stage: bool,
    /// Present the certificate staged with --stage.
    #[arg(long, conflicts_with = "hub_names")]
    pub activate: bool,
}

impl RenewHubArgs {
    /// Issues and installs the hub's new server certificate; returns the JSON and text answers.
    pub fn run(&self, pki: &Pki) -> Result<(serde_json::Value, String), RolloverError> {
        if self.activate {
            let info = pki.activate_hub_cert()?;
            let text = format!(
                "the staged hub certificate (SHA-256 {}, expires {}) is in place: a running hub \
                 presents it to every new connection",
                info.sha256,
                format_ms(info.not_after_ms)
            );
            return Ok((
                serde_json::json!({"ok": true, "activated": true, "sha256": info.sha256, "not_after_ms": info.not_after_ms}),
                text,
            ));
        }
        if self.stage {
            let entry = pki.stage_hub(&self.hub_names)?;
            let info = pki.hub_next_cert_info()?.ok_or_else(|| PkiError::Corrupt {
                path: pki.hub_next_cert_path(),
                reason: "the staged certificate vanished".into(),
            })?;
            let text = format!(
                "next hub certificate {} staged (serial {}, expires {}, SHA-256 {}): offices \
                 are told of it in their heartbeats; present it with `civreg-hub pki renew-hub \
                 --activate`",
                entry.identity,
                entry.serial,
                super::format_utc(entry.not_after),
                info.sha256
            );
            return Ok((
                serde_json::json!({"ok": true, "staged": entry, "sha256": info.sha256}),
                text,
            ));
        }
        let entry = pki.renew_hub(&self.hub_names)?;
        let info = pki.hub_cert_info()?;
        let text = format!(
            "new hub certificate {} (serial {}, expires {}, SHA-256 {}): a running hub presents \
             it to every new connection; offices keep trusting it through the agency CA",
            entry.identity,
            entry.serial,
            super::format_utc(entry.not_after),
            info.sha256
        );
        Ok((
            serde_json::json!({"ok": true, "certificate": entry, "sha256": info.sha256}),
            text,
        ))
    }
}

impl Pki {
    /// [`Pki::renew_hub_cert`] under the names of the current hub certificate when `names` is
    /// empty. During a CA rollover the certificate is of the new CA, so it is refused while an
    /// office does not trust the new root.
    pub fn renew_hub(&self, names: &[String]) -> Result<IssuedEntry, RolloverError> {
        if let Some(st) = self.rollover_status()? {
            let missing = st.not_trusting();
            if !missing.is_empty() {
                return Err(RolloverError::NotTrusted(missing));
            }
        }
        Ok(self.renew_hub_cert(&self.hub_names_or_current(names)?)?)
    }

    /// [`Pki::stage_hub_cert`] under the names of the current hub certificate when `names` is
    /// empty.
    pub fn stage_hub(&self, names: &[String]) -> Result<IssuedEntry, PkiError> {
        self.stage_hub_cert(&self.hub_names_or_current(names)?)
    }

    /// The names (DNS names, IP addresses) of the hub's active server certificate; empty when
    /// the registry has none.
    pub fn hub_cert_names(&self) -> Result<Vec<String>, PkiError> {
        self.hub_names_or_current(&[])
    }

    fn hub_names_or_current(&self, names: &[String]) -> Result<Vec<String>, PkiError> {
        Ok(if names.is_empty() {
            self.list()?
                .iter()
                .rev()
                .find(|e| e.kind == CertKind::Hub && e.status == CertStatus::Active)
                .and_then(|e| e.identity.strip_prefix("hub:"))
                .map(|n| n.split(',').map(str::to_owned).collect())
                .unwrap_or_default()
        } else {
            names.to_vec()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair};

    fn csr_for(uri: &str, key: &KeyPair) -> Vec<u8> {
        let mut params = CertificateParams::default();
        params.subject_alt_names = vec![SanType::URI(uri.try_into().expect("an IA5 uri"))];
        params
            .serialize_request(key)
            .expect("a request")
            .der()
            .to_vec()
    }

    fn pki() -> (tempfile::TempDir, Pki) {
        let dir = tempfile::tempdir().expect("temp dir");
        let pki = Pki::init(&dir.path().join("pki"), &[]).expect("pki");
        (dir, pki)
    }

    #[test]
    fn a_node_renews_only_itself_over_its_own_key() {
        let (_d, pki) = pki();
        let me = PeerIdentity::node("istog", "1").expect("identity");
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let r = pki
            .renew_from_csr(&me, &csr_for(&me.uri(), &key))
            .expect("renewed");
        let der = CertificateDer::from_pem_slice(r.cert_pem.as_bytes()).expect("pem");
        assert_eq!(crate::pki::peer_identity(&der).expect("identity"), me);
        let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("x509");
        assert_eq!(
            cert.public_key().subject_public_key.data.as_ref(),
            key.public_key_raw(),
            "the certificate is for the node's own key"
        );
        assert!(cert
            .basic_constraints()
            .ok()
            .flatten()
            .is_none_or(|b| !b.value.ca));
        assert!(pki
            .list()
            .expect("list")
            .iter()
            .any(|e| e.serial == r.entry.serial));

        let other = PeerIdentity::node("istog", "2").expect("identity");
        let e = pki
            .renew_from_csr(&me, &csr_for(&other.uri(), &key))
            .expect_err("another node's name");
        assert!(matches!(e, RenewError::NotCaller { .. }), "{e}");
        let e = pki
            .renew_from_csr(&me, b"not a request")
            .expect_err("garbage");
        assert!(matches!(e, RenewError::BadRequest(_)), "{e}");
        let op = PeerIdentity::operator("ana").expect("operator");
        assert!(matches!(
            pki.renew_from_csr(&op, &csr_for(&op.uri(), &key)),
            Err(RenewError::NotNode(_))
        ));
    }

    #[test]
    fn required_renewal_names_the_old_serials_and_ends_with_a_new_certificate() {
        let (_d, pki) = pki();
        let a = pki.issue_node("istog", "1", 365).expect("a");
        let b = pki.issue_node("prishtine", "1", 365).expect("b");
        assert!(pki.renewal_required().expect("none").is_empty());
        pki.require_renewal(Some("istog/1")).expect("one");
        let req = pki.renewal_required().expect("set");
        assert!(req.contains(&a.entry.serial) && !req.contains(&b.entry.serial));
        pki.require_renewal(None).expect("all");
        assert!(pki
            .renewal_required()
            .expect("set")
            .contains(&b.entry.serial));
        let me = PeerIdentity::node("istog", "1").expect("identity");
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let r = pki
            .renew_from_csr(&me, &csr_for(&me.uri(), &key))
            .expect("renewed");
        assert!(!pki
            .renewal_required()
            .expect("set")
            .contains(&r.entry.serial));
        assert!(pki.require_renewal(Some("gjakove/9")).is_err());
    }

    #[test]
    fn expiring_lists_only_what_has_not_been_renewed() {
        let (_d, pki) = pki();
        let now = OffsetDateTime::now_utc();
        let soon = pki
            .issue_node_with_validity(
                "istog",
                "1",
                now - Duration::days(300),
                now + Duration::days(10),
            )
            .expect("soon");
        pki.issue_node_with_validity(
            "prishtine",
            "1",
            now - Duration::days(300),
            now + Duration::days(10),
        )
        .expect("soon too");
        pki.issue_node("gjakove", "1", 365).expect("far");
        let names = |v: Vec<IssuedEntry>| v.into_iter().map(|e| e.identity).collect::<Vec<_>>();
        let list = names(pki.expiring_within(30, now).expect("list"));
        assert_eq!(list.len(), 2, "{list:?}");
        assert!(list.contains(&soon.entry.identity));
        pki.issue_node("istog", "1", 365).expect("renewed");
        let list = names(pki.expiring_within(30, now).expect("list"));
        assert_eq!(list, vec!["civreg://node/prishtine/1".to_string()]);
        // The hub's own certificate (365 days) shows within a year and a day.
        assert!(names(pki.expiring_within(366, now).expect("list"))
            .iter()
            .any(|i| i.starts_with("hub:")));
    }
}
