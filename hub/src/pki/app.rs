//! Server certificates for an office's clerk app (issue 14): the certificate `civreg-node serve`
//! presents when it serves the clerks of an office over the office network (HTTPS).
//!
//! An app certificate is signed by the issuing CA (the one that signs node certificates), so
//! an office PC that trusts the agency's root CA trusts it. It names the host names and IP
//! addresses the office's PCs use to reach the app (DNS and IP SANs) and, as its identity, the
//! URI `civreg://app/MUNICIPALITY/NODE_ID`; its key usage is digitalSignature and its only
//! extended key usage serverAuth, so the hub's mTLS handshake refuses it as a client (and
//! [`super::Admission`] never admits its serial either). It is recorded in `issued.json` (kind
//! `app`), listed by `pki list`, and revoked with `pki revoke app/MUNICIPALITY/NODE_ID` or its
//! serial like every certificate.
//!
//! `civreg-hub pki issue-app` (or `pki issue --app-name`) writes `app.pem` (the certificate
//! followed by the issuing CA's, the chain a browser needs), `app.key` (mode 0600) and
//! `ca.pem` (the root, for the office PCs to trust); `civreg-node app-cert install DIR`
//! installs them.

use std::net::IpAddr;
use std::path::Path;

use rcgen::{
    CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
    SerialNumber, PKCS_ECDSA_P256_SHA256,
};

use super::{
    common_name, fresh_serial, io, window_from_days, write_atomic, CertKind, CertStatus, Issued,
    IssuedEntry, Lock, PeerIdentity, Pki, PkiError, URI_PREFIX,
};

/// Usual validity of an app certificate, in days (as node certificates).
pub const APP_VALIDITY_DAYS: u32 = 365;
/// Most names one app certificate carries.
pub const MAX_APP_NAMES: usize = 20;

/// The identity of an office's clerk app: `civreg://app/istog/1`.
pub fn app_uri(municipality: &str, node_id: &str) -> String {
    format!("{URI_PREFIX}app/{municipality}/{node_id}")
}

/// The files `pki issue-app` writes.
pub const APP_CERT_FILE: &str = "app.pem";
pub const APP_KEY_FILE: &str = "app.key";
pub const APP_CA_FILE: &str = "ca.pem";

/// Each name as an IP address SAN if it parses as one, else as a DNS name SAN; at least one,
/// no wildcard, no duplicates.
fn app_sans(names: &[String]) -> Result<Vec<SanType>, PkiError> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for raw in names {
        let name = raw.trim().to_ascii_lowercase();
        if seen.contains(&name) {
            continue;
        }
        let bad = || PkiError::AppName(raw.clone());
        let san = if let Ok(ip) = name.parse::<IpAddr>() {
            if ip.is_unspecified() || ip.is_multicast() {
                return Err(bad());
            }
            SanType::IpAddress(ip)
        } else {
            rustls_pki_types::DnsName::try_from(name.as_str()).map_err(|_| bad())?;
            // A wildcard would let one office's certificate stand for another's; a trailing
            // dot or a bare label is not what browsers match.
            if name.contains('*') || name.ends_with('.') || name.is_empty() {
                return Err(bad());
            }
            SanType::DnsName(name.as_str().try_into().map_err(|_| bad())?)
        };
        seen.push(name);
        out.push(san);
    }
    if out.is_empty() {
        return Err(PkiError::AppNoName);
    }
    if out.len() > MAX_APP_NAMES {
        return Err(PkiError::AppTooManyNames(out.len()));
    }
    Ok(out)
}

impl Pki {
    /// Issues a server certificate for the clerk app of office `municipality`/`node_id` (an
    /// enrolled node: it must hold an active node certificate), naming `names` (host names or
    /// IP addresses), valid for `validity_days` (1 to 825; 365 is usual).
    pub fn issue_app(
        &self,
        municipality: &str,
        node_id: &str,
        names: &[String],
        validity_days: u32,
    ) -> Result<Issued, PkiError> {
        let node = PeerIdentity::node(municipality, node_id)?;
        let sans = app_sans(names)?;
        let (not_before, not_after) = window_from_days(validity_days)?;
        let uri = app_uri(municipality, node_id);
        let _lock = Lock::acquire(&self.dir)?;
        let mut registry = self.load_registry()?;
        let node_uri = node.uri();
        if !registry
            .certificates
            .iter()
            .any(|e| e.identity == node_uri && e.status == CertStatus::Active)
        {
            return Err(PkiError::AppNotEnrolled(format!(
                "{municipality}/{node_id}"
            )));
        }
        let issuer = self.load_issuer()?;
        let serial = fresh_serial(&registry)?;
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = common_name(&format!("clerk app {municipality}/{node_id}"));
        let mut alt = sans;
        alt.push(SanType::URI(uri.as_str().try_into()?));
        params.subject_alt_names = alt;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.not_before = not_before;
        params.not_after = not_after;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &issuer)?;
        let entry = IssuedEntry {
            serial: hex::encode(serial),
            identity: uri,
            kind: CertKind::App,
            not_before,
            not_after,
            status: CertStatus::Active,
            revoked_at: None,
        };
        registry.certificates.push(entry.clone());
        self.save_registry(&registry)?;
        // The chain a browser needs: the office PCs trust the root, not the issuing CA.
        let mut chain = cert.pem();
        if self.has_issuing_ca() {
            chain.push_str(&self.issuing_pem()?);
        }
        Ok(Issued {
            entry,
            cert_pem: chain,
            key_pem: key.serialize_pem(),
        })
    }
}

impl Issued {
    /// Writes an app certificate's `app.pem` (with its chain), `app.key` (mode 0600) and the
    /// root CA `ca.pem` into `out` (created if missing; an enrolment bundle, or a directory of
    /// its own). Refuses to overwrite `app.pem` or `app.key`; a `ca.pem` already there (a
    /// bundle's) is left as it is.
    pub fn write_app(&self, out: &Path, ca_pem: &str) -> Result<(), PkiError> {
        std::fs::create_dir_all(out).map_err(io("create directory", out))?;
        for name in [APP_CERT_FILE, APP_KEY_FILE] {
            let path = out.join(name);
            if path.exists() {
                return Err(PkiError::BundleExists(path));
            }
        }
        write_atomic(&out.join(APP_KEY_FILE), self.key_pem.as_bytes(), true)?;
        write_atomic(&out.join(APP_CERT_FILE), self.cert_pem.as_bytes(), false)?;
        let ca = out.join(APP_CA_FILE);
        if !ca.exists() {
            write_atomic(&ca, ca_pem.as_bytes(), false)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_become_dns_or_ip_sans_and_bad_ones_are_refused() {
        let sans = app_sans(&names(&[
            "Clerks.Istog.rks",
            "10.20.0.5",
            "clerks.istog.rks",
        ]))
        .expect("good names");
        assert_eq!(sans.len(), 2, "{sans:?}");
        assert!(matches!(&sans[0], SanType::DnsName(d) if d.as_str() == "clerks.istog.rks"));
        assert!(matches!(sans[1], SanType::IpAddress(_)));
        for bad in [
            "*.istog.rks",
            "clerks.istog.rks.",
            "a b",
            "0.0.0.0",
            "",
            "-x-.",
            "é.rks",
        ] {
            assert!(app_sans(&names(&[bad])).is_err(), "{bad:?} accepted");
        }
        assert!(matches!(app_sans(&[]), Err(PkiError::AppNoName)));
        let many: Vec<String> = (0..=MAX_APP_NAMES).map(|i| format!("pc{i}.rks")).collect();
        assert!(matches!(app_sans(&many), Err(PkiError::AppTooManyNames(_))));
    }

    #[test]
    fn app_names_never_panic_on_arbitrary_input() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"abz09.-*:[]% \x00\xc3\xa9/_";
        for _ in 0..5_000 {
            let count = (next() % 4) as usize;
            let names: Vec<String> = (0..count)
                .map(|_| {
                    let len = (next() % 70) as usize;
                    let bytes: Vec<u8> = (0..len)
                        .map(|_| alphabet[(next() as usize) % alphabet.len()])
                        .collect();
                    String::from_utf8_lossy(&bytes).into_owned()
                })
                .collect();
            // An answer, never a panic; whatever is accepted is a name rustls can match.
            if let Ok(sans) = app_sans(&names) {
                for san in sans {
                    if let SanType::DnsName(d) = san {
                        assert!(rustls_pki_types::DnsName::try_from(d.as_str()).is_ok());
                    }
                }
            }
        }
    }

    #[test]
    fn an_app_certificate_is_for_servers_only_listed_and_revocable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::init(&dir.path().join("pki"), &[]).expect("pki");
        // Only an enrolled office gets one.
        let refused = pki.issue_app("istog", "1", &names(&["clerks.istog.rks"]), 365);
        assert!(
            matches!(refused, Err(PkiError::AppNotEnrolled(_))),
            "{refused:?}"
        );
        pki.issue_node("istog", "1", 365).expect("node");
        let app = pki
            .issue_app(
                "istog",
                "1",
                &names(&["clerks.istog.rks", "10.20.0.5"]),
                365,
            )
            .expect("app certificate");
        assert_eq!(app.entry.kind, CertKind::App);
        assert_eq!(app.entry.identity, "civreg://app/istog/1");

        // The chain: the certificate, then the issuing CA's.
        let ders: Vec<_> =
            rustls_pki_types::CertificateDer::pem_slice_iter(app.cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .expect("pem chain");
        assert_eq!(ders.len(), 2);
        let (_, cert) = x509_parser::parse_x509_certificate(&ders[0]).expect("x509");
        let eku = cert
            .extended_key_usage()
            .expect("eku")
            .expect("an extended key usage")
            .value;
        assert!(eku.server_auth && !eku.client_auth && !eku.any, "{eku:?}");
        let ku = cert.key_usage().expect("ku").expect("a key usage").value;
        assert!(ku.digital_signature() && !ku.key_cert_sign());
        let days = (cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp())
            / 86_400;
        assert!((365..=366).contains(&days), "{days} days");

        // In the registry, never admitted to the hub's mTLS, revoked by its office's name.
        assert!(pki.list().expect("list").contains(&app.entry));
        let admission = super::super::Admission::new(&pki);
        assert!(admission.check(&app.entry.serial).is_err());
        let revoked = pki.revoke("app/istog/1").expect("revoke");
        assert_eq!(revoked.len(), 1);
        assert_eq!(revoked[0].serial, app.entry.serial);
        let listed = pki.list().expect("list");
        let e = listed
            .iter()
            .find(|e| e.serial == app.entry.serial)
            .expect("still listed");
        assert_eq!(e.status, CertStatus::Revoked);
        // The node's own certificate is untouched.
        assert!(listed
            .iter()
            .any(|e| e.kind == CertKind::Node && e.status == CertStatus::Active));

        // Written out: the key private, nothing overwritten.
        let out = dir.path().join("app-istog-1");
        app.write_app(&out, &pki.ca_pem()).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join(APP_KEY_FILE))
                .expect("key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            app.write_app(&out, &pki.ca_pem()),
            Err(PkiError::BundleExists(_))
        ));
    }
}
