//! The clerk app over HTTPS on the office network (issue 14), with real processes and real
//! TLS: the hub's PKI issues the office's app certificate (`pki issue-app`), the node checks
//! and installs it (`app-cert install`), and `serve --http-listen 0.0.0.0:PORT` serves the app
//! over HTTPS to a client that trusts only the agency's root CA, with `Secure` cookies and
//! HSTS; a renewed certificate is presented without a restart; `pki revoke` lists it revoked.

use civreg_testkit::fleet::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMIT: Duration = Duration::from_secs(60);
const APP_NAME: &str = "clerks.prishtine.rks";

fn hub(hub_dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(civreg_testkit::bins::hub_bin())
        .arg("--data-dir")
        .arg(hub_dir)
        .args(args)
        .output()
        .expect("run civreg-hub")
}

fn hub_ok(hub_dir: &Path, args: &[&str]) -> Output {
    let out = hub(hub_dir, args);
    assert!(
        out.status.success(),
        "{}",
        describe(&format!("civreg-hub {args:?}"), &out)
    );
    out
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `pki issue-app` for this office into `out`, with `extra` arguments; returns its serial.
fn issue_app(hub_dir: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "--json",
        "pki",
        "issue-app",
        "--municipality",
        MUNICIPALITY,
        "--node-id",
        NODE_ID,
        "--name",
        APP_NAME,
        "--name",
        "127.0.0.1",
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    let o = hub_ok(hub_dir, &args);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    v["entry"]["serial"].as_str().expect("serial").to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A TLS client configuration that trusts only the CA certificates in `ca_pem`.
fn client_config(ca_pem: &Path) -> Arc<rustls::ClientConfig> {
    let pem = std::fs::read(ca_pem).expect("ca.pem");
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_slice_iter(&pem) {
        roots.add(der.expect("pem")).expect("a trust anchor");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

type Tls = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

async fn connect(
    port: u16,
    config: &Arc<rustls::ClientConfig>,
    name: &str,
) -> std::io::Result<Tls> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let server = ServerName::try_from(name.to_string()).expect("server name");
    let connector = tokio_rustls::TlsConnector::from(config.clone());
    tokio::time::timeout(Duration::from_secs(10), connector.connect(server, tcp))
        .await
        .map_err(|_| std::io::Error::other("handshake timed out"))?
}

/// The certificate the server presented (DER).
fn presented(tls: &Tls) -> Vec<u8> {
    let certs = tls
        .get_ref()
        .1
        .peer_certificates()
        .expect("a server certificate");
    certs[0].to_vec()
}

/// The certificate of `pki issue-app`'s directory (DER).
fn issued(dir: &Path) -> Vec<u8> {
    let pem = std::fs::read(dir.join("app.pem")).expect("app.pem");
    CertificateDer::from_pem_slice(&pem).expect("pem").to_vec()
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn set_cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .find(|v| v.starts_with(&format!("{name}=")))
    }
}

/// One HTTP/1.1 request over a new TLS connection (`Connection: close`), read to the end.
async fn https(
    port: u16,
    config: &Arc<rustls::ClientConfig>,
    host: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&[(&str, &str)]>,
) -> Answer {
    let mut tls = connect(port, config, APP_NAME)
        .await
        .expect("TLS handshake");
    let body = form
        .map(|f| {
            f.iter()
                .map(|(k, v)| format!("{k}={}", civreg_testkit::http::form_encode(v)))
                .collect::<Vec<_>>()
                .join("&")
        })
        .unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    if form.is_some() {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    tls.write_all(req.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    // A peer that closes without close_notify is fine here: the answer is complete.
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_string(),
    }
}

/// The `value` of the hidden input `name` in a page.
fn field(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// A certificate for this office's app signed by the hub's issuing CA, but expired.
fn expired_app_cert(hub_dir: &Path, out: &Path) {
    use rcgen::{
        CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        SanType, PKCS_ECDSA_P256_SHA256,
    };
    let pki = hub_dir.join("pki");
    let ca_pem = std::fs::read_to_string(pki.join("issuing.pem")).expect("issuing.pem");
    let ca_key =
        KeyPair::from_pem(&std::fs::read_to_string(pki.join("issuing.key")).expect("issuing.key"))
            .expect("issuing key");
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key).expect("issuer");
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    let mut p = CertificateParams::default();
    p.subject_alt_names = vec![SanType::DnsName(APP_NAME.try_into().expect("dns"))];
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::days(400);
    p.not_after = now - time::Duration::days(35);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    let cert = p.signed_by(&key, &issuer).expect("sign");
    std::fs::create_dir_all(out).expect("dir");
    std::fs::write(out.join("app.pem"), cert.pem() + &ca_pem).expect("app.pem");
    std::fs::write(out.join("app.key"), key.serialize_pem()).expect("app.key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_clerk_app_serves_the_office_network_over_https_with_the_agency_certificate() {
    let setup = Setup::new();
    let node = &setup.node;
    let hub_dir = setup.hub_dir.clone();
    let root_ca = hub_dir.join("pki").join("ca.pem");

    // The agency issues the office's app certificate.
    let app_dir = setup.path("app");
    let serial = issue_app(&hub_dir, &app_dir, &[]);
    for f in ["app.pem", "app.key", "ca.pem"] {
        assert!(app_dir.join(f).exists(), "{f} written");
    }

    // Another agency (another PKI) enrols the same office and issues it one too.
    let other_hub = setup.path("other-hub");
    hub_ok(&other_hub, &["pki", "init"]);
    hub_ok(
        &other_hub,
        &[
            "pki",
            "issue",
            "--municipality",
            MUNICIPALITY,
            "--node-id",
            NODE_ID,
            "--out",
            s(&setup.path("other-bundle")),
        ],
    );
    let other_app = setup.path("other-app");
    issue_app(&other_hub, &other_app, &[]);
    let other_ca = other_hub.join("pki").join("ca.pem");

    // Install refuses: another CA, a key of another certificate, an expired one, another
    // office's; nothing is installed by any of them.
    let installed = node.data_dir.join("tls").join("app");
    let refused = node.run(&["app-cert", "install", s(&other_app)]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("not from the agency CA this node trusts"),
        "{}",
        stderr(&refused)
    );
    let mixed = setup.path("mixed");
    std::fs::create_dir_all(&mixed).expect("dir");
    std::fs::copy(app_dir.join("app.pem"), mixed.join("app.pem")).expect("copy");
    std::fs::copy(other_app.join("app.key"), mixed.join("app.key")).expect("copy");
    let refused = node.run(&["app-cert", "install", s(&mixed)]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("app.key is not the key app.pem is for"),
        "{}",
        stderr(&refused)
    );
    let expired = setup.path("expired");
    expired_app_cert(&hub_dir, &expired);
    let refused = node.run(&["app-cert", "install", s(&expired)]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("app.pem expired on"),
        "{}",
        stderr(&refused)
    );
    hub_ok(
        &hub_dir,
        &[
            "pki",
            "issue",
            "--municipality",
            MUNICIPALITY,
            "--node-id",
            "2",
            "--out",
            s(&setup.path("bundle-2")),
        ],
    );
    let office_2 = setup.path("app-2");
    hub_ok(
        &hub_dir,
        &[
            "pki",
            "issue-app",
            "--municipality",
            MUNICIPALITY,
            "--node-id",
            "2",
            "--name",
            "pc2.prishtine.rks",
            "--out",
            s(&office_2),
        ],
    );
    let refused = node.run(&["app-cert", "install", s(&office_2)]);
    assert!(
        stderr(&refused).contains("is for prishtine/2, but this node is prishtine/1"),
        "{}",
        stderr(&refused)
    );
    assert!(!installed.join("cert.pem").exists());

    // Beyond loopback without a certificate: refused, saying how to get one.
    let port = free_port();
    let listen = format!("0.0.0.0:{port}");
    let mut serve = node
        .cmd(&["serve", "--http-listen", &listen])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let deadline = Instant::now() + LIMIT;
    while serve.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = serve.kill();
            panic!("serve ran on {listen} without an app certificate");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = serve.wait_with_output().expect("serve's output");
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains("no clerk app certificate is installed")
            && err.contains("civreg-hub pki issue-app")
            && err.contains("civreg-node app-cert install"),
        "{err}"
    );

    // Installed: the key private.
    node.run_ok(&["app-cert", "install", s(&app_dir)]);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(installed.join("key.pem"))
            .expect("key.pem")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "key.pem mode {mode:o}");
    }

    // Served over HTTPS on the office network.
    let log = setup.path("node-serve.log");
    let _serve = node.spawn(
        &["serve", "--interval-secs", "5", "--http-listen", &listen],
        &log,
    );
    let trusting = client_config(&root_ca);
    let deadline = Instant::now() + LIMIT;
    let tls = loop {
        match connect(port, &trusting, APP_NAME).await {
            Ok(t) => break t,
            Err(e) => assert!(
                Instant::now() < deadline,
                "no HTTPS on {listen}: {e}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        presented(&tls) == issued(&app_dir),
        "the installed certificate is presented"
    );
    drop(tls);
    // By its IP address too (an IP name of the certificate).
    connect(port, &trusting, "127.0.0.1")
        .await
        .expect("the certificate's IP name");

    // Sign in: every cookie Secure, HSTS on every answer.
    let form = https(port, &trusting, APP_NAME, "GET", "/login", None, None).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.header("strict-transport-security")
            .is_some_and(|v| v.contains("max-age=")),
        "{:?}",
        form.headers
    );
    let login = form.set_cookie("civreg_login").expect("a login cookie");
    assert!(login.contains("; Secure"), "{login}");
    let login = login.split(';').next().expect("cookie").to_string();
    let token = field(&form.body, "_csrf").expect("the form's token");
    let signed = https(
        port,
        &trusting,
        APP_NAME,
        "POST",
        "/login",
        Some(&login),
        Some(&[
            ("name", CLERK),
            ("password", CLERK_PASSWORD),
            ("_csrf", &token),
        ]),
    )
    .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let session = signed.set_cookie("civreg_clerk").expect("a session cookie");
    assert!(session.contains("; Secure"), "{session}");
    let session = session.split(';').next().expect("cookie").to_string();
    let home = https(port, &trusting, APP_NAME, "GET", "/", Some(&session), None).await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("nav-birth"), "{}", home.body);
    // The certificate's names are answered to; others are not (DNS rebinding).
    let other = https(port, &trusting, "evil.example", "GET", "/login", None, None).await;
    assert_eq!(other.status, 421);

    // A client that does not trust the agency CA fails the handshake.
    let stranger = client_config(&other_ca);
    assert!(connect(port, &stranger, APP_NAME).await.is_err());

    // Plain HTTP on that port gets no app.
    let mut plain = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("tcp");
    plain
        .write_all(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .expect("send");
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), plain.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(
        !text.contains("HTTP/1.1") && !text.contains("civreg"),
        "{text}"
    );

    // A renewed certificate (expiring in 10 days) installed while serve runs: new connections
    // get it without a restart, and the status bar and `status` warn of its expiry.
    let renewed_dir = setup.path("app-renewed");
    let renewed = issue_app(&hub_dir, &renewed_dir, &["--days", "10"]);
    let out = node.run_ok(&["app-cert", "install", s(&renewed_dir)]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("new connections"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let deadline = Instant::now() + LIMIT;
    loop {
        let tls = connect(port, &trusting, APP_NAME).await.expect("handshake");
        if presented(&tls) == issued(&renewed_dir) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the renewed certificate is not presented"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let bar = https(
        port,
        &trusting,
        APP_NAME,
        "GET",
        "/status.json",
        Some(&session),
        None,
    )
    .await;
    assert_eq!(bar.status, 200, "{}", bar.body);
    let bar: serde_json::Value = serde_json::from_str(&bar.body).expect("status json");
    let days = bar["app_cert_days_left"].as_i64().expect("days left");
    assert!((9..=10).contains(&days), "{bar}");
    assert!(
        bar["cert"]
            .as_str()
            .is_some_and(|t| t.contains("Certifikata HTTPS e aplikacionit skadon")),
        "{bar}"
    );
    let status = node.run_ok(&["status"]);
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.contains("clerk app certificate") && status.contains("certificate expires in"),
        "{status}"
    );

    // Revoked by the agency: listed as revoked (both of this office's app certificates).
    hub_ok(&hub_dir, &["pki", "revoke", "app/prishtine/1"]);
    let list = hub_ok(&hub_dir, &["--json", "pki", "list"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    let entries = list.as_array().expect("a list");
    for want in [&serial, &renewed] {
        let e = entries
            .iter()
            .find(|e| e["serial"] == want.as_str())
            .unwrap_or_else(|| panic!("{want} listed: {list}"));
        assert_eq!(e["kind"], "app", "{e}");
        assert_eq!(e["status"], "revoked", "{e}");
    }
    // The office's own node certificate stays.
    assert!(entries
        .iter()
        .any(|e| e["kind"] == "node" && e["status"] == "active"));
}

/// `pki issue --app-name` puts the app certificate into the enrolment bundle; `init --bundle`
/// installs it, and the node then serves HTTPS beyond loopback.
#[test]
fn an_enrolment_bundle_can_carry_the_app_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub_dir = dir.path().join("hub");
    let bundle = dir.path().join("bundle");
    hub_ok(&hub_dir, &["pki", "init"]);
    let out = hub_ok(
        &hub_dir,
        &[
            "pki",
            "issue",
            "--municipality",
            "istog",
            "--node-id",
            "1",
            "--out",
            s(&bundle),
            "--app-name",
            "clerks.istog.rks",
            "--app-name",
            "10.20.0.5",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("civreg://app/istog/1"));
    let node = NodeDir {
        data_dir: dir.path().join("node"),
    };
    node.run_ok(&["init", "--bundle", s(&bundle)]);
    let shown = node.run_ok(&["--json", "app-cert", "show"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("json");
    assert_eq!(
        shown["names"],
        serde_json::json!(["clerks.istog.rks", "10.20.0.5"]),
        "{shown}"
    );
    assert_eq!(shown["identity"], "civreg://app/istog/1");
    let path: PathBuf = node.data_dir.join("tls").join("app").join("key.pem");
    assert!(path.exists());

    // A later bundle for the same office, with other names, applied by `enrol`.
    node.run_ok(&["clerk", "add", CLERK]);
    let later = dir.path().join("bundle-later");
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
            s(&later),
            "--app-name",
            "app.istog.rks",
        ],
    );
    let out = node.run_ok(&["enrol", "--bundle", s(&later)]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("clerk app certificate installed for app.istog.rks"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let shown = node.run_ok(&["--json", "app-cert", "show"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("json");
    assert_eq!(
        shown["names"],
        serde_json::json!(["app.istog.rks"]),
        "{shown}"
    );
}
