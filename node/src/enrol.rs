//! `civreg-node enrol --bundle DIR` (issue 17 part B): applies an enrolment bundle to a node
//! that already exists, where `init --bundle` refuses an existing database.
//!
//! It serves three cases: new hub addresses (the bundle's `hub_urls`, or the one `hub_url` of a
//! bundle of the first format; a running `serve` takes them at its next round, see
//! [`crate::worker`]), a certificate carried to the office by hand, and the first enrolment of a node that started alone (its whole local
//! log is then pushed at the next sync, since the hub has acknowledged nothing of it).
//!
//! The bundle must be for this node's own identity (municipality and node id), and its key
//! must be the one its certificate is for; nothing is changed otherwise. The certificate, key
//! and CA are installed atomically as a renewal installs them (`renew::install`), then
//! `bundle.json`.

use crate::node::Node;
use crate::sync::{tls_dir, Bundle};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("{path}: {why}; use the whole bundle directory from `civreg-hub pki issue`")]
    Bundle { path: String, why: String },
    #[error(
        "the bundle is for {bundle}, but this node is {node}: ask the agency for a bundle of \
         this node (`civreg-hub pki issue --municipality {m} --node-id {n}`)"
    )]
    OtherNode {
        bundle: String,
        node: String,
        m: String,
        n: String,
    },
    #[error("the bundle's clerk app certificate: {0}")]
    AppCert(#[from] crate::appcert::AppCertError),
    #[error("could not install the bundle into {path}: {source}; check the data directory's permissions and free space")]
    Install {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// What `enrol` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Enrolled {
    pub identity: String,
    /// The first hub address.
    pub hub_url: String,
    /// Every hub address, in the order the worker tries them.
    pub hub_urls: Vec<String>,
    /// The node had no enrolment before: its whole log goes to the hub at the next sync.
    pub first: bool,
    /// The first hub address before, when the list changed.
    pub previous_hub_url: Option<String>,
    /// The hub addresses before, when the list changed.
    pub previous_hub_urls: Option<Vec<String>>,
    /// Unix seconds.
    pub not_after: i64,
    /// The clerk app's certificate, when the bundle carried one (`pki issue --app-name`).
    pub app_cert: Option<crate::appcert::AppCertInfo>,
}

/// Applies the bundle in `dir` to `node`, whose data directory is `data_dir`.
pub fn enrol(node: &Node, data_dir: &Path, dir: &Path) -> Result<Enrolled, EnrolError> {
    let bad = |f: &str, why: String| EnrolError::Bundle {
        path: dir.join(f).display().to_string(),
        why,
    };
    let read = |f: &str| std::fs::read(dir.join(f)).map_err(|e| bad(f, e.to_string()));
    let text = read("bundle.json")?;
    let b: Bundle = serde_json::from_slice(&text).map_err(|e| bad("bundle.json", e.to_string()))?;
    b.check_hubs()
        .map_err(|e| bad("bundle.json", e.to_string()))?;
    let id = node.identity();
    let (m, n) = (id.municipality.clone(), id.node_id.clone());
    if b.municipality.as_deref() != Some(m.as_str()) || b.node_id.as_deref() != Some(n.as_str()) {
        return Err(EnrolError::OtherNode {
            bundle: b.identity.clone(),
            node: format!("{m}/{n}"),
            m,
            n,
        });
    }
    let (cert, key, ca) = (read("cert.pem")?, read("key.pem")?, read("ca.pem")?);
    let uri = format!("civreg://node/{m}/{n}");
    let (_, pem) = x509_parser::pem::parse_x509_pem(&cert)
        .map_err(|e| bad("cert.pem", format!("not a PEM certificate ({e})")))?;
    let parsed = pem
        .parse_x509()
        .map_err(|e| bad("cert.pem", format!("unreadable certificate ({e})")))?;
    let key_text = std::str::from_utf8(&key).map_err(|_| bad("key.pem", "not a PEM key".into()))?;
    let pair = rcgen::KeyPair::from_pem(key_text)
        .map_err(|e| bad("key.pem", format!("not a usable private key ({e})")))?;
    if parsed.public_key().subject_public_key.data.as_ref() != pair.public_key_raw() {
        return Err(bad(
            "key.pem",
            "it is not the key cert.pem is for (files of two bundles mixed?)".into(),
        ));
    }
    let names_me = crate::renew::names_uri(&parsed, &uri);
    if !names_me {
        return Err(bad("cert.pem", format!("it does not name {uri}")));
    }
    if x509_parser::pem::parse_x509_pem(&ca).is_err() {
        return Err(bad("ca.pem", "not a PEM certificate".into()));
    }
    let not_after = parsed.validity().not_after.timestamp();
    // The clerk app's certificate, checked against the bundle's CA before anything changes.
    let app = if dir.join(crate::appcert::SOURCE_CERT).exists() {
        let (cert, key) = crate::appcert::read_source(dir)?;
        let info = crate::appcert::check(&ca, (m.as_str(), n.as_str()), &cert, &key)?;
        Some((cert, key, info))
    } else {
        None
    };
    let before = crate::sync::load_bundle(data_dir).ok();
    let tls = tls_dir(data_dir);
    let install_err = |source: std::io::Error| EnrolError::Install {
        path: tls.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&tls).map_err(install_err)?;
    crate::renew::install(&tls, &cert, &key, Some(&ca)).map_err(install_err)?;
    crate::renew::write_synced(&tls.join("bundle.json"), &text, false).map_err(install_err)?;
    // The new bundle's hub list applies, not one a hub sent before (`hublist.rs`).
    crate::hublist::forget(data_dir).map_err(install_err)?;
    let app_cert = match app {
        Some((cert, key, info)) => {
            crate::appcert::write(data_dir, &cert, &key)?;
            Some(info)
        }
        None => None,
    };
    let hub_urls = b.hubs();
    let previous = before.as_ref().map(Bundle::hubs).filter(|p| *p != hub_urls);
    Ok(Enrolled {
        app_cert,
        identity: b.identity,
        previous_hub_url: previous.as_ref().and_then(|p| p.first().cloned()),
        previous_hub_urls: previous,
        first: before.is_none(),
        hub_url: b.hub_url,
        hub_urls,
        not_after,
    })
}

/// `enrol`'s answer as text.
pub fn text(e: &Enrolled) -> String {
    let mut out = format!(
        "enrolled as {} with the hub at {} (certificate valid until {})",
        e.identity,
        e.hub_urls.join(", then "),
        civreg_cert::format_time(e.not_after)
    );
    if e.first {
        out.push_str("\nfirst enrolment: the whole local log is sent to the hub at the next sync");
    }
    if let Some(a) = &e.app_cert {
        out.push_str(&format!("\n{}", crate::appcert::installed_text(a)));
    }
    if let Some(p) = &e.previous_hub_urls {
        out.push_str(&format!(
            "\nthe hub addresses changed (were {}): a running `civreg-node serve` uses them from its next round",
            p.join(", ")
        ));
    }
    out
}
