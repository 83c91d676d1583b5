//! Issue 15 end to end through the real binaries: the hub's PKI gives an office its document
//! signer in the enrolment bundle; the office prints a certificate offline; the PDF is rendered
//! to pixels (pdftoppm), its QR code read back (rqrr) and verified against the trust list;
//! altered text, and a revoked signer once the trust list is refreshed, are refused.
//!
//! Needs Debian's poppler-utils (pdftoppm, pdffonts, pdftotext); `.ci/test` installs it.

use civreg_testkit::prelude as common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use common::{describe, node_run};
use rustls_pki_types::pem::PemObject;

fn hub_bin() -> std::path::PathBuf {
    civreg_testkit::bins::hub_bin()
}

fn hub(dir: &Path, args: &[&str]) -> Output {
    Command::new(hub_bin())
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run civreg-hub")
}

fn ok(args: &[&str], out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", describe(args, out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn node_ok(dir: &Path, args: &[&str]) -> String {
    ok(args, &node_run(dir, args))
}

fn hub_ok(dir: &Path, args: &[&str]) -> String {
    ok(args, &hub(dir, args))
}

/// A poppler tool's output; fails loudly (never skips) when it is missing.
fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} could not run ({e}): install poppler-utils (.ci/test does)")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const JMBG: &str = "3011026955010";

fn birth_json() -> String {
    format!(
        r#"{{
  "child": {{"given_name": "Милица", "surname": "Петровић", "sex": "female",
             "date_of_birth": "2026-11-30", "personal_numbers": {{"jmbg": "{JMBG}"}}}},
  "place_of_birth": "Istog",
  "mother": {{"given_name": "Драгана", "surname": "Петровић", "maiden_surname": "Јовановић"}},
  "father": {{"given_name": "Nikola", "surname": "Petrović"}}
}}"#
    )
}

#[test]
fn a_certificate_printed_offline_verifies_from_its_pixels_and_refuses_what_it_must() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let hub_dir = tmp.path().join("hub");
    let node_dir = tmp.path().join("node");
    let bundle = tmp.path().join("bundle");
    hub_ok(&hub_dir, &["pki", "init"]);
    let b = bundle.to_str().expect("utf-8 path");
    hub_ok(
        &hub_dir,
        &[
            "pki",
            "issue",
            "--municipality",
            "istog",
            "--node-id",
            "1",
            "--out",
            b,
        ],
    );
    assert!(
        bundle.join("signer.pem").is_file(),
        "the bundle carries a signer"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(bundle.join("signer.key"))
            .expect("signer.key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    node_ok(&node_dir, &["init", "--bundle", b]);
    node_ok(&node_dir, &["clerk", "add", common::CLERK]);
    let shown = node_ok(&node_dir, &["--json", "signer", "show"]);
    assert!(shown.contains("civreg://signer/istog/1"), "{shown}");
    // The key is sealed in the database: no PEM key lies in the data directory.
    let signer_key = std::fs::read_to_string(bundle.join("signer.key")).expect("key");
    let body: String = signer_key
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    // Past the ASN.1 prefix every P-256 PKCS#8 key shares: the private scalar.
    let secret = &body.as_bytes()[48..80];
    for entry in walk(&node_dir) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret),
            "{} holds the signer key in clear",
            entry.display()
        );
    }

    let record = tmp.path().join("birth.json");
    std::fs::write(&record, birth_json()).expect("write record");
    let saved = node_ok(
        &node_dir,
        &[
            "--json",
            "register",
            "birth",
            "--file",
            record.to_str().unwrap(),
        ],
    );
    let saved: serde_json::Value =
        serde_json::from_str(saved.lines().next().unwrap()).expect("json");
    let regno = saved["regno"].as_str().expect("regno").to_owned();

    let pdf = tmp.path().join("certificate.pdf");
    let args = [
        "--json",
        "certificate",
        &regno,
        "--lang",
        "sq",
        "--out",
        pdf.to_str().unwrap(),
        "--collector",
        "Драгана Петровић",
        "--id-document",
        "id-card",
    ];
    let started = Instant::now();
    let issued = node_ok(&node_dir, &args);
    eprintln!(
        "certificate command (process, sign-in, sign, PDF): {:?}",
        started.elapsed()
    );
    let issued: serde_json::Value = serde_json::from_str(&issued).expect("json");
    let qr_text = issued["qr_text"].as_str().expect("qr text").to_owned();
    let serial = issued["serial"].as_str().expect("serial").to_owned();
    assert_eq!(serial, format!("C-ISTOG-{}-000001", &regno[6..10]));
    // Printing again to the same file is refused; nothing is overwritten.
    assert_eq!(node_run(&node_dir, &args).status.code(), Some(1));

    // The issue is recorded: who, which record and version, for whom, which document.
    let listed = node_ok(&node_dir, &["--json", "certificates"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("json");
    assert_eq!(listed[0]["serial"], serial.as_str());
    assert_eq!(listed[0]["regno"], regno.as_str());
    assert_eq!(listed[0]["clerk"], common::CLERK);
    assert_eq!(listed[0]["record_version"], 1);
    assert_eq!(listed[0]["collector"], "Драгана Петровић");
    assert_eq!(listed[0]["id_document"], "id-card");

    // The page as pixels: the QR code read back from them is the one signed.
    let png = civreg_cert::qr::render_pdf(&pdf, 200).expect("pdftoppm renders the PDF");
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("certificate-birth.png");
    std::fs::write(&keep, &png).expect("keep the page for a look");
    eprintln!("the rendered page: {}", keep.display());
    let read_back = civreg_cert::qr::decode_png(&png).expect("the QR code reads from the pixels");
    assert_eq!(read_back, qr_text);

    let trust = tmp.path().join("trust-list.cbor");
    hub_ok(
        &hub_dir,
        &["pki", "trust-list", "--out", trust.to_str().unwrap()],
    );
    let root =
        rustls_pki_types::CertificateDer::from_pem_file(bundle.join("ca.pem")).expect("ca.pem");
    let list = civreg_cert::TrustList::open(&std::fs::read(&trust).unwrap(), Some(&root))
        .expect("trust list");
    let verified = civreg_cert::verify(&read_back, &list).expect("valid");
    assert_eq!(verified.claims.regno, regno);
    assert_eq!(verified.claims.people[0].given_name, "Милица");
    assert_eq!(verified.claims.people.len(), 3);
    // Never the JMBG: not in the claims, not in the signed bytes.
    assert!(!format!("{:?}", verified.claims).contains(JMBG));
    assert!(!read_back.contains(JMBG));

    // The offline verifier, from the PDF, from the picture and from the text.
    let t = trust.to_str().unwrap();
    let png_path = tmp.path().join("qr.png");
    std::fs::write(&png_path, &png).expect("png");
    for input in [
        pdf.to_str().unwrap(),
        png_path.to_str().unwrap(),
        qr_text.as_str(),
    ] {
        let out = node_ok(&node_dir, &["verify-certificate", input, "--trust-list", t]);
        assert!(out.starts_with("VALID"), "{out}");
        assert!(out.contains("Милица (Milica)"), "{out}");
    }

    // One character changed: refused, and said why.
    let mut altered: Vec<char> = qr_text.chars().collect();
    let i = altered.len() / 2;
    altered[i] = if altered[i] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    let args = [
        "--json",
        "verify-certificate",
        altered.as_str(),
        "--trust-list",
        t,
    ];
    let out = node_run(&node_dir, &args);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&args, &out));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(answer["valid"], false);
    assert!(
        ["bad-signature", "undecodable", "unknown-signer"]
            .contains(&answer["refusal"].as_str().unwrap()),
        "{answer}"
    );

    // Fonts embedded; both languages and the Cyrillic names with their transliteration print.
    let fonts = poppler("pdffonts", &[pdf.to_str().unwrap()]);
    let font_lines: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!font_lines.is_empty(), "{fonts}");
    for line in &font_lines {
        assert!(line.contains("DejaVuSans"), "{fonts}");
        // name, type (two words), encoding, then emb sub uni
        let cols: Vec<&str> = line.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(
            &cols[n - 5..n - 2],
            ["yes", "yes", "yes"],
            "not embedded, subset and mapped: {line}"
        );
    }
    let text = poppler("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"]);
    for expected in [
        "Милица (Milica)",
        "Петровић (Petrović)",
        "Јовановић (Jovanović)",
        "Fëmija / Dete",
        "EKSTRAKT NGA REGJISTRI I TË LINDURVE",
        "IZVOD IZ MATIČNE KNJIGE ROĐENIH",
        // The legal basis, from the catalogues.
        "Ligji Nr. 04/L-003 për Gjendjen Civile",
        "Zakon br. 04/L-003 o građanskom stanju",
        "Istog/Istok",
        &serial,
        &regno,
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from the PDF's text:\n{text}"
        );
    }
    assert!(!text.contains(JMBG), "the JMBG is printed:\n{text}");

    // The agency revokes the office's signer: refused offline once the trust list is refreshed.
    hub_ok(&hub_dir, &["pki", "revoke", "signer/istog/1"]);
    let fresh = tmp.path().join("trust-list-2.cbor");
    hub_ok(
        &hub_dir,
        &["pki", "trust-list", "--out", fresh.to_str().unwrap()],
    );
    let args = [
        "--json",
        "verify-certificate",
        pdf.to_str().unwrap(),
        "--trust-list",
        fresh.to_str().unwrap(),
    ];
    let out = node_run(&node_dir, &args);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&args, &out));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(answer["refusal"], "signer-revoked", "{answer}");

    // A new signer for the office (issue-signer), installed; its certificates verify again.
    let signer_dir = tmp.path().join("signer2");
    hub_ok(
        &hub_dir,
        &[
            "pki",
            "issue-signer",
            "istog/1",
            "--out",
            signer_dir.to_str().unwrap(),
        ],
    );
    node_ok(
        &node_dir,
        &["signer", "install", signer_dir.to_str().unwrap()],
    );
    let pdf2 = tmp.path().join("certificate-2.pdf");
    node_ok(
        &node_dir,
        &[
            "certificate",
            &regno,
            "--lang",
            "en",
            "--out",
            pdf2.to_str().unwrap(),
            "--collector",
            "Nikola Petrović",
            "--id-document",
            "passport",
        ],
    );
    let fresh = tmp.path().join("trust-list-3.cbor");
    hub_ok(
        &hub_dir,
        &["pki", "trust-list", "--out", fresh.to_str().unwrap()],
    );
    let out = node_ok(
        &node_dir,
        &[
            "verify-certificate",
            pdf2.to_str().unwrap(),
            "--trust-list",
            fresh.to_str().unwrap(),
        ],
    );
    assert!(out.starts_with("VALID"), "{out}");
    let text = poppler("pdftotext", &["-layout", pdf2.to_str().unwrap(), "-"]);
    assert!(
        text.contains("EXTRACT FROM THE REGISTER OF BIRTHS"),
        "{text}"
    );
    let png = civreg_cert::qr::render_pdf(&pdf2, 100).expect("pdftoppm renders the PDF");
    std::fs::write(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("certificate-birth-en.png"),
        png,
    )
    .expect("keep the page for a look");
}

#[test]
fn issuing_refuses_what_it_must() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let node_dir = tmp.path().join("node");
    node_ok(&node_dir, &["init", "--municipality", "istog"]);
    node_ok(&node_dir, &["clerk", "add", common::CLERK]);
    let record = tmp.path().join("birth.json");
    std::fs::write(&record, birth_json()).expect("write record");
    let saved = node_ok(
        &node_dir,
        &[
            "--json",
            "register",
            "birth",
            "--file",
            record.to_str().unwrap(),
        ],
    );
    let saved: serde_json::Value =
        serde_json::from_str(saved.lines().next().unwrap()).expect("json");
    let regno = saved["regno"].as_str().expect("regno").to_owned();
    let pdf = tmp.path().join("c.pdf");
    let p = pdf.to_str().unwrap();
    for (args, says) in [
        (
            vec![
                "certificate",
                regno.as_str(),
                "--out",
                p,
                "--collector",
                "A B",
                "--id-document",
                "id-card",
            ],
            "no document signer",
        ),
        (
            vec![
                "certificate",
                regno.as_str(),
                "--out",
                p,
                "--collector",
                "A B",
                "--id-document",
                "1403968950011",
            ],
            "unknown identity document",
        ),
        (
            vec![
                "certificate",
                regno.as_str(),
                "--out",
                p,
                "--collector",
                " ",
                "--id-document",
                "id-card",
            ],
            "collector",
        ),
        (
            vec![
                "certificate",
                regno.as_str(),
                "--out",
                p,
                "--collector",
                "A B",
                "--id-document",
                "id-card",
                "--lang",
                "de",
            ],
            "unknown language",
        ),
    ] {
        let out = node_run(&node_dir, &args);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&args, &out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{says:?} not in: {err}");
        assert!(!pdf.exists());
    }
    let listed = node_ok(&node_dir, &["--json", "certificates"]);
    assert_eq!(listed.trim(), "[]");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The public page: valid with the signed fields; altered text, a record amended or voided
/// since, a cancelled certificate and a revoked signer each refused and named; every
/// verification in the access log with nothing about who asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_hub_page_tells_the_current_status() {
    let (hub, web) = common::start_web_hub(civreg_hub::web::Settings::default()).await;
    let bundle = hub.bundle("istog", "1");
    hub.pki
        .issue_signer(Some(("istog", "1")), 30)
        .expect("signer")
        .write_signer(&bundle)
        .expect("write signer");
    let tmp = tempfile::tempdir().expect("tempdir");
    let node_dir = tmp.path().join("node");
    common::enrol_node(&node_dir, &bundle).await;
    let record = tmp.path().join("birth.json");
    std::fs::write(&record, birth_json()).expect("write record");
    let saved = common::node_json(
        &node_dir,
        &[
            "--json",
            "register",
            "birth",
            "--file",
            record.to_str().unwrap(),
        ],
    )
    .await;
    let regno = saved["regno"].as_str().expect("regno").to_owned();
    common::node_json(&node_dir, &["--json", "sync", "--once"]).await;

    let issue = |n: usize| {
        let node_dir = node_dir.clone();
        let regno = regno.clone();
        let pdf = tmp.path().join(format!("c{n}.pdf"));
        async move {
            let v = common::node_json(
                &node_dir,
                &[
                    "--json",
                    "certificate",
                    &regno,
                    "--out",
                    pdf.to_str().unwrap(),
                    "--collector",
                    "Nikola Petrović",
                    "--id-document",
                    "passport",
                ],
            )
            .await;
            (
                v["qr_text"].as_str().expect("qr").to_owned(),
                v["serial"].as_str().expect("serial").to_owned(),
            )
        }
    };
    let verdict = |text: String| {
        let web = web.clone();
        async move {
            // In English: the page's words are asserted below (it speaks Albanian, or the
            // browser's Accept-Language, by default).
            let r = common::http_request(
                &web,
                "POST",
                "/verify",
                Some("civreg_lang=en"),
                Some(&[("qr", text.as_str())]),
            )
            .await;
            assert_eq!(r.status, 200, "{r:?}");
            let csp = r.header("content-security-policy").expect("CSP");
            assert!(csp.contains("default-src 'none'"), "{csp}");
            r.body
        }
    };

    let form = common::http_request(&web, "GET", "/verify", None, None).await;
    assert_eq!(form.status, 200, "no sign-in needed: {form:?}");
    assert!(form.body.contains("name=\"qr\""));

    let (text, serial) = issue(1).await;
    // The issue record reaches the hub with the office's next heartbeat, once.
    let reported = || {
        civreg_hub::control::call(
            hub.data_dir(),
            &civreg_hub::control::Request::CertificatesIssued {
                regno: None,
                by: "operator:test".into(),
            },
        )
        .expect("ask the hub")
        .expect("the hub answers")
    };
    assert_eq!(reported(), serde_json::json!([]));
    common::node_json(&node_dir, &["--json", "sync", "--once"]).await;
    let issued = reported();
    assert_eq!(issued.as_array().map(Vec::len), Some(1), "{issued}");
    assert_eq!(issued[0]["serial"], serial.as_str(), "{issued}");
    assert_eq!(issued[0]["regno"], regno.as_str(), "{issued}");
    assert_eq!(issued[0]["office"], "istog/1", "{issued}");
    assert_eq!(issued[0]["collector"], "Nikola Petrović", "{issued}");
    assert_eq!(issued[0]["id_document"], "passport", "{issued}");
    common::node_json(&node_dir, &["--json", "sync", "--once"]).await;
    assert_eq!(reported().as_array().map(Vec::len), Some(1));
    let page = verdict(text.clone()).await;
    assert!(page.contains("data-valid=\"true\""), "{page}");
    assert!(page.contains("data-reported=\"true\""), "{page}");
    assert!(page.contains("Милица (Milica)"), "{page}");
    assert!(page.contains(&serial), "{page}");
    assert!(!page.contains(JMBG));

    // Markup in the text is never echoed unescaped.
    let page = verdict("<script>alert(1)</script>".into()).await;
    assert!(page.contains("data-refusal=\"undecodable\""), "{page}");
    assert!(!page.contains("<script>"), "{page}");
    let mut altered: Vec<char> = text.chars().collect();
    let i = altered.len() - 20;
    altered[i] = if altered[i] == '0' { '1' } else { '0' };
    let page = verdict(altered.into_iter().collect()).await;
    assert!(page.contains("data-valid=\"false\""), "{page}");

    // Amended after issue: the page says so; a certificate issued after the amendment is valid.
    let change = tmp.path().join("amend.json");
    std::fs::write(&change, r#"{"mother": {"maiden_surname": "Јанковић"}}"#).expect("write");
    common::node_json(
        &node_dir,
        &[
            "--json",
            "amend",
            &regno,
            "--file",
            change.to_str().unwrap(),
            "--reason",
            "typo",
        ],
    )
    .await;
    common::node_json(&node_dir, &["--json", "sync", "--once"]).await;
    let page = verdict(text.clone()).await;
    assert!(page.contains("data-refusal=\"record-amended\""), "{page}");
    let (text2, serial2) = issue(2).await;
    // Printed after the last sync: never "valid"; not yet confirmed, issued offline on its day.
    let page = verdict(text2.clone()).await;
    assert!(page.contains("data-valid=\"pending\""), "{page}");
    assert!(page.contains("NOT YET CONFIRMED"), "{page}");
    assert!(page.contains("issued offline on 20"), "{page}");
    assert!(page.contains(&serial), "the last serial reported: {page}");
    assert!(page.contains("data-reported=\"false\""), "{page}");

    // Signed with the office's real key, but with serials the office never reported: one
    // before the last it reported is refused as not in the register; one after it is pending.
    let signing = {
        let cert = rustls_pki_types::CertificateDer::from_pem_file(bundle.join("signer.pem"))
            .expect("signer.pem");
        let key = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_file(bundle.join("signer.key"))
            .expect("signer.key");
        civreg_cert::SigningKey::new(key.secret_pkcs8_der(), &cert).expect("signing key")
    };
    let trust = civreg_hub::certificates::current_trust_list(&hub.pki).expect("trust list");
    let mut claims = civreg_cert::verify(&text2, &trust).expect("valid").claims;
    let (year, _) = civreg_cert::serial_order(&serial, "istog/1").expect("serial");
    claims.serial = civreg_cert::mint_serial("istog/1", year as i32 - 1, 7);
    let before = civreg_cert::sign(&claims, &signing).expect("sign");
    let page = verdict(before).await;
    assert!(page.contains("data-refusal=\"unknown-serial\""), "{page}");
    assert!(
        page.contains("not in the agency&#39;s register")
            || page.contains("not in the agency's register"),
        "{page}"
    );
    claims.serial = civreg_cert::mint_serial("istog/1", year as i32, 99);
    let after = civreg_cert::sign(&claims, &signing).expect("sign");
    assert!(verdict(after).await.contains("data-valid=\"pending\""));
    // Another office's serial under this office's key: refused whatever the register says.
    claims.serial = civreg_cert::mint_serial("peje/1", year as i32, 1);
    let foreign = civreg_cert::sign(&claims, &signing).expect("sign");
    assert!(verdict(foreign)
        .await
        .contains("data-refusal=\"foreign-serial\""));
    // Reported at the next sync: now valid.
    common::node_json(&node_dir, &["--json", "sync", "--once"]).await;
    let page = verdict(text2.clone()).await;
    assert!(page.contains("data-valid=\"true\""), "{page}");

    // Cancelled: refused at the next verification.
    civreg_hub::control::call(
        hub.data_dir(),
        &civreg_hub::control::Request::CertificateCancel {
            serial: serial2.clone(),
            reason: "issued in error".into(),
            operator: "vjosa".into(),
        },
    )
    .expect("cancel through the running hub")
    .expect("the hub answers");
    let page = verdict(text2.clone()).await;
    assert!(page.contains("data-refusal=\"cancelled\""), "{page}");
    assert!(page.contains("issued in error"), "{page}");
    // Cancelled with the command: kept in the operator actions log, as every hub lists it.
    let typed_twice = civreg_cert::mint_serial("istog/1", year as i32, 999);
    let hub_run = |args: &[&str]| {
        Command::new(hub_bin())
            .arg("--data-dir")
            .arg(hub.data_dir())
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run civreg-hub")
    };
    let args = [
        "certificate",
        "cancel",
        typed_twice.as_str(),
        "--reason",
        "typed twice",
        "--operator",
        "arta",
    ];
    ok(&args, &hub_run(&args));
    let args = ["--json", "operator", "log"];
    let log: serde_json::Value = serde_json::from_str(&ok(&args, &hub_run(&args))).expect("json");
    assert!(
        log["entries"].as_array().expect("entries").iter().any(|e| {
            // (The serial's digits are cut from it as a personal number might be.)
            e["action"] == "certificate-cancel"
                && e["operator"] == "arta"
                && e["reason"] == "typed twice"
        }),
        "{log}"
    );

    // The signer revoked: refused at once, without a new trust list.
    let (text3, _) = issue(3).await;
    common::node_json(&node_dir, &["--json", "sync", "--once"]).await;
    assert!(verdict(text3.clone()).await.contains("data-valid=\"true\""));
    hub.pki.revoke("signer/istog/1").expect("revoke");
    let page = verdict(text3).await;
    assert!(page.contains("data-refusal=\"signer-revoked\""), "{page}");

    // Voided since: said so (checked after the signer, so with a fresh signer).
    let again = tmp.path().join("signer-again");
    hub.pki
        .issue_signer(Some(("istog", "1")), 30)
        .expect("signer")
        .write_signer(&again)
        .expect("write");
    common::node_json(
        &node_dir,
        &["--json", "signer", "install", again.to_str().unwrap()],
    )
    .await;
    let (text4, _) = issue(4).await;
    common::node_json(
        &node_dir,
        &["--json", "void", &regno, "--reason", "registered twice"],
    )
    .await;
    common::node_json(&node_dir, &["--json", "sync", "--once"]).await;
    let page = verdict(text4).await;
    assert!(page.contains("data-refusal=\"record-voided\""), "{page}");

    let log =
        std::fs::read_to_string(civreg_hub::access::path(hub.data_dir())).expect("access log");
    let entries: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .filter(|e: &serde_json::Value| e["action"] == "verify")
        .collect();
    assert!(entries.len() >= 13, "{log}");
    for e in &entries {
        assert_eq!(e["by"], "public verification");
        assert!(!e.to_string().contains("127.0.0.1"), "{e}");
    }
    assert!(entries.iter().any(|e| e["records"][0] == regno.as_str()));
}

/// An office reports only certificates it could have minted, with sane fields: another
/// office's serial, an overlong collector or an unknown document kind is not kept, and the
/// office's report still moves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_reports_only_its_own_certificates() {
    let hub = common::Hub::start().await;
    let mut client = hub.client(&hub.issue("prishtine", "9")).await;
    let good = |serial: &str| civreg_proto::v1::CertificateIssued {
        serial: serial.into(),
        regno: "PRISHTINE-2026-B-000001".into(),
        record_version: 1,
        record_head: "ab12".into(),
        clerk: "drita".into(),
        at_ms: 1_765_000_000_000,
        collector: "Drita Gashi".into(),
        id_document: "id-card".into(),
        lang: "sq".into(),
        signer_kid: "0011223344556677".into(),
    };
    let mut forged = good("C-ISTOG-2026-000001");
    forged.regno = "ISTOG-2026-B-000001".into();
    let mut long = good("C-PRISHTINE-2026-9-000002");
    long.collector = "x".repeat(10_000);
    let mut odd = good("C-PRISHTINE-2026-9-000003");
    odd.id_document = "library-card".into();
    let mut future = good("C-PRISHTINE-2026-9-000004");
    future.at_ms = u64::MAX / 2;
    let ok = good("C-PRISHTINE-2026-9-000005");
    let reply = client
        .heartbeat(civreg_proto::v1::HeartbeatRequest {
            certificates: vec![forged, long, odd, future, ok],
            ..common::heartbeat_request()
        })
        .await
        .expect("heartbeat")
        .into_inner();
    assert_eq!(reply.certificates_through, "C-PRISHTINE-2026-9-000005");
    let (dir, store) = hub.stop().await;
    let kept = civreg_hub::certificates::issued(&store, None).expect("read");
    let serials: Vec<&str> = kept.iter().map(|c| c.serial.as_str()).collect();
    assert_eq!(serials, ["C-PRISHTINE-2026-9-000005"]);
    assert_eq!(kept[0].office, "prishtine/9");
    drop((dir, store));
}

/// `civreg-hub certificate REGNO`: the hub issues from its merged record with a signer of its
/// own (issued by the agency CA, sealed in its database, in the trust list), running or
/// stopped; the issue is in the hub's register like an office's; the PDF's QR code, read from
/// the pixels, verifies offline and on `/verify`; the hub's signer is revoked like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_hub_issues_certificates_from_its_merged_record() {
    let (running, web) = common::start_web_hub(civreg_hub::web::Settings::default()).await;
    let bundle = running.bundle("istog", "1");
    let tmp = tempfile::tempdir().expect("tempdir");
    let node_dir = tmp.path().join("node");
    common::enrol_node(&node_dir, &bundle).await;
    let record = tmp.path().join("birth.json");
    std::fs::write(&record, birth_json()).expect("write record");
    let saved = common::node_json(
        &node_dir,
        &[
            "--json",
            "register",
            "birth",
            "--file",
            record.to_str().unwrap(),
        ],
    )
    .await;
    let regno = saved["regno"].as_str().expect("regno").to_owned();
    common::node_json(&node_dir, &["--json", "sync", "--once"]).await;

    let dir = running.data_dir().to_path_buf();
    let run = |args: Vec<String>| {
        let dir = dir.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let a: Vec<&str> = args.iter().map(String::as_str).collect();
                (hub(&dir, &a), args)
            })
            .await
            .expect("run civreg-hub")
        }
    };
    let issue_args = |out: &Path| -> Vec<String> {
        [
            "--json",
            "certificate",
            &regno,
            "--lang",
            "sr",
            "--out",
            out.to_str().unwrap(),
            "--collector",
            "Nikola Petrović",
            "--id-document",
            "passport",
            "--operator",
            "vjosa",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };

    // No signer yet: refused, saying what to do; nothing written.
    let pdf1 = tmp.path().join("hub1.pdf");
    let (out, _) = run(issue_args(&pdf1)).await;
    assert_eq!(out.status.code(), Some(1));
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(err.contains("civreg-hub certificate signer"), "{err}");
    assert!(!pdf1.exists());

    // The hub's signer: issued by the agency CA, installed through the running hub.
    let (out, args) = run(["--json", "certificate", "signer", "--operator", "vjosa"]
        .iter()
        .map(|s| s.to_string())
        .collect())
    .await;
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let installed: serde_json::Value = serde_json::from_str(&ok(&a, &out)).expect("json");
    assert_eq!(installed["signer"]["identity"], "civreg://signer/hub");
    let listed = running.pki.list().expect("registry");
    assert!(listed.iter().any(|e| e.identity == "civreg://signer/hub"));
    // Sealed in the database: its key is nowhere in clear under the data directory.
    let installed_kid = installed["signer"]["kid"].as_str().expect("kid").to_owned();

    let (out, args) = run(issue_args(&pdf1)).await;
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let issued: serde_json::Value = serde_json::from_str(&ok(&a, &out)).expect("json");
    let serial = issued["serial"].as_str().expect("serial").to_owned();
    assert_eq!(serial, format!("C-HUB-{}-000001", &regno[6..10]));
    let qr_text = issued["qr_text"].as_str().expect("qr").to_owned();
    assert_eq!(issued["issue"]["clerk"], "vjosa");
    assert_eq!(issued["issue"]["office"], "hub");
    assert_eq!(issued["issue"]["signer_kid"], installed_kid.as_str());
    // The same file again: refused before anything is issued.
    let (out, _) = run(issue_args(&pdf1)).await;
    assert_eq!(out.status.code(), Some(1));

    // The page as pixels: the QR code read back is the one signed, and verifies offline
    // against the published trust list, naming the hub's central services.
    let png = civreg_cert::qr::render_pdf(&pdf1, 200).expect("pdftoppm renders the PDF");
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("certificate-hub.png");
    std::fs::write(&keep, &png).expect("keep the page for a look");
    eprintln!("the rendered page: {}", keep.display());
    let read_back = civreg_cert::qr::decode_png(&png).expect("the QR code reads from the pixels");
    assert_eq!(read_back, qr_text);
    let text = poppler("pdftotext", &[pdf1.to_str().unwrap(), "-"]);
    assert!(text.contains("registraciju, centralne"), "{text}");
    assert!(text.contains(&serial), "{text}");
    let trust_file = tmp.path().join("trust.cbor");
    let (out, args) = run(["pki", "trust-list", "--out", trust_file.to_str().unwrap()]
        .iter()
        .map(|s| s.to_string())
        .collect())
    .await;
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&a, &out);
    let list = civreg_cert::TrustList::open(&std::fs::read(&trust_file).unwrap(), None)
        .expect("trust list");
    let v = civreg_cert::verify(&read_back, &list).expect("valid offline");
    assert_eq!(v.signer.identity, "civreg://signer/hub");
    assert_eq!(v.claims.office, "hub");
    assert_eq!(v.claims.regno, regno);
    assert!(!read_back.contains(JMBG) && !qr_text.contains(JMBG));

    // In the hub's register like an office's issue, and valid on the public page.
    let reg = civreg_hub::control::call(
        running.data_dir(),
        &civreg_hub::control::Request::CertificatesIssued {
            regno: Some(regno.clone()),
            by: "operator:test".into(),
        },
    )
    .expect("ask")
    .expect("answer");
    assert_eq!(reg.as_array().map(Vec::len), Some(1), "{reg}");
    assert_eq!(reg[0]["serial"], serial.as_str());
    assert_eq!(reg[0]["office"], "hub");
    assert_eq!(reg[0]["clerk"], "vjosa");
    assert_eq!(reg[0]["collector"], "Nikola Petrović");
    assert_eq!(reg[0]["id_document"], "passport");
    let verdict = |text: String| {
        let web = web.clone();
        async move {
            // In English: the page's words are asserted below (it speaks Albanian, or the
            // browser's Accept-Language, by default).
            let r = common::http_request(
                &web,
                "POST",
                "/verify",
                Some("civreg_lang=en"),
                Some(&[("qr", text.as_str())]),
            )
            .await;
            assert_eq!(r.status, 200, "{r:?}");
            r.body
        }
    };
    let page = verdict(read_back.clone()).await;
    assert!(page.contains("data-valid=\"true\""), "{page}");
    assert!(page.contains("data-reported=\"true\""), "{page}");

    // A serial the hub never issued, under the hub's own key, is refused outright: the hub
    // enters its issues in the register before their PDF exists.
    let stored = {
        let mut c = v.claims.clone();
        c.serial = civreg_cert::mint_serial("hub", 2026, 777);
        c
    };
    let actions = civreg_hub::control::ask::audit(
        running.data_dir(),
        civreg_hub::audit::Trail::Actions,
        None,
        None,
        civreg_hub::audit::MAX_PAGE,
    )
    .expect("the operator actions trail");
    assert!(
        actions
            .entries
            .iter()
            .any(|e| e["action"] == "certificate-issue"),
        "{actions:?}"
    );

    // Stopped: the command opens the store itself; the counter goes on.
    let (tmpdir, store) = running.stop().await;
    let (signing, _) = civreg_hub::certificates::issue::signer(&store)
        .expect("read")
        .expect("installed");
    let forged = civreg_cert::sign(&stored, &signing).expect("sign");
    let answer = civreg_hub::certificates::check(&forged, &list, &store).expect("check");
    assert_eq!(answer.result.expect_err("refused").code(), "unknown-serial");
    drop(store);
    let pdf2 = tmp.path().join("hub2.pdf");
    let args = issue_args(&pdf2);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let issued: serde_json::Value =
        serde_json::from_str(&ok(&a, &hub(tmpdir.path(), &a))).expect("json");
    assert_eq!(
        issued["serial"],
        format!("C-HUB-{}-000002", &regno[6..10]).as_str()
    );
    assert!(pdf2.is_file());

    // Revoked like a node's signer: its certificates are refused.
    let pki = civreg_hub::pki::Pki::open(&civreg_hub::paths::pki_dir(tmpdir.path())).expect("pki");
    pki.revoke("signer/hub").expect("revoke the hub's signer");
    let fresh = civreg_hub::certificates::current_trust_list(&pki).expect("trust list");
    assert_eq!(
        civreg_cert::verify(&qr_text, &fresh)
            .expect_err("revoked")
            .code(),
        "signer-revoked"
    );
    // No PEM private key lies in clear under the data directory (the PKI's own keys and the
    // test's node bundle aside): the hub's signer key is only in the sealed database.
    for entry in walk(tmpdir.path()) {
        if entry.starts_with(civreg_hub::paths::pki_dir(tmpdir.path()))
            || entry.starts_with(tmpdir.path().join("bundles"))
        {
            continue;
        }
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("PRIVATE KEY"),
            "{} holds a private key in clear",
            entry.display()
        );
    }
}
