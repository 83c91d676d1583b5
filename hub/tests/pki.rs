//! The agency PKI: files on disk, issuing, revocation and the CRL, and real TLS handshakes
//! against the hub's server configuration.

use std::path::Path;
use std::sync::Arc;

use civreg_hub::pki::{
    peer_identity, CertKind, CertStatus, Issued, PeerIdentity, Pki, PkiError, MAX_VALIDITY_DAYS,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, RootCertStore, ServerConfig,
    ServerConnection, SupportedProtocolVersion,
};
use time::{Duration, OffsetDateTime};

fn init(dir: &Path) -> Pki {
    Pki::init(dir, &[]).expect("init works on an empty directory")
}

fn der_of(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).expect("a PEM certificate")
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("file exists")
        .permissions()
        .mode()
        & 0o777
}

fn crl_serials_and_number(pki: &Pki) -> (Vec<String>, u64) {
    let pem = pki.crl_pem().expect("crl.pem readable");
    let der = CertificateRevocationListDer::from_pem_slice(pem.as_bytes()).expect("a PEM CRL");
    let (_, crl) = x509_parser::parse_x509_crl(&der).expect("CRL parses");
    let mut serials: Vec<String> = crl
        .iter_revoked_certificates()
        .map(|r| hex::encode(r.raw_serial()))
        .collect();
    serials.sort();
    let number = crl.crl_number().expect("CRL has a number").to_bytes_be();
    let number = number.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b));
    (serials, number)
}

// ---------- files ----------

#[test]
fn init_creates_the_files_with_private_keys() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    let pki = init(&dir);
    // The root CA's key is not here (issue 13, finding 9): the issuing CA's is.
    assert!(!dir.join("ca.key").exists());
    for p in [
        pki.ca_cert_path(),
        dir.join("issuing.key"),
        pki.issuing_cert_path(),
        pki.hub_cert_path(),
        pki.hub_key_path(),
        pki.crl_path(),
        pki.registry_path(),
    ] {
        assert!(p.is_file(), "{} missing", p.display());
    }
    #[cfg(unix)]
    {
        assert_eq!(mode(&dir.join("issuing.key")), 0o600);
        assert_eq!(mode(&pki.hub_key_path()), 0o600);
        assert_eq!(mode(&dir), 0o700);
    }
    // No temporary or lock files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("readable")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The hub certificate is the one entry of the registry.
    let list = pki.list().expect("registry readable");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].kind, CertKind::Hub);
    assert_eq!(list[0].identity, "hub:localhost,127.0.0.1");
    assert_eq!(list[0].status, CertStatus::Active);

    // The CRL is empty and number 1.
    assert_eq!(crl_serials_and_number(&pki), (vec![], 1));
}

#[test]
fn the_root_is_a_pathlen_1_ca_for_ten_years_over_a_pathlen_0_issuing_ca() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let der = der_of(&pki.ca_pem());
    let (_, ca) = x509_parser::parse_x509_certificate(&der).expect("parses");
    let cn: Vec<_> = ca
        .subject()
        .iter_common_name()
        .filter_map(|c| c.as_str().ok())
        .collect();
    assert_eq!(cn, ["civreg agency CA"]);
    let bc = ca
        .basic_constraints()
        .expect("valid")
        .expect("present")
        .value;
    assert!(bc.ca);
    assert_eq!(bc.path_len_constraint, Some(1));
    let issuing = std::fs::read_to_string(pki.issuing_cert_path()).expect("issuing.pem");
    let issuing = der_of(&issuing);
    let (_, issuing) = x509_parser::parse_x509_certificate(&issuing).expect("parses");
    assert_eq!(issuing.issuer(), ca.subject());
    let ibc = issuing
        .basic_constraints()
        .expect("valid")
        .expect("present")
        .value;
    assert!(ibc.ca);
    assert_eq!(ibc.path_len_constraint, Some(0));
    let ku = ca.key_usage().expect("valid").expect("present").value;
    assert!(ku.key_cert_sign() && ku.crl_sign());
    let years = (ca.validity().not_after.timestamp() - ca.validity().not_before.timestamp())
        / (365 * 86_400);
    assert_eq!(years, 10);
}

#[test]
fn init_twice_is_refused_and_keeps_the_ca() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let err = Pki::init(tmp.path(), &[]).expect_err("second init refused");
    assert!(matches!(err, PkiError::AlreadyInitialised { .. }), "{err}");
    assert!(err.to_string().contains("already holds an agency CA"));
    assert_eq!(
        Pki::open(tmp.path()).expect("still opens").ca_pem(),
        pki.ca_pem()
    );
}

#[test]
fn a_ca_key_without_a_ca_cert_is_not_overwritten() {
    let tmp = tempfile::tempdir().expect("tempdir");
    init(tmp.path());
    std::fs::remove_file(tmp.path().join("ca.pem")).expect("removed");
    let key_before = std::fs::read(tmp.path().join("issuing.key")).expect("key");
    let err = Pki::init(tmp.path(), &[]).expect_err("refused");
    assert!(matches!(err, PkiError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().contains("remove issuing.key to start over"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(tmp.path().join("issuing.key")).expect("key"),
        key_before
    );
}

#[test]
fn open_of_an_uninitialised_dir_says_to_run_pki_init() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for dir in [tmp.path().to_path_buf(), tmp.path().join("missing")] {
        let err = Pki::open(&dir).expect_err("nothing there");
        assert!(matches!(err, PkiError::NotInitialised { .. }), "{err}");
        assert!(
            err.to_string().contains("run `civreg-hub pki init`"),
            "{err}"
        );
    }
}

#[test]
fn a_reopened_pki_issues_certificates_that_chain_to_the_ca() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ca_pem = init(tmp.path()).ca_pem();
    let pki = Pki::open(tmp.path()).expect("opens");
    assert_eq!(pki.ca_pem(), ca_pem);
    let issued = pki.issue_node("prizren", "2", 365).expect("issues");
    let server = Arc::new(pki.server_config().expect("server config"));
    let client = client_config(&ca_pem, Some(&issued), TLS13);
    let (srv, _) = handshake(&server, &client, "localhost").expect("accepted");
    assert_eq!(
        peer_identity(&srv.peer_certificates().expect("client cert")[0]).expect("identity"),
        PeerIdentity::Node {
            municipality: "prizren".into(),
            node_id: "2".into()
        }
    );
}

#[test]
fn a_ca_key_that_does_not_match_is_reported() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let pki = init(a.path());
    init(b.path());
    std::fs::copy(b.path().join("issuing.key"), a.path().join("issuing.key")).expect("copy");
    let err = pki.issue_node("prishtine", "1", 365).expect_err("refused");
    assert!(matches!(err, PkiError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("does not belong"), "{err}");
}

// ---------- issuing ----------

#[test]
fn issue_node_makes_a_client_cert_for_the_identity() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let issued = pki.issue_node("prishtine", "1", 365).expect("issues");
    assert_eq!(issued.entry.identity, "civreg://node/prishtine/1");
    assert_eq!(issued.entry.kind, CertKind::Node);
    assert_eq!(issued.entry.status, CertStatus::Active);
    assert_eq!(issued.entry.serial.len(), 32);
    assert!(issued.key_pem.contains("PRIVATE KEY"));

    let der = der_of(&issued.cert_pem);
    let identity = peer_identity(&der).expect("identity");
    assert_eq!(identity.to_string(), "node prishtine/1");
    assert_eq!(issued.entry.peer_identity(), Some(identity));

    let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("parses");
    let cn: Vec<_> = cert
        .subject()
        .iter_common_name()
        .filter_map(|c| c.as_str().ok())
        .collect();
    assert_eq!(cn, ["prishtine/1"]);
    assert_eq!(hex::encode(cert.raw_serial()), issued.entry.serial);
    let eku = cert
        .extended_key_usage()
        .expect("valid")
        .expect("present")
        .value;
    assert!(eku.client_auth && !eku.server_auth);
    let ku = cert.key_usage().expect("valid").expect("present").value;
    assert!(ku.digital_signature() && !ku.key_cert_sign());
    let bc = cert.basic_constraints().expect("valid").map(|b| b.value.ca);
    assert_ne!(bc, Some(true));

    let now = OffsetDateTime::now_utc().unix_timestamp();
    let not_before = cert.validity().not_before.timestamp();
    let not_after = cert.validity().not_after.timestamp();
    assert!(not_before <= now && now - not_before <= 2 * 3600);
    assert!((not_after - (now + 365 * 86_400)).abs() <= 120);
    assert_eq!(not_before, issued.entry.not_before.unix_timestamp());
    assert_eq!(not_after, issued.entry.not_after.unix_timestamp());
}

#[test]
fn issue_node_refuses_bad_input() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let err = pki.issue_node("prishtina", "1", 365).expect_err("unknown");
    assert!(matches!(err, PkiError::UnknownMunicipality(_)), "{err}");
    assert!(err.to_string().contains("e.g. prishtine"));
    for bad_id in ["", "WS1", "ws 1", "1234567890123", "a/b"] {
        let err = pki.issue_node("prishtine", bad_id, 365).expect_err(bad_id);
        assert!(matches!(err, PkiError::NodeId(_)), "{bad_id:?}: {err}");
    }
    for days in [0, MAX_VALIDITY_DAYS + 1, u32::MAX] {
        let err = pki.issue_node("prishtine", "1", days).expect_err("days");
        assert!(matches!(err, PkiError::ValidityDays(_)), "{err}");
    }
    assert!(pki.issue_node("prishtine", "1", MAX_VALIDITY_DAYS).is_ok());
    let now = OffsetDateTime::now_utc();
    assert!(matches!(
        pki.issue_node_with_validity("prishtine", "1", now, now - Duration::days(1)),
        Err(PkiError::ValidityWindow { .. })
    ));
    assert!(matches!(
        pki.issue_node_with_validity("prishtine", "1", now, now + Duration::days(2000)),
        Err(PkiError::ValidityWindow { .. })
    ));
    // Only the one good certificate (and the hub's) were recorded.
    assert_eq!(pki.list().expect("list").len(), 2);
}

#[test]
fn issue_operator_and_its_rules() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let issued = pki.issue_operator("ana", 90).expect("issues");
    assert_eq!(issued.entry.identity, "civreg://operator/ana");
    assert_eq!(issued.entry.kind, CertKind::Operator);
    let identity = peer_identity(&der_of(&issued.cert_pem)).expect("identity");
    assert_eq!(identity, PeerIdentity::Operator { name: "ana".into() });
    assert_eq!(identity.to_string(), "operator ana");
    for bad in ["", "Ana", "ana krasniqi", "ana/x", &"a".repeat(33), "-ana"] {
        let err = pki.issue_operator(bad, 90).expect_err(bad);
        assert!(matches!(err, PkiError::OperatorName(_)), "{bad:?}: {err}");
    }
    assert!(pki.issue_operator("a.krasniqi_2-x", 90).is_ok());
}

#[test]
fn reissuing_is_allowed_and_both_are_recorded() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let a = pki.issue_node("peje", "1", 365).expect("first");
    let b = pki.issue_node("peje", "1", 365).expect("renewal");
    assert_ne!(a.entry.serial, b.entry.serial);
    let list = pki.list().expect("list");
    let active: Vec<_> = list
        .iter()
        .filter(|e| e.identity == "civreg://node/peje/1" && e.status == CertStatus::Active)
        .collect();
    assert_eq!(active.len(), 2);
}

#[test]
fn the_registry_is_json_with_readable_times() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let issued = pki.issue_node("gjakove", "ws2", 30).expect("issues");
    let text = std::fs::read_to_string(pki.registry_path()).expect("readable");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let certs = json["certificates"].as_array().expect("array");
    let entry = certs
        .iter()
        .find(|e| e["serial"] == issued.entry.serial.as_str())
        .expect("recorded");
    assert_eq!(entry["identity"], "civreg://node/gjakove/ws2");
    assert_eq!(entry["kind"], "node");
    assert_eq!(entry["status"], "active");
    assert!(entry["revoked_at"].is_null());
    let nb = entry["not_before"].as_str().expect("string");
    assert_eq!(nb.len(), 20);
    assert!(nb.ends_with('Z'));
    assert_eq!(json["crl_number"], 1);
}

#[test]
fn a_bundle_holds_cert_key_ca_and_description() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(&tmp.path().join("pki"));
    let issued = pki.issue_node("ferizaj", "1", 365).expect("issues");
    let out = tmp.path().join("bundle");
    issued
        .write_bundle(&out, &pki.ca_pem(), "https://hub.example:7443")
        .expect("written");
    assert_eq!(
        std::fs::read_to_string(out.join("cert.pem")).expect("cert"),
        issued.cert_pem
    );
    assert_eq!(
        std::fs::read_to_string(out.join("key.pem")).expect("key"),
        issued.key_pem
    );
    assert_eq!(
        std::fs::read_to_string(out.join("ca.pem")).expect("ca"),
        pki.ca_pem()
    );
    #[cfg(unix)]
    assert_eq!(mode(&out.join("key.pem")), 0o600);
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bundle.json")).expect("json"))
            .expect("valid json");
    assert_eq!(
        info,
        serde_json::json!({
            "identity": "civreg://node/ferizaj/1",
            "municipality": "ferizaj",
            "node_id": "1",
            "hub_url": "https://hub.example:7443",
        })
    );
    // Never overwritten.
    let err = issued
        .write_bundle(&out, &pki.ca_pem(), "https://hub.example:7443")
        .expect_err("exists");
    assert!(matches!(err, PkiError::BundleExists(_)), "{err}");

    let op = pki.issue_operator("ana", 30).expect("issues");
    let out = tmp.path().join("ana");
    op.write_bundle(&out, &pki.ca_pem(), "https://hub")
        .expect("written");
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bundle.json")).expect("json"))
            .expect("valid json");
    assert_eq!(info["operator"], "ana");
    assert!(info.get("node_id").is_none());
}

// ---------- revocation ----------

#[test]
fn revoke_by_serial_updates_registry_and_crl() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let a = pki.issue_node("prishtine", "1", 365).expect("a");
    let b = pki.issue_node("prishtine", "2", 365).expect("b");

    // Upper case and colon-separated serials are accepted.
    let colons: Vec<String> = a
        .entry
        .serial
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect();
    let revoked = pki.revoke(&colons.join(":")).expect("revoked");
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].serial, a.entry.serial);
    assert_eq!(revoked[0].status, CertStatus::Revoked);
    assert!(revoked[0].revoked_at.is_some());

    let list = pki.list().expect("list");
    let status = |serial: &str| {
        list.iter()
            .find(|e| e.serial == serial)
            .expect("listed")
            .status
    };
    assert_eq!(status(&a.entry.serial), CertStatus::Revoked);
    assert_eq!(status(&b.entry.serial), CertStatus::Active);
    assert_eq!(
        crl_serials_and_number(&pki),
        (vec![a.entry.serial.clone()], 2)
    );

    // Revoking it again finds no active certificate.
    let err = pki.revoke(&a.entry.serial).expect_err("already revoked");
    assert!(matches!(err, PkiError::NoMatch(_)), "{err}");
    assert_eq!(crl_serials_and_number(&pki).1, 2);
}

#[test]
fn revoke_by_identity_revokes_every_active_cert_of_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let a1 = pki.issue_node("prishtine", "1", 365).expect("a1");
    let a2 = pki.issue_node("prishtine", "1", 365).expect("renewal");
    let other = pki.issue_node("prishtine", "2", 365).expect("other");
    let op = pki.issue_operator("ana", 30).expect("op");

    let revoked = pki.revoke("prishtine/1").expect("revoked");
    let mut serials: Vec<_> = revoked.iter().map(|e| e.serial.clone()).collect();
    serials.sort();
    let mut expected = vec![a1.entry.serial.clone(), a2.entry.serial.clone()];
    expected.sort();
    assert_eq!(serials, expected);
    assert_eq!(crl_serials_and_number(&pki), (expected.clone(), 2));

    pki.revoke("operator/ana").expect("operator revoked");
    let mut expected3 = expected.clone();
    expected3.push(op.entry.serial.clone());
    expected3.sort();
    assert_eq!(crl_serials_and_number(&pki), (expected3.clone(), 3));

    // The URI form works too, and the CRL keeps every revoked serial, number growing.
    pki.revoke("civreg://node/prishtine/2").expect("revoked");
    let mut all = expected3;
    all.push(other.entry.serial.clone());
    all.sort();
    assert_eq!(crl_serials_and_number(&pki), (all, 4));
    assert!(pki
        .list()
        .expect("list")
        .iter()
        .filter(|e| e.kind != CertKind::Hub)
        .all(|e| e.status == CertStatus::Revoked));
}

#[test]
fn revoking_what_does_not_exist_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    pki.issue_node("prishtine", "1", 365).expect("issues");
    for selector in [
        "prishtine/2",
        "operator/nobody",
        "0123456789abcdef0123456789abcdef",
        "nonsense",
        "",
    ] {
        let err = pki.revoke(selector).expect_err(selector);
        assert!(matches!(err, PkiError::NoMatch(_)), "{selector:?}: {err}");
    }
    assert!(matches!(
        pki.revoke("prishtina/1"),
        Err(PkiError::UnknownMunicipality(_))
    ));
    assert_eq!(crl_serials_and_number(&pki), (vec![], 1));
}

// ---------- TLS ----------

const TLS13: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13];
const TLS12: &[&SupportedProtocolVersion] = &[&rustls::version::TLS12];

fn client_config(
    ca_pem: &str,
    cert: Option<&Issued>,
    versions: &[&'static SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(der_of(ca_pem)).expect("CA usable as root");
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(versions)
            .expect("versions supported")
            .with_root_certificates(roots);
    let mut config = match cert {
        Some(issued) => builder
            .with_client_auth_cert(
                vec![der_of(&issued.cert_pem)],
                PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).expect("key"),
            )
            .expect("cert and key match"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

#[derive(Debug)]
enum Refused {
    ByServer(rustls::Error),
    ByClient(rustls::Error),
}

/// Runs a full handshake between the two configurations in memory, pumping bytes both ways,
/// until both sides are done or one refuses.
fn handshake(
    server: &Arc<ServerConfig>,
    client: &Arc<ClientConfig>,
    name: &str,
) -> Result<(ServerConnection, ClientConnection), Refused> {
    let name = ServerName::try_from(name.to_string()).expect("valid server name");
    let mut c = ClientConnection::new(client.clone(), name).expect("client connection");
    let mut s = ServerConnection::new(server.clone()).expect("server connection");
    for _ in 0..50 {
        let mut buf = Vec::new();
        while c.wants_write() {
            c.write_tls(&mut buf).expect("write to a Vec");
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            s.read_tls(&mut rd).expect("read from a slice");
            s.process_new_packets().map_err(Refused::ByServer)?;
        }
        let mut buf = Vec::new();
        while s.wants_write() {
            s.write_tls(&mut buf).expect("write to a Vec");
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            c.read_tls(&mut rd).expect("read from a slice");
            c.process_new_packets().map_err(Refused::ByClient)?;
        }
        if !c.is_handshaking() && !s.is_handshaking() && !c.wants_write() && !s.wants_write() {
            return Ok((s, c));
        }
    }
    panic!("handshake did not finish in 50 rounds");
}

fn refused_by_server(
    result: Result<(ServerConnection, ClientConnection), Refused>,
) -> rustls::Error {
    match result {
        Err(Refused::ByServer(e)) => e,
        Err(Refused::ByClient(e)) => panic!("the client refused first: {e}"),
        Ok(_) => panic!("the server accepted the client"),
    }
}

fn refused_by_client(
    result: Result<(ServerConnection, ClientConnection), Refused>,
) -> rustls::Error {
    match result {
        Err(Refused::ByClient(e)) => e,
        Err(Refused::ByServer(e)) => panic!("the server refused first: {e}"),
        Ok(_) => panic!("the client accepted the server"),
    }
}

#[test]
fn a_valid_node_cert_is_accepted_over_tls13_and_tls12() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let issued = pki.issue_node("prishtine", "1", 365).expect("issues");
    let server = Arc::new(pki.server_config().expect("server config"));
    for (versions, expected) in [
        (TLS13, rustls::ProtocolVersion::TLSv1_3),
        (TLS12, rustls::ProtocolVersion::TLSv1_2),
    ] {
        let client = client_config(&pki.ca_pem(), Some(&issued), versions);
        let (s, c) = handshake(&server, &client, "localhost").expect("accepted");
        assert_eq!(s.protocol_version(), Some(expected));
        assert_eq!(s.alpn_protocol(), Some(&b"h2"[..]));
        assert_eq!(c.alpn_protocol(), Some(&b"h2"[..]));
        let certs = s
            .peer_certificates()
            .expect("the server sees the client cert");
        assert_eq!(
            peer_identity(&certs[0]).expect("identity"),
            PeerIdentity::Node {
                municipality: "prishtine".into(),
                node_id: "1".into()
            }
        );
    }
}

#[test]
fn an_operator_cert_is_accepted_and_identified() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let issued = pki.issue_operator("ana", 30).expect("issues");
    let server = Arc::new(pki.server_config().expect("server config"));
    let client = client_config(&pki.ca_pem(), Some(&issued), TLS13);
    let (s, _) = handshake(&server, &client, "127.0.0.1").expect("accepted");
    let certs = s.peer_certificates().expect("client cert");
    assert_eq!(
        peer_identity(&certs[0]).expect("identity").to_string(),
        "operator ana"
    );
}

/// Issue 15: a document signer's certificate (key usage digitalSignature, extended key usage
/// documentSigning only) never opens a TLS connection, though it chains to the same CA.
#[test]
fn a_document_signer_cert_is_refused_for_tls() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    pki.issue_node("istog", "1", 365).expect("node");
    let signer = pki.issue_signer(Some(("istog", "1")), 365).expect("signer");
    assert_eq!(signer.entry.kind, CertKind::Signer);
    assert_eq!(signer.entry.identity, "civreg://signer/istog/1");
    let server = Arc::new(pki.server_config().expect("server config"));
    for versions in [TLS13, TLS12] {
        let client = client_config(&pki.ca_pem(), Some(&signer), versions);
        let err = refused_by_server(handshake(&server, &client, "localhost"));
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(CertificateError::InvalidPurpose)
                    | rustls::Error::InvalidCertificate(
                        CertificateError::InvalidPurposeContext { .. }
                    )
            ),
            "{err:?}"
        );
    }
    // Even if a TLS layer accepted its purpose, the registry check would not admit it.
    let admission = civreg_hub::pki::Admission::new(&pki);
    assert!(admission.check(&signer.entry.serial).is_err());
    // It is revoked like a node's, by its identity, and the node's own certificate stays.
    let revoked = pki.revoke("signer/istog/1").expect("revoke");
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].kind, CertKind::Signer);
    let list = pki.list().expect("list");
    assert!(list
        .iter()
        .any(|e| e.kind == CertKind::Node && e.status == CertStatus::Active));
}

#[test]
fn a_client_without_a_cert_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let server = Arc::new(pki.server_config().expect("server config"));
    for versions in [TLS13, TLS12] {
        let client = client_config(&pki.ca_pem(), None, versions);
        let err = refused_by_server(handshake(&server, &client, "localhost"));
        assert!(
            matches!(err, rustls::Error::NoCertificatesPresented),
            "{err}"
        );
    }
}

#[test]
fn a_cert_from_another_ca_is_refused() {
    let ours = tempfile::tempdir().expect("tempdir");
    let theirs = tempfile::tempdir().expect("tempdir");
    let pki = init(ours.path());
    let foreign = init(theirs.path());
    let issued = foreign.issue_node("prishtine", "1", 365).expect("issues");
    let server = Arc::new(pki.server_config().expect("server config"));
    // The client trusts our CA (so it accepts the hub) but presents a foreign cert. Both CAs
    // are named "civreg agency CA", so webpki finds our CA by name and then fails on the
    // signature (BadSignature) rather than reporting UnknownIssuer: refused either way.
    let client = client_config(&pki.ca_pem(), Some(&issued), TLS13);
    let err = refused_by_server(handshake(&server, &client, "localhost"));
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer | CertificateError::BadSignature
            )
        ),
        "{err}"
    );
}

#[test]
fn an_expired_cert_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let now = OffsetDateTime::now_utc();
    let issued = pki
        .issue_node_with_validity(
            "prishtine",
            "1",
            now - Duration::days(30),
            now - Duration::days(1),
        )
        .expect("issues");
    let server = Arc::new(pki.server_config().expect("server config"));
    let client = client_config(&pki.ca_pem(), Some(&issued), TLS13);
    let err = refused_by_server(handshake(&server, &client, "localhost"));
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. }
            )
        ),
        "{err}"
    );
}

#[test]
fn a_revoked_cert_is_refused_once_the_config_is_rebuilt() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let revoked = pki.issue_node("prishtine", "1", 365).expect("issues");
    let kept = pki.issue_node("prishtine", "2", 365).expect("issues");
    let before = Arc::new(pki.server_config().expect("server config"));
    let revoked_client = client_config(&pki.ca_pem(), Some(&revoked), TLS13);
    let kept_client = client_config(&pki.ca_pem(), Some(&kept), TLS13);
    handshake(&before, &revoked_client, "localhost").expect("accepted before revocation");

    pki.revoke("prishtine/1").expect("revoked");

    // A configuration built before the revocation still holds the old CRL: the caller must
    // rebuild it when crl.pem changes.
    handshake(&before, &revoked_client, "localhost").expect("old config, old CRL");

    let after = Arc::new(pki.server_config().expect("rebuilt"));
    for versions in [TLS13, TLS12] {
        let client = client_config(&pki.ca_pem(), Some(&revoked), versions);
        let err = refused_by_server(handshake(&after, &client, "localhost"));
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(CertificateError::Revoked)
            ),
            "{err}"
        );
    }
    handshake(&after, &kept_client, "localhost").expect("others still accepted");

    // The same through a freshly opened PKI, as a restarted hub would do it.
    let reopened = Arc::new(
        Pki::open(tmp.path())
            .expect("opens")
            .server_config()
            .expect("config"),
    );
    refused_by_server(handshake(&reopened, &revoked_client, "localhost"));
}

#[test]
fn the_client_verifies_the_hub_cert_against_the_ca_and_name() {
    let ours = tempfile::tempdir().expect("tempdir");
    let theirs = tempfile::tempdir().expect("tempdir");
    let pki = init(ours.path());
    let foreign = init(theirs.path());
    let issued = pki.issue_node("prishtine", "1", 365).expect("issues");
    let server = Arc::new(pki.server_config().expect("server config"));

    for name in ["localhost", "127.0.0.1"] {
        let client = client_config(&pki.ca_pem(), Some(&issued), TLS13);
        handshake(&server, &client, name).expect("hub verified");
    }

    let client = client_config(&pki.ca_pem(), Some(&issued), TLS13);
    let err = refused_by_client(handshake(&server, &client, "hub.example.org"));
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{err}"
    );

    // Same name, other key: BadSignature (see a_cert_from_another_ca_is_refused).
    let trusting_foreign = client_config(&foreign.ca_pem(), Some(&issued), TLS13);
    let err = refused_by_client(handshake(&server, &trusting_foreign, "localhost"));
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer | CertificateError::BadSignature
            )
        ),
        "{err}"
    );
}

#[test]
fn hub_names_go_into_the_hub_cert_and_can_be_renewed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = Pki::init(
        tmp.path(),
        &["hub.civreg.example".to_string(), "10.1.2.3".to_string()],
    )
    .expect("init");
    let issued = pki.issue_node("prishtine", "1", 365).expect("issues");
    let server = Arc::new(pki.server_config().expect("server config"));
    let client = client_config(&pki.ca_pem(), Some(&issued), TLS13);
    handshake(&server, &client, "hub.civreg.example").expect("DNS name");
    handshake(&server, &client, "10.1.2.3").expect("IP address");
    refused_by_client(handshake(&server, &client, "localhost"));

    let hub_der = der_of(&std::fs::read_to_string(pki.hub_cert_path()).expect("hub.pem"));
    let (_, hub) = x509_parser::parse_x509_certificate(&hub_der).expect("parses");
    let eku = hub
        .extended_key_usage()
        .expect("valid")
        .expect("present")
        .value;
    assert!(eku.server_auth && !eku.client_auth);

    assert!(matches!(
        Pki::init(&tmp.path().join("x"), &["not a name".to_string()]),
        Err(PkiError::HubName(_))
    ));

    let entry = pki
        .renew_hub_cert(&["hub2.civreg.example".to_string()])
        .expect("renewed");
    assert_eq!(entry.kind, CertKind::Hub);
    assert_eq!(entry.identity, "hub:hub2.civreg.example");
    let server = Arc::new(pki.server_config().expect("rebuilt"));
    handshake(&server, &client, "hub2.civreg.example").expect("new name");
    refused_by_client(handshake(&server, &client, "hub.civreg.example"));
}

#[test]
fn peer_identity_refuses_certs_without_a_civreg_uri() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pki = init(tmp.path());
    let hub = std::fs::read_to_string(pki.hub_cert_path()).expect("hub.pem");
    let err = peer_identity(&der_of(&hub)).expect_err("the hub is not a peer");
    assert!(matches!(err, PkiError::PeerIdentity(_)), "{err}");
    assert!(peer_identity(&der_of(&pki.ca_pem())).is_err());
    assert!(peer_identity(b"not a certificate").is_err());
}
