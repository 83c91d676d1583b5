//! Issue 15 end to end through the real binaries: the hub's PKI gives an office its document
//! signer in the enrolment bundle; the office prints a certificate offline; the PDF is rendered
//! to pixels (pdftoppm), its QR code read back (rqrr) and verified against the trust list;
//! altered text, and a revoked signer once the trust list is refreshed, are refused.
//!
//! Needs Debian's poppler-utils (pdftoppm, pdffonts, pdftotext); `.ci/test` installs it.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use common::{describe, node_run};
use rustls_pki_types::pem::PemObject;

fn hub_bin() -> std::path::PathBuf {
    common::bins::find_bin(
        "civreg-hub",
        "CIVREG_HUB_BIN",
        option_env!("CARGO_BIN_EXE_civreg-hub"),
    )
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
            let r = common::http_request(
                &web,
                "POST",
                "/verify",
                None,
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
    // Printed after the last sync: valid, and the page says the office has not reported it yet.
    let page = verdict(text2.clone()).await;
    assert!(page.contains("data-valid=\"true\""), "{page}");
    assert!(page.contains("data-reported=\"false\""), "{page}");

    // Cancelled: refused at the next verification.
    civreg_hub::certificates::cancel(hub.data_dir(), &serial2, "issued in error", "vjosa")
        .expect("cancel");
    let page = verdict(text2.clone()).await;
    assert!(page.contains("data-refusal=\"cancelled\""), "{page}");
    assert!(page.contains("issued in error"), "{page}");

    // The signer revoked: refused at once, without a new trust list.
    let (text3, _) = issue(3).await;
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
    assert!(entries.len() >= 9, "{log}");
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
