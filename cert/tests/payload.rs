//! The QR payload and the trust list: every refusal, and no altered byte ever verifies.

use civreg_cert::trust::{self, SignerInput, TrustList};
use civreg_cert::{payload, sign, verify, Claims, PersonClaim, Refusal, SigningKey};
use coset::{CborSerializable, CoseSign1, TaggedCborSerializable};
use proptest::prelude::*;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, PKCS_ECDSA_P256_SHA256,
};
use std::io::{Read, Write};
use time::{Duration, OffsetDateTime};

struct Ca {
    root_der: Vec<u8>,
    issuing_der: Vec<u8>,
    issuing_key: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
}

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, cn);
    d
}

fn ca() -> Ca {
    let now = OffsetDateTime::now_utc();
    let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut rp = CertificateParams::default();
    rp.distinguished_name = dn("test root");
    rp.not_before = now - Duration::days(1);
    rp.not_after = now + Duration::days(3650);
    rp.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    rp.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let root_der = rp.self_signed(&root_key).unwrap().der().to_vec();
    let root = Issuer::new(rp, root_key);
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ip = CertificateParams::default();
    ip.distinguished_name = dn("test issuing");
    ip.not_before = now - Duration::days(1);
    ip.not_after = now + Duration::days(1800);
    ip.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ip.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let issuing_der = ip.signed_by(&key, &root).unwrap().der().to_vec();
    let issuing_key = key.serialize_der();
    Ca {
        root_der,
        issuing_der,
        issuing_key,
        issuer: Issuer::new(ip, key),
    }
}

/// A signer certificate and key; `tls` gives it clientAuth instead of documentSigning.
fn signer(ca: &Ca, office: &str, days: (i64, i64), tls: bool) -> (Vec<u8>, Vec<u8>) {
    let now = OffsetDateTime::now_utc();
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(&format!("signer {office}"));
    p.subject_alt_names = vec![SanType::URI(
        format!("civreg://signer/{office}").try_into().unwrap(),
    )];
    p.not_before = now + Duration::days(days.0);
    p.not_after = now + Duration::days(days.1);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = if tls {
        vec![ExtendedKeyUsagePurpose::ClientAuth]
    } else {
        vec![ExtendedKeyUsagePurpose::Other(
            trust::OID_DOCUMENT_SIGNING.to_vec(),
        )]
    };
    let der = p.signed_by(&key, &ca.issuer).unwrap().der().to_vec();
    (der, key.serialize_der())
}

fn claims() -> Claims {
    Claims {
        format: 1,
        serial: "C-ISTOG-2026-000001".into(),
        kind: 'B',
        regno: "ISTOG-2026-B-000001".into(),
        record_version: 1,
        record_head: "0011223344556677".into(),
        issued_on: "2026-12-06".into(),
        issued_at: OffsetDateTime::now_utc().unix_timestamp(),
        office: "istog/1".into(),
        municipality: "istog".into(),
        event_date: Some("2026-11-30".into()),
        event_place: "Istog".into(),
        register: None,
        people: vec![PersonClaim {
            role: "child".into(),
            given_name: "Милица".into(),
            surname: "Петровић".into(),
            other_surname: None,
            father_given_name: None,
            date_of_birth: Some("2026-11-30".into()),
            sex: Some('F'),
            person_id: None,
        }],
    }
}

struct Setup {
    ca: Ca,
    key: SigningKey,
    cert: Vec<u8>,
    list: TrustList,
}

fn setup() -> Setup {
    let ca = ca();
    let (cert, key) = signer(&ca, "istog/1", (-1, 700), false);
    let list = open_list(&ca, &[(cert.clone(), None)]);
    Setup {
        key: SigningKey::new(&key, &cert).unwrap(),
        ca,
        cert,
        list,
    }
}

fn open_list(ca: &Ca, signers: &[(Vec<u8>, Option<i64>)]) -> TrustList {
    let bytes = trust::build(
        &ca.issuing_key,
        &ca.issuing_der,
        Some(&ca.root_der),
        &signers
            .iter()
            .map(|(c, r)| SignerInput {
                cert_der: c.clone(),
                revoked_at: *r,
            })
            .collect::<Vec<_>>(),
        OffsetDateTime::now_utc().unix_timestamp(),
    )
    .unwrap();
    TrustList::open(&bytes, Some(&ca.root_der)).unwrap()
}

/// The COSE bytes inside a QR text.
fn cose_of(text: &str) -> Vec<u8> {
    let z = base45::decode(text.strip_prefix("CR1:").unwrap()).unwrap();
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(z.as_slice())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn text_of(cose: &[u8]) -> String {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(cose).unwrap();
    format!("CR1:{}", base45::encode(z.finish().unwrap()))
}

#[test]
fn a_signed_certificate_verifies_with_its_claims() {
    let s = setup();
    let text = sign(&claims(), &s.key).unwrap();
    assert!(text.starts_with("CR1:"));
    let v = verify(&text, &s.list).unwrap();
    assert_eq!(v.claims, claims());
    assert_eq!(v.signer.identity, "civreg://signer/istog/1");
    assert_eq!(v.signer.office(), "istog/1");
}

#[test]
fn truncated_or_foreign_text_is_undecodable() {
    let s = setup();
    let text = sign(&claims(), &s.key).unwrap();
    for bad in [
        &text[..text.len() - 7],
        &text[..text.len() / 2],
        "CR1:",
        "HC1:6BFOXN*TS0BI$ZD4N9",
        "",
        "CR1:not base45 at all!",
    ] {
        match verify(bad, &s.list) {
            Err(Refusal::Undecodable(_)) => {}
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}

#[test]
fn an_unknown_signer_is_refused_as_such() {
    let s = setup();
    let (other_cert, other_key) = signer(&s.ca, "peje/1", (-1, 700), false);
    let key = SigningKey::new(&other_key, &other_cert).unwrap();
    let text = sign(&claims(), &key).unwrap();
    assert_eq!(verify(&text, &s.list).unwrap_err().code(), "unknown-signer");
}

#[test]
fn altered_claims_under_the_old_signature_are_refused() {
    let s = setup();
    let text = sign(&claims(), &s.key).unwrap();
    let mut sign1 = CoseSign1::from_tagged_slice(&cose_of(&text)).unwrap();
    let mut forged = claims();
    forged.people[0].surname = "Gashi".into();
    let mut payload = Vec::new();
    ciborium::into_writer(&forged, &mut payload).unwrap();
    sign1.payload = Some(payload);
    let forged_text = text_of(&sign1.to_tagged_vec().unwrap());
    assert_eq!(
        verify(&forged_text, &s.list).unwrap_err(),
        Refusal::BadSignature
    );
    // The same message untagged is still checked (and still refused).
    let untagged = text_of(
        &CoseSign1::from_tagged_slice(&cose_of(&forged_text))
            .unwrap()
            .to_vec()
            .unwrap(),
    );
    assert_eq!(
        verify(&untagged, &s.list).unwrap_err(),
        Refusal::BadSignature
    );
}

#[test]
fn a_signer_outside_its_validity_is_refused_as_expired() {
    let s = setup();
    let (cert, key) = signer(&s.ca, "istog/2", (-30, -2), false);
    let list = open_list(&s.ca, &[(s.cert.clone(), None), (cert.clone(), None)]);
    let text = sign(&claims(), &SigningKey::new(&key, &cert).unwrap()).unwrap();
    assert_eq!(verify(&text, &list).unwrap_err().code(), "signer-expired");
    // The office's valid signer still verifies against the same list.
    let good = sign(&claims(), &s.key).unwrap();
    assert!(verify(&good, &list).is_ok());
}

#[test]
fn a_revoked_signer_is_refused_once_the_list_says_so() {
    let s = setup();
    let text = sign(&claims(), &s.key).unwrap();
    assert!(verify(&text, &s.list).is_ok());
    let revoked = open_list(&s.ca, &[(s.cert.clone(), Some(1))]);
    assert_eq!(
        verify(&text, &revoked).unwrap_err().code(),
        "signer-revoked"
    );
}

#[test]
fn trust_lists_are_checked() {
    let s = setup();
    let bytes = trust::build(
        &s.ca.issuing_key,
        &s.ca.issuing_der,
        Some(&s.ca.root_der),
        &[SignerInput {
            cert_der: s.cert.clone(),
            revoked_at: None,
        }],
        0,
    )
    .unwrap();
    assert!(TrustList::open(&bytes, None).is_ok());
    // Another agency's root pinned: refused.
    let other = ca();
    let e = TrustList::open(&bytes, Some(&other.root_der)).unwrap_err();
    assert!(e.to_string().contains("pinned"), "{e}");
    // Any flipped byte: refused, never opened.
    for i in (0..bytes.len()).step_by(7) {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        assert!(
            TrustList::open(&b, Some(&s.ca.root_der)).is_err(),
            "byte {i}"
        );
    }
    // A certificate with a TLS usage can not be a signer.
    let (tls_cert, _) = signer(&s.ca, "istog/3", (-1, 700), true);
    let e = trust::build(
        &s.ca.issuing_key,
        &s.ca.issuing_der,
        Some(&s.ca.root_der),
        &[SignerInput {
            cert_der: tls_cert,
            revoked_at: None,
        }],
        0,
    )
    .unwrap_err();
    assert!(e.to_string().contains("documentSigning"), "{e}");
    // A signer from another CA can not be smuggled into the list.
    let (foreign, _) = signer(&other, "istog/4", (-1, 700), false);
    assert!(trust::build(
        &s.ca.issuing_key,
        &s.ca.issuing_der,
        Some(&s.ca.root_der),
        &[SignerInput {
            cert_der: foreign,
            revoked_at: None,
        }],
        0,
    )
    .is_err());
}

#[test]
fn oversized_input_is_refused_before_decoding() {
    let s = setup();
    let long = format!("CR1:{}", "A".repeat(payload::MAX_TEXT_CHARS));
    assert_eq!(verify(&long, &s.list).unwrap_err().code(), "undecodable");
    // A zip bomb: 1 MiB of zeros compresses to about a kilobyte.
    let bomb = text_of(&vec![0u8; 1 << 20]);
    assert_eq!(verify(&bomb, &s.list).unwrap_err().code(), "undecodable");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any one byte of the signed COSE message changed, in any way: never valid.
    #[test]
    fn any_changed_cose_byte_is_refused(pos in any::<prop::sample::Index>(), x in 1u8..=255) {
        let s = setup_cached();
        let mut cose = cose_of(&s.1);
        let i = pos.index(cose.len());
        cose[i] ^= x;
        prop_assert!(verify(&text_of(&cose), &s.0.list).is_err());
    }

    /// Any one character of the QR text changed: refused, or (only where the transport has
    /// slack that carries nothing: zlib's informational FLEVEL bits, the padding bits after
    /// deflate's last code) the very same signed message, byte for byte. A changed text never
    /// verifies as anything else.
    #[test]
    fn any_changed_text_char_is_refused(pos in any::<prop::sample::Index>(), c in "[0-9A-Z $%*+./:-]") {
        let s = setup_cached();
        let mut chars: Vec<char> = s.1.chars().collect();
        let i = pos.index(chars.len());
        let c = c.chars().next().unwrap();
        prop_assume!(chars[i] != c);
        chars[i] = c;
        let text: String = chars.into_iter().collect();
        if let Ok(v) = verify(&text, &s.0.list) {
            prop_assert_eq!(cose_of(&text), cose_of(&s.1));
            prop_assert_eq!(v, verify(&s.1, &s.0.list).unwrap());
        }
    }

    /// Arbitrary text never panics and is never valid.
    #[test]
    fn arbitrary_text_is_refused(t in ".{0,300}") {
        let s = setup_cached();
        prop_assert!(verify(&t, &s.0.list).is_err());
        let prefixed = format!("CR1:{t}");
        prop_assert!(verify(&prefixed, &s.0.list).is_err());
    }
}

fn setup_cached() -> &'static (Setup, String) {
    static S: std::sync::OnceLock<(Setup, String)> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let s = setup();
        let text = sign(&claims(), &s.key).unwrap();
        (s, text)
    })
}

/// A signer vouches only for its own office's certificates: claims naming another office, or
/// a serial another office mints, are refused although the signature is genuine.
#[test]
fn a_signer_can_not_issue_in_another_offices_name() {
    let s = setup();
    let (cert, key) = signer(&s.ca, "istog/2", (-1, 700), false);
    let list = open_list(&s.ca, &[(s.cert.clone(), None), (cert.clone(), None)]);
    let key = SigningKey::new(&key, &cert).unwrap();
    // istog/2 signing a certificate of istog/1, with istog/1's serial.
    let text = sign(&claims(), &key).unwrap();
    assert_eq!(verify(&text, &list).unwrap_err().code(), "foreign-serial");
    // Its own office, but istog/1's serial.
    let mut c = claims();
    c.office = "istog/2".into();
    let text = sign(&c, &key).unwrap();
    assert_eq!(verify(&text, &list).unwrap_err().code(), "foreign-serial");
    // Its own office and serial: valid.
    c.serial = civreg_cert::mint_serial("istog/2", 2026, 1);
    assert_eq!(c.serial, "C-ISTOG-2026-2-000001");
    let v = verify(&sign(&c, &key).unwrap(), &list).unwrap();
    assert_eq!(v.claims.serial, c.serial);
}

#[test]
fn serials_are_ordered_within_their_office_only() {
    use civreg_cert::{mint_serial, serial_order};
    assert_eq!(mint_serial("istog/1", 2026, 42), "C-ISTOG-2026-000042");
    assert_eq!(mint_serial("hub", 2027, 7), "C-HUB-2027-000007");
    assert_eq!(
        serial_order("C-ISTOG-2026-000042", "istog/1"),
        Some((2026, 42))
    );
    assert_eq!(serial_order("C-ISTOG-2026-000042", "istog/2"), None);
    assert_eq!(serial_order("C-ISTOG-2026-2-000042", "istog/1"), None);
    assert_eq!(serial_order("C-ISTOG-2026-000042", "peje/1"), None);
    assert_eq!(serial_order("C-HUB-2026-000001", "hub"), Some((2026, 1)));
    assert_eq!(serial_order("C-HUB-2026-000001", "istog/1"), None);
    for bad in [
        "",
        "C-",
        "C-ISTOG-",
        "C-ISTOG-26-000001",
        "C-ISTOG-2026-12",
        "C-ISTOG-2026-00000x",
    ] {
        assert_eq!(serial_order(bad, "istog/1"), None, "{bad}");
    }
    assert!(
        serial_order(&mint_serial("istog/1", 2026, 9), "istog/1")
            < serial_order(&mint_serial("istog/1", 2026, 10), "istog/1")
    );
}

proptest::proptest! {
    #[test]
    fn a_minted_serial_reads_back_in_its_office_only(
        m in "[a-z]{1,12}(-[a-z]{1,8})?", n in "[0-9a-z]{1,6}", year in 1900i32..9999, seq in 0u64..10_000_000
    ) {
        let office = format!("{m}/{n}");
        let serial = civreg_cert::mint_serial(&office, year, seq);
        proptest::prop_assert_eq!(civreg_cert::serial_order(&serial, &office), Some((year as u32, seq)));
        let other = format!("{m}x/{n}");
        proptest::prop_assert_eq!(civreg_cert::serial_order(&serial, &other), None);
    }

    #[test]
    fn serial_order_never_panics(serial in "\\PC{0,80}", office in "\\PC{0,20}") {
        let _ = civreg_cert::serial_order(&serial, &office);
    }
}
