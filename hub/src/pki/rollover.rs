//! CA rollover with an overlap period (issue 17 part B): the agency replaces its root CA, and
//! for a while the hub and the offices trust the old and the new together.
//!
//! **What changes is the root, and with it the issuing CA.** When only the issuing CA's
//! certificate expires, `pki root sign-issuer` and `pki install-issuer` renew it under the same
//! root, and no office notices: offices trust the root. A rollover is for the day the root's own
//! key must change (it expires after ten years, is suspected compromised, or its algorithm is
//! retired). Everything under it must then change too, so a rollover makes a new root *and* a
//! new issuing key certified by it: re-certifying the old issuing key under the new root would
//! carry a key of the old hierarchy into the new one (the very key one may want gone), and a
//! fresh key makes "which CA issued this certificate" unambiguous for the CRLs and for the
//! check that ends the overlap.
//!
//! Layout while a rollover is under way, in `pki/rollover/`: `ca.pem` (the new root), and
//! `issuing.pem`, `issuing.key`, `crl.pem` (the new issuing CA and its CRL), and `state.json`,
//! written last, whose presence means "rollover under way" ([`State`]). During the overlap:
//!
//! - the hub admits client certificates of either issuing CA (two trust anchors, one CRL each,
//!   both rewritten on every revocation) and issues every new node, operator and hub
//!   certificate under the new one (document signers and clerk app certificates stay on the
//!   old one: see the README's "Not finished");
//! - offices are given both roots (`ca.pem` of a renewal, of a heartbeat reply, of a bundle) and
//!   report which roots they trust in their heartbeats; the hub records who trusts the new one;
//! - the hub's next certificate, staged (`pki renew-hub --stage`), comes from the new CA, and
//!   `pki renew-hub --activate` presents it only once every office trusts the new root.
//!
//! `pki rollover finish` ends the overlap: refused while the hub still presents an old-CA
//! certificate or an office holds only old-CA certificates (named); then the old root, issuing
//! CA and CRL go to `pki/retired-DATE/`, the new ones take their places, and heartbeats tell
//! the offices to trust the new root alone.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use rcgen::{Issuer, KeyPair, PKCS_ECDSA_P256_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    format_utc, io, load_ca_issuer, make_crl, now_seconds, root, utc_seconds, write_atomic,
    CertKind, CertStatus, Lock, PeerIdentity, Pki, PkiError, CA_CERT, CA_KEY, CRL, ISSUING_CERT,
    ISSUING_KEY,
};

/// The directory of the next CA, inside the PKI directory.
pub const ROLLOVER_DIR: &str = "rollover";
const STATE: &str = "state.json";

/// Why a rollover step was refused. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum RolloverError {
    #[error(
        "a CA rollover is already under way (started {0}): see `civreg-hub pki rollover \
         status`, and end it with `civreg-hub pki rollover finish` before starting another"
    )]
    AlreadyStarted(String),
    #[error(
        "no CA rollover is under way: start one with `civreg-hub pki rollover start --root-dir \
         NEW_ROOT_DIR` (operator manual, \"CA rollover\")"
    )]
    NotStarted,
    #[error(
        "the root CA in {0} is the one the offices already trust: a rollover needs a new root; \
         make one with `civreg-hub pki root init --dir NEW_ROOT_DIR` on the offline machine"
    )]
    SameRoot(PathBuf),
    #[error(
        "the hub still presents a certificate of the old CA: stage one of the new CA with \
         `civreg-hub pki renew-hub --stage`, present it with `civreg-hub pki renew-hub \
         --activate` once every office trusts the new root, then finish"
    )]
    HubOnOldCa,
    #[error(
        "{} office(s) still hold only certificates of the old CA: {}; they would be locked out. \
         Require their renewal (`civreg-hub pki require-renewal --all`) and wait for their next \
         sync, give them a new bundle (`civreg-hub pki issue`, then `civreg-node enrol \
         --bundle`), or revoke the certificates of PCs out of service (`civreg-hub pki \
         revoke`); see `civreg-hub pki rollover status`", .0.len(), .0.join(", ")
    )]
    OfficesOnOldCa(Vec<String>),
    #[error(
        "{} office(s) do not trust the new root yet: {}; a hub certificate of the new CA would \
         lock them out. They learn the new root at their next heartbeat (or from a bundle: \
         `civreg-node enrol --bundle`); wait until `civreg-hub pki rollover status` shows every \
         office trusting it, or revoke the certificates of PCs out of service", .0.len(), .0.join(", ")
    )]
    NotTrusted(Vec<String>),
    #[error(transparent)]
    Pki(#[from] PkiError),
}

/// `rollover/state.json`: the rollover under way.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    #[serde(with = "utc_seconds")]
    started_at: OffsetDateTime,
    /// SHA-256 (hex) of the new root certificate (DER), as offices report it.
    new_root_sha256: String,
    /// Serials issued by the new issuing CA.
    #[serde(default)]
    issued: BTreeSet<String>,
    /// Offices (`civreg://node/M/ID`) that reported trusting the new root, and when.
    #[serde(default)]
    trusted_by: BTreeMap<String, String>,
}

/// One office's place in the rollover, for `status` and the refusals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfficeState {
    /// `municipality/node_id`.
    pub office: String,
    /// It holds an active certificate of the new CA.
    pub on_new_ca: bool,
    /// It reported trusting the new root (or holds a new-CA certificate, which came with it).
    pub trusts_new_root: bool,
}

/// What `pki rollover status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct RolloverStatus {
    pub started_at: String,
    pub new_root_sha256: String,
    /// The hub presents a certificate of the new CA.
    pub hub_on_new_ca: bool,
    /// A hub certificate is staged, and whether it is of the new CA.
    pub hub_staged: Option<bool>,
    pub offices: Vec<OfficeState>,
    /// Operators whose active certificates are all of the old CA (they stop working at finish).
    pub operators_on_old_ca: Vec<String>,
}

impl RolloverStatus {
    /// Offices that hold only old-CA certificates.
    pub fn on_old_ca(&self) -> Vec<String> {
        self.offices
            .iter()
            .filter(|o| !o.on_new_ca)
            .map(|o| o.office.clone())
            .collect()
    }

    /// Offices that have not reported trusting the new root.
    pub fn not_trusting(&self) -> Vec<String> {
        self.offices
            .iter()
            .filter(|o| !o.trusts_new_root)
            .map(|o| o.office.clone())
            .collect()
    }
}

/// SHA-256 (lowercase hex) of every certificate in `pem`, in order; unreadable blocks are
/// skipped.
pub fn fingerprints(pem: &[u8]) -> Vec<String> {
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .map(|der| hex::encode(ring::digest::digest(&ring::digest::SHA256, &der)))
        .collect()
}

impl Pki {
    /// The directory of the next CA (`pki/rollover/`).
    pub fn rollover_dir(&self) -> PathBuf {
        self.dir().join(ROLLOVER_DIR)
    }

    /// Whether a rollover is under way.
    pub fn rollover_active(&self) -> bool {
        self.rollover_dir().join(STATE).exists()
    }

    /// The certificates offices trust the hub by, PEM, read now: the root (`ca.pem`), and during
    /// a rollover the new root after it.
    pub fn trust_pem(&self) -> Result<String, PkiError> {
        let path = self.ca_cert_path();
        let mut pem = fs::read_to_string(&path).map_err(io("read", &path))?;
        if self.rollover_active() {
            let next = self.rollover_dir().join(CA_CERT);
            let next = fs::read_to_string(&next).map_err(io("read", &next))?;
            if !pem.ends_with('\n') {
                pem.push('\n');
            }
            pem.push_str(&next);
        }
        Ok(pem)
    }

    /// What the hub's TLS configuration is built from besides the CRL, the hub certificate and
    /// the issuing CA: the root and, during a rollover, the new issuing CA and its CRL. The TLS
    /// reloader rebuilds the configuration when these change.
    pub fn rollover_watched(&self) -> Vec<u8> {
        let mut all = fs::read(self.ca_cert_path()).unwrap_or_default();
        for f in [ISSUING_CERT, CRL, STATE] {
            all.extend(fs::read(self.rollover_dir().join(f)).unwrap_or_default());
        }
        all
    }

    /// The new issuing CA's certificate (PEM) and CRL (PEM) during a rollover, for the hub's
    /// TLS configuration; `None` when none is under way.
    pub(super) fn next_anchor(&self) -> Result<Option<(PathBuf, String, String)>, PkiError> {
        if !self.rollover_active() {
            return Ok(None);
        }
        let dir = self.rollover_dir();
        let cert = dir.join(ISSUING_CERT);
        let crl = dir.join(CRL);
        let cert_pem = fs::read_to_string(&cert).map_err(io("read", &cert))?;
        let crl_pem = fs::read_to_string(&crl).map_err(io("read", &crl))?;
        Ok(Some((cert, cert_pem, crl_pem)))
    }

    /// The issuer of new node, operator and hub certificates: the new issuing CA during a
    /// rollover (then `true`), else the current one.
    pub(super) fn load_client_issuer(&self) -> Result<(Issuer<'static, KeyPair>, bool), PkiError> {
        if self.rollover_active() {
            let dir = self.rollover_dir();
            let cert = dir.join(ISSUING_CERT);
            let pem = fs::read_to_string(&cert).map_err(io("read", &cert))?;
            return Ok((load_ca_issuer(&pem, &cert, &dir.join(ISSUING_KEY))?, true));
        }
        Ok((self.load_issuer()?, false))
    }

    /// The new issuing CA's certificate, PEM (appended to a hub certificate it signs).
    pub(super) fn next_issuing_pem(&self) -> Result<String, PkiError> {
        let path = self.rollover_dir().join(ISSUING_CERT);
        fs::read_to_string(&path).map_err(io("read", &path))
    }

    /// Records that the new issuing CA issued `serial`. The caller holds the PKI lock.
    pub(super) fn note_issued_by_next(&self, serial: &str) -> Result<(), PkiError> {
        let mut state = self.load_state()?.ok_or_else(|| PkiError::Corrupt {
            path: self.rollover_dir().join(STATE),
            reason: "the rollover state vanished while a certificate was issued".into(),
        })?;
        state.issued.insert(serial.to_owned());
        self.save_state(&state)
    }

    /// Rewrites the new issuing CA's CRL from the registry (after a revocation). The caller
    /// holds the PKI lock. Nothing to do when no rollover is under way.
    pub(super) fn write_next_crl(
        &self,
        registry: &super::Registry,
        now: OffsetDateTime,
    ) -> Result<(), PkiError> {
        if !self.rollover_active() {
            return Ok(());
        }
        let (issuer, _) = self.load_client_issuer()?;
        let crl = make_crl(&issuer, registry, now)?;
        write_atomic(&self.rollover_dir().join(CRL), crl.as_bytes(), false)
    }

    /// Whether the new issuing CA issued `serial` (false when no rollover is under way).
    pub fn issued_by_next(&self, serial: &str) -> Result<bool, PkiError> {
        Ok(self
            .load_state()?
            .is_some_and(|s| s.issued.contains(serial)))
    }

    /// Starts a rollover to the root CA of `root_dir` (created there if it holds none, as
    /// `pki init` does; its key is used to certify the new issuing key and is never copied into
    /// the PKI directory). Refuses if one is under way or the root is the current one.
    pub fn start_rollover(&self, root_dir: &Path) -> Result<RolloverStatus, RolloverError> {
        let root = if root_dir.join(root::ROOT_CERT).exists() {
            root::RootCa::open(root_dir)?
        } else {
            root::RootCa::init(root_dir)?
        };
        let _lock = Lock::acquire(self.dir())?;
        if let Some(s) = self.load_state()? {
            return Err(RolloverError::AlreadyStarted(format_utc(s.started_at)));
        }
        let current = fs::read(self.ca_cert_path()).map_err(io("read", &self.ca_cert_path()))?;
        let new_fp = fingerprints(root.pem().as_bytes());
        if fingerprints(&current).iter().any(|f| new_fp.contains(f)) {
            return Err(RolloverError::SameRoot(root_dir.to_owned()));
        }
        let now = now_seconds();
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(PkiError::from)?;
        // A name of its own: webpki picks a certificate's CRL by its issuer's name, and the old
        // and the new issuing CA are trusted together.
        let name = root::dated_name(root::ISSUING_COMMON_NAME, now, &super::random_serial()?);
        let issuing_pem = root.certify_issuing(&key, &name, now)?;
        let der = CertificateDer::from_pem_slice(issuing_pem.as_bytes()).map_err(|e| {
            PkiError::Corrupt {
                path: self.rollover_dir().join(ISSUING_CERT),
                reason: format!("no certificate in it ({e})"),
            }
        })?;
        let issuer = Issuer::from_ca_cert_der(&der, key).map_err(PkiError::from)?;
        let registry = self.load_registry()?;
        let crl = make_crl(&issuer, &registry, now)?;
        let dir = self.rollover_dir();
        fs::create_dir_all(&dir).map_err(io("create directory", &dir))?;
        super::set_private_dir(&dir)?;
        write_atomic(
            &dir.join(ISSUING_KEY),
            issuer.key().serialize_pem().as_bytes(),
            true,
        )?;
        write_atomic(&dir.join(ISSUING_CERT), issuing_pem.as_bytes(), false)?;
        write_atomic(&dir.join(CRL), crl.as_bytes(), false)?;
        write_atomic(&dir.join(CA_CERT), root.pem().as_bytes(), false)?;
        // Last: its presence starts the overlap.
        self.save_state(&State {
            started_at: now,
            new_root_sha256: new_fp.first().cloned().unwrap_or_default(),
            issued: BTreeSet::new(),
            trusted_by: BTreeMap::new(),
        })?;
        drop(_lock);
        self.rollover_status()?.ok_or(RolloverError::NotStarted)
    }

    /// Records that `who` trusts the roots of `trusted` (SHA-256 hex each), as its heartbeat
    /// says. Writes only when it newly trusts the rollover's new root; true then.
    pub fn note_trust(&self, who: &PeerIdentity, trusted: &[String]) -> Result<bool, PkiError> {
        let Some(state) = self.load_state()? else {
            return Ok(false);
        };
        let uri = who.uri();
        if !trusted.contains(&state.new_root_sha256) || state.trusted_by.contains_key(&uri) {
            return Ok(false);
        }
        let _lock = Lock::acquire(self.dir())?;
        let Some(mut state) = self.load_state()? else {
            return Ok(false);
        };
        state.trusted_by.insert(uri, format_utc(now_seconds()));
        self.save_state(&state)?;
        Ok(true)
    }

    /// Where the rollover stands; `None` when none is under way.
    pub fn rollover_status(&self) -> Result<Option<RolloverStatus>, PkiError> {
        let Some(state) = self.load_state()? else {
            return Ok(None);
        };
        let now = now_seconds();
        let registry = self.load_registry()?;
        let live = || {
            registry
                .certificates
                .iter()
                .filter(|e| e.status == CertStatus::Active && e.not_after > now)
        };
        let mut offices: BTreeMap<String, (bool, bool)> = BTreeMap::new();
        let mut operators: BTreeMap<String, bool> = BTreeMap::new();
        for e in live() {
            let on_new = state.issued.contains(&e.serial);
            match e.peer_identity() {
                Some(PeerIdentity::Node {
                    municipality,
                    node_id,
                }) if e.kind == CertKind::Node => {
                    let trusts = state.trusted_by.contains_key(&e.identity);
                    let o = offices
                        .entry(format!("{municipality}/{node_id}"))
                        .or_insert((false, trusts));
                    o.0 |= on_new;
                    o.1 |= on_new || trusts;
                }
                Some(PeerIdentity::Operator { name }) if e.kind == CertKind::Operator => {
                    *operators.entry(name).or_insert(false) |= on_new;
                }
                _ => {}
            }
        }
        let hub_on_new_ca = self
            .hub_cert_serial(&self.hub_cert_path())?
            .is_some_and(|s| state.issued.contains(&s));
        let staged = self.hub_next_cert_path();
        let hub_staged = if staged.exists() {
            Some(
                self.hub_cert_serial(&staged)?
                    .is_some_and(|s| state.issued.contains(&s)),
            )
        } else {
            None
        };
        Ok(Some(RolloverStatus {
            started_at: format_utc(state.started_at),
            new_root_sha256: state.new_root_sha256,
            hub_on_new_ca,
            hub_staged,
            offices: offices
                .into_iter()
                .map(|(office, (on_new_ca, trusts_new_root))| OfficeState {
                    office,
                    on_new_ca,
                    trusts_new_root,
                })
                .collect(),
            operators_on_old_ca: operators
                .into_iter()
                .filter(|(_, on_new)| !on_new)
                .map(|(name, _)| name)
                .collect(),
        }))
    }

    /// Refuses to present a hub certificate of the new CA while some office does not trust the
    /// new root. Nothing to check outside a rollover or for a certificate of the old CA.
    pub(super) fn check_hub_switch(&self, serial: &str) -> Result<(), RolloverError> {
        let Some(status) = self.rollover_status()? else {
            return Ok(());
        };
        if !self.issued_by_next(serial)? {
            return Ok(());
        }
        let missing = status.not_trusting();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(RolloverError::NotTrusted(missing))
        }
    }

    /// Ends the rollover: the new root and issuing CA replace the old ones, which are kept in
    /// `pki/retired-DATE/`. Refused (naming what is missing) while the hub presents an old-CA
    /// certificate or an office holds only old-CA certificates. Returns the retired directory
    /// and the operators whose certificates stop working.
    pub fn finish_rollover(&self) -> Result<(PathBuf, Vec<String>), RolloverError> {
        let status = self.rollover_status()?.ok_or(RolloverError::NotStarted)?;
        if !status.hub_on_new_ca {
            return Err(RolloverError::HubOnOldCa);
        }
        let old = status.on_old_ca();
        if !old.is_empty() {
            return Err(RolloverError::OfficesOnOldCa(old));
        }
        let _lock = Lock::acquire(self.dir())?;
        let next = self.rollover_dir();
        let stamp: String = format_utc(now_seconds())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let retired = self.dir().join(format!("retired-{stamp}"));
        let current_root =
            fs::read(self.ca_cert_path()).map_err(io("read", &self.ca_cert_path()))?;
        let new_root = fs::read(next.join(CA_CERT)).map_err(io("read", &next.join(CA_CERT)))?;
        // A finish interrupted after the new root was put in place has nothing left to retire.
        if current_root != new_root {
            fs::create_dir_all(&retired).map_err(io("create directory", &retired))?;
            super::set_private_dir(&retired)?;
            for f in [CA_CERT, CA_KEY, ISSUING_CERT, ISSUING_KEY, CRL] {
                let from = self.dir().join(f);
                match fs::read(&from) {
                    Ok(bytes) => write_atomic(&retired.join(f), &bytes, f.ends_with(".key"))?,
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(PkiError::Io {
                            action: "read",
                            path: from,
                            source: e,
                        }
                        .into())
                    }
                }
            }
        }
        // The issuing key first and the root last: until ca.pem changes, running `finish` again
        // repeats every step.
        for f in [ISSUING_KEY, ISSUING_CERT, CRL, CA_CERT] {
            let from = next.join(f);
            let bytes = fs::read(&from).map_err(io("read", &from))?;
            write_atomic(&self.dir().join(f), &bytes, f.ends_with(".key"))?;
        }
        // A hub of the first layout kept the old root's key; it is in the retired directory.
        let legacy = self.dir().join(CA_KEY);
        if legacy.exists() {
            fs::remove_file(&legacy).map_err(io("remove", &legacy))?;
        }
        fs::remove_file(next.join(STATE)).map_err(io("remove", &next.join(STATE)))?;
        fs::remove_dir_all(&next).map_err(io("remove", &next))?;
        Ok((retired, status.operators_on_old_ca))
    }

    /// The serial of the first certificate of `path` (a hub certificate file).
    fn hub_cert_serial(&self, path: &Path) -> Result<Option<String>, PkiError> {
        let pem = match fs::read(path) {
            Ok(p) => p,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(PkiError::Io {
                    action: "read",
                    path: path.to_owned(),
                    source: e,
                })
            }
        };
        Ok(CertificateDer::from_pem_slice(&pem)
            .ok()
            .and_then(|der| super::admission::serial_of(&der)))
    }

    fn load_state(&self) -> Result<Option<State>, PkiError> {
        let path = self.rollover_dir().join(STATE);
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| PkiError::Corrupt {
                    path,
                    reason: format!("not a valid rollover state ({e})"),
                }),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(PkiError::Io {
                action: "read",
                path,
                source: e,
            }),
        }
    }

    fn save_state(&self, state: &State) -> Result<(), PkiError> {
        let path = self.rollover_dir().join(STATE);
        let mut json = serde_json::to_string_pretty(state).map_err(|e| PkiError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        json.push('\n');
        write_atomic(&path, json.as_bytes(), false)
    }
}

/// `civreg-hub pki rollover COMMAND`.
#[derive(Debug, clap::Subcommand)]
pub enum RolloverCommand {
    /// Start the overlap: a new issuing CA under the new root of --root-dir (created there if
    /// empty; keep it offline afterwards), trusted beside the old one.
    Start {
        /// The directory of the new root CA (root.pem, root.key): the offline medium.
        #[arg(long)]
        root_dir: PathBuf,
    },
    /// Where the rollover stands: the hub's certificate, and each office's CA and trust.
    Status,
    /// End the overlap: the old CA is dropped. Refused while an office would be locked out.
    Finish,
}

impl RolloverCommand {
    /// Runs the command; returns the JSON and text answers.
    pub fn run(&self, pki: &Pki) -> Result<(serde_json::Value, String), RolloverError> {
        match self {
            RolloverCommand::Start { root_dir } => {
                let st = pki.start_rollover(root_dir)?;
                let text = format!(
                    "CA rollover started: the hub now trusts the old and the new CA, and issues \
                     under the new one (new root SHA-256 {}; keep {} offline)\nnext: `civreg-hub \
                     pki require-renewal --all`, then `civreg-hub pki renew-hub --stage`, and \
                     `civreg-hub pki rollover status` until every office trusts the new root",
                    st.new_root_sha256,
                    root_dir.display()
                );
                Ok((serde_json::json!({"ok": true, "rollover": st}), text))
            }
            RolloverCommand::Status => match pki.rollover_status()? {
                None => Ok((
                    serde_json::json!({"ok": true, "rollover": null}),
                    "no CA rollover is under way".into(),
                )),
                Some(st) => {
                    let yes_no = |b: bool| if b { "yes" } else { "no" };
                    let mut text = format!(
                        "CA rollover under way since {} (new root SHA-256 {})\nhub certificate \
                         of the new CA: {}{}\n{:<24} {:<16} trusts the new root\n",
                        st.started_at,
                        st.new_root_sha256,
                        yes_no(st.hub_on_new_ca),
                        match st.hub_staged {
                            Some(true) =>
                                "; one of the new CA is staged (`pki renew-hub --activate`)",
                            Some(false) => "; one of the old CA is staged",
                            None => "",
                        },
                        "office",
                        "on the new CA"
                    );
                    for o in &st.offices {
                        text.push_str(&format!(
                            "{:<24} {:<16} {}\n",
                            o.office,
                            yes_no(o.on_new_ca),
                            yes_no(o.trusts_new_root)
                        ));
                    }
                    if !st.operators_on_old_ca.is_empty() {
                        text.push_str(&format!(
                            "operators on the old CA only (issue them new bundles): {}\n",
                            st.operators_on_old_ca.join(", ")
                        ));
                    }
                    let ready = st.hub_on_new_ca && st.on_old_ca().is_empty();
                    text.push_str(if ready {
                        "ready to finish: `civreg-hub pki rollover finish`"
                    } else {
                        "not ready to finish"
                    });
                    Ok((
                        serde_json::json!({"ok": true, "rollover": st, "ready": ready}),
                        text,
                    ))
                }
            },
            RolloverCommand::Finish => {
                let (retired, operators) = pki.finish_rollover()?;
                let mut text = format!(
                    "CA rollover finished: the hub trusts only the new CA, and offices drop the \
                     old root at their next heartbeat; the old CA is kept in {}",
                    retired.display()
                );
                if !operators.is_empty() {
                    text.push_str(&format!(
                        "\noperator certificates of the old CA no longer work: {} (issue new \
                         ones with `civreg-hub pki issue-operator`)",
                        operators.join(", ")
                    ));
                }
                Ok((
                    serde_json::json!({"ok": true, "retired": retired, "operators_on_old_ca": operators}),
                    text,
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pki() -> (tempfile::TempDir, Pki) {
        let dir = tempfile::tempdir().expect("temp dir");
        let pki = Pki::init_with_root(&dir.path().join("pki"), Some(&dir.path().join("root")), &[])
            .expect("pki");
        (dir, pki)
    }

    #[test]
    fn every_wrong_order_of_steps_is_refused_with_what_to_do() {
        let (d, pki) = pki();
        let istog = pki.issue_node("istog", "1", 365).expect("istog");
        assert!(matches!(
            pki.finish_rollover(),
            Err(RolloverError::NotStarted)
        ));
        assert!(pki.rollover_status().expect("status").is_none());
        // The root the offices already trust is not a new one.
        assert!(matches!(
            pki.start_rollover(&d.path().join("root")),
            Err(RolloverError::SameRoot(_))
        ));
        let st = pki
            .start_rollover(&d.path().join("new-root"))
            .expect("start");
        assert!(!d.path().join("pki/rollover/root.key").exists());
        assert_eq!(st.offices.len(), 1);
        assert!(!st.offices[0].on_new_ca && !st.offices[0].trusts_new_root);
        assert!(matches!(
            pki.start_rollover(&d.path().join("new-root")),
            Err(RolloverError::AlreadyStarted(_))
        ));
        // Offices are given both roots.
        let trust = pki.trust_pem().expect("trust");
        assert_eq!(fingerprints(trust.as_bytes()).len(), 2);
        assert!(fingerprints(trust.as_bytes()).contains(&st.new_root_sha256));

        // The hub's certificate of the new CA is not presented before istog/1 trusts the root.
        assert!(matches!(
            pki.finish_rollover(),
            Err(RolloverError::HubOnOldCa)
        ));
        assert!(matches!(
            pki.renew_hub(&[]),
            Err(RolloverError::NotTrusted(ref v)) if v == &["istog/1".to_string()]
        ));
        let staged = pki.stage_hub(&[]).expect("stage");
        assert!(pki.issued_by_next(&staged.serial).expect("state"));
        let before = pki.hub_cert_info().expect("hub cert");
        match pki.activate_hub_cert() {
            Err(RolloverError::NotTrusted(v)) => assert_eq!(v, ["istog/1"]),
            other => panic!("activated before the office trusted the new root: {other:?}"),
        }
        assert_eq!(pki.hub_cert_info().expect("hub cert"), before);
        let me = PeerIdentity::node("istog", "1").expect("id");
        assert!(!pki.note_trust(&me, &["00".repeat(32)]).expect("note"));
        assert!(pki
            .note_trust(&me, std::slice::from_ref(&st.new_root_sha256))
            .expect("note"));
        assert!(!pki
            .note_trust(&me, std::slice::from_ref(&st.new_root_sha256))
            .expect("once"));
        let info = pki.activate_hub_cert().expect("activate");
        assert_eq!(pki.hub_cert_info().expect("hub cert"), info);
        assert!(pki.hub_next_cert_info().expect("none").is_none());
        // The hub presents its new chain: leaf and new issuing CA.
        let chain = fs::read(pki.hub_cert_path()).expect("hub.pem");
        assert_eq!(CertificateDer::pem_slice_iter(&chain).count(), 2);
        pki.server_config()
            .expect("a TLS configuration over both CAs");

        // Finish names the office on the old CA, until it has a certificate of the new one.
        match pki.finish_rollover() {
            Err(RolloverError::OfficesOnOldCa(v)) => assert_eq!(v, ["istog/1"]),
            other => panic!("finished with istog/1 on the old CA: {other:?}"),
        }
        let renewed = pki.issue_node("istog", "1", 365).expect("renew");
        assert!(pki.issued_by_next(&renewed.entry.serial).expect("state"));
        // Revocations reach both CRLs.
        pki.revoke(&istog.entry.serial).expect("revoke old");
        let next_crl = fs::read(pki.rollover_dir().join(CRL)).expect("next crl");
        let der =
            rustls_pki_types::CertificateRevocationListDer::from_pem_slice(&next_crl).expect("crl");
        let (_, crl) = x509_parser::parse_x509_crl(&der).expect("crl");
        assert!(crl
            .iter_revoked_certificates()
            .any(|r| hex::encode(r.raw_serial()) == istog.entry.serial));

        let new_root = fs::read(pki.rollover_dir().join(CA_CERT)).expect("new root");
        let (retired, _) = pki.finish_rollover().expect("finish");
        assert!(retired.join(CA_CERT).exists() && retired.join(ISSUING_KEY).exists());
        assert_eq!(fs::read(pki.ca_cert_path()).expect("root"), new_root);
        assert!(!pki.rollover_active());
        assert_eq!(
            fingerprints(pki.trust_pem().expect("trust").as_bytes()),
            vec![st.new_root_sha256.clone()]
        );
        // The hub goes on issuing, under the new CA now in place.
        pki.issue_node("gjakove", "1", 365)
            .expect("issue after the rollover");
        pki.server_config()
            .expect("a TLS configuration over the new CA");
        assert!(matches!(
            pki.finish_rollover(),
            Err(RolloverError::NotStarted)
        ));
    }
}
