//! Certificates (issue 15): time to issue one on the node, QR payload size for the longest
//! realistic record, and offline verifications per second.
//!
//! ```text
//! cargo bench -p civreg-node --bench cert_bench            # prints the figures as Markdown
//! cargo bench -p civreg-node --bench cert_bench -- --n 200 # more issues timed (default 100)
//! ```
//!
//! - *Issue*: `Node::issue_certificate` on a sled database in a temporary directory, as
//!   `civreg-node certificate` runs it after sign-in: read the record, mint the serial, build
//!   the claims, sign (ES256), compress, Base45, render the PDF (krilla, fonts subset), seal and
//!   commit the issue record, flush. The PDF is not written to a file.
//! - *Payload*: a marriage with long double given names and surnames on both sides, fathers'
//!   names, person identifiers, a register reference and the longest municipality name as the
//!   place, signed as issued; the QR version and modules are those `qrcode` picks at level M.
//! - *Verify*: `civreg_cert::verify` of that payload against a trust list of 200 signers.
//!
//! The CA is made with rcgen on every run; nothing is committed.

use std::time::{Duration, Instant};

use civreg_cert::pdf::Lang;
use civreg_cert::trust::{self, SignerInput, TrustList};
use civreg_cert::{Claims, PersonClaim, SigningKey};
use civreg_node::node::{IdDocument, Node, Paths};
use civreg_shared::model::RecordKind;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, PKCS_ECDSA_P256_SHA256,
};

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, cn);
    d
}

struct Ca {
    der: Vec<u8>,
    key: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
}

fn ca() -> Ca {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    let mut p = CertificateParams::default();
    p.distinguished_name = dn("bench CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let der = p.self_signed(&key).expect("self-signed").der().to_vec();
    let pkcs8 = key.serialize_der();
    Ca {
        der,
        key: pkcs8,
        issuer: Issuer::new(p, key),
    }
}

/// A signer for `office`: (certificate PEM, key PEM, certificate DER).
fn signer(ca: &Ca, office: &str) -> (String, String, Vec<u8>) {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(&format!("signer {office}"));
    p.subject_alt_names = vec![SanType::URI(
        format!("civreg://signer/{office}").try_into().expect("uri"),
    )];
    p.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    p.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(700);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(
        trust::OID_DOCUMENT_SIGNING.to_vec(),
    )];
    let cert = p.signed_by(&key, &ca.issuer).expect("signed");
    (cert.pem(), key.serialize_pem(), cert.der().to_vec())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn long_marriage() -> Claims {
    let spouse =
        |role: &str, given: &str, before: &str, after: &str, father: &str, sex| PersonClaim {
            role: role.into(),
            given_name: given.into(),
            surname: after.into(),
            other_surname: Some(before.into()),
            father_given_name: Some(father.into()),
            date_of_birth: Some("1988-11-23".into()),
            sex: Some(sex),
            person_id: civreg_shared::ids::PersonId::from_body(12_345_678).map(|p| p.to_string()),
        };
    Claims {
        format: 1,
        serial: "C-MITROVICE-JUGUT-2026-ws12-000123".into(),
        kind: 'M',
        regno: "MITROVICE-JUGUT-2026-M-ws12-000123".into(),
        record_version: 3,
        record_head: "0123456789abcdef".into(),
        issued_on: "2026-12-06".into(),
        issued_at: chrono::Utc::now().timestamp(),
        office: "mitrovice-jugut/ws12".into(),
        municipality: "mitrovice-jugut".into(),
        event_date: Some("2026-06-18".into()),
        event_place: "Mitrovicë e Jugut / Južna Mitrovica".into(),
        register: Some("V-1234/2026/112/37".into()),
        people: vec![
            spouse(
                "spouse1",
                "Gjergj-Kastriot Fatmir",
                "Krasniqi-Berisha",
                "Krasniqi-Berisha",
                "Abdurrahman-Ramadan",
                'M',
            ),
            spouse(
                "spouse2",
                "Александра-Јелисавета",
                "Стефановић-Радосављевић",
                "Krasniqi-Berisha",
                "Константин-Милорад",
                'F',
            ),
        ],
    }
}

fn main() {
    let mut n = 100usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--n" {
            n = args.next().and_then(|v| v.parse().ok()).unwrap_or(n);
        }
    }
    if !std::env::args().any(|a| a == "--bench") {
        n = n.min(5);
    }
    let ca = ca();
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let paths = Paths::new(&tmp.path().join("node"), None);
    Node::init(&paths, "istog", "1").expect("init");
    let node = Node::open(&paths).expect("open");
    node.add_clerk(None, "bench", "bench-password-1")
        .expect("clerk");
    let clerk = node
        .authenticate("bench", "bench-password-1")
        .expect("sign in");
    let (cert_pem, key_pem, _) = signer(&ca, "istog/1");
    node.install_signer(&cert_pem, &key_pem).expect("signer");
    let doc = serde_json::json!({
        "child": {"given_name": "Милица", "surname": "Петровић", "sex": "female", "date_of_birth": "2026-11-30"},
        "place_of_birth": "Istog",
        "mother": {"given_name": "Драгана", "surname": "Петровић", "maiden_surname": "Јовановић"},
        "father": {"given_name": "Nikola", "surname": "Petrović"}
    });
    let regno = node
        .register(&clerk, RecordKind::Birth, doc)
        .expect("register")
        .regno;
    let mut times = Vec::with_capacity(n);
    let mut pdf_bytes = 0;
    for _ in 0..n {
        let t = Instant::now();
        let issued = node
            .issue_certificate(
                &clerk,
                &regno,
                Lang::Sq,
                "Драгана Петровић",
                IdDocument::IdCard,
            )
            .expect("issue");
        times.push(t.elapsed());
        pdf_bytes = issued.pdf.len();
    }
    times.sort();

    // The longest realistic record's payload.
    let (_, marriage_key_pem, marriage_der) = signer(&ca, "mitrovice-jugut/ws12");
    let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(pem_body(&marriage_key_pem));
    let key = SigningKey::new(pkcs8.secret_pkcs8_der(), &marriage_der).expect("key");
    let claims = long_marriage();
    let text = civreg_cert::sign(&claims, &key).expect("sign");
    let mut cbor = Vec::new();
    ciborium_len(&claims, &mut cbor);
    let matrix = civreg_cert::qr::encode(&text).expect("qr");
    let t = Instant::now();
    let pdf = civreg_cert::pdf::render(&claims, &text, Lang::En).expect("pdf");
    let marriage_pdf = t.elapsed();

    // Verification against a trust list of 200 signers.
    let mut signers: Vec<SignerInput> = (0..199)
        .map(|i| SignerInput {
            cert_der: signer(&ca, &format!("istog/b{i}")).2,
            revoked_at: None,
        })
        .collect();
    signers.push(SignerInput {
        cert_der: marriage_der.clone(),
        revoked_at: None,
    });
    let list_bytes = trust::build(&ca.key, &ca.der, None, &signers, 0).expect("trust list");
    let list = TrustList::open(&list_bytes, Some(&ca.der)).expect("open");
    let rounds = if n >= 50 { 5_000 } else { 200 };
    let t = Instant::now();
    for _ in 0..rounds {
        civreg_cert::verify(&text, &list).expect("valid");
    }
    let per_s = rounds as f64 / t.elapsed().as_secs_f64();

    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    println!("### Certificates (issue 15)\n");
    println!("| figure | value |\n|---|---|");
    println!(
        "| issue one certificate on the node (`Node::issue_certificate`, PDF included), {n} issues | median {} ms, p90 {} ms, max {} ms (target < 200 ms) |",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.9)),
        ms(*times.last().expect("timed"))
    );
    println!("| PDF of a birth certificate | {pdf_bytes} bytes |");
    println!(
        "| longest realistic record (marriage, long double names): claims CBOR / QR text | {} bytes / {} characters |",
        cbor.len(),
        text.len()
    );
    println!(
        "| its QR code at level M | version {}, {}×{} modules ({} with the quiet zone); {:.2} mm per module at the printed 56.4 mm |",
        matrix.version,
        matrix.width,
        matrix.width,
        matrix.width + 8,
        56.44 / (matrix.width + 8) as f64
    );
    println!(
        "| its PDF (English glosses) | {} bytes, rendered in {} ms |",
        pdf.len(),
        ms(marriage_pdf)
    );
    println!(
        "| offline verification (`civreg_cert::verify`, trust list of 200 signers: {} bytes) | {:.0} per second on one core |",
        list_bytes.len(),
        per_s
    );
}

fn pem_body(pem: &str) -> Vec<u8> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
        .expect("pkcs8 pem")
        .secret_pkcs8_der()
        .to_vec()
}

fn ciborium_len(claims: &Claims, out: &mut Vec<u8>) {
    ciborium::into_writer(claims, out).expect("cbor");
}
