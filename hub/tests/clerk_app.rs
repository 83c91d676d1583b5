//! The node's clerk app over HTTP, without a browser: the app (`civreg_node::web`) runs in this
//! process over a real node database, exactly as `civreg-node serve` runs it, and is driven with
//! raw HTTP/1.1 requests. Each test names the defence it checks; each was seen to fail with that
//! defence taken out.
//!
//! (These tests live with the hub's because they once shared its HTTP helpers, now in
//! `civreg_testkit::http`; the hub depends on civreg-node for tests only.)

use civreg_testkit::prelude as common;

use civreg_node::control::Served;
use civreg_node::node::{Node, Paths};
use civreg_node::web::{Context, Settings};
use civreg_node::worker::Live;
use common::{header, http_raw, http_request, http_send, Bytes, Full, HttpResponse, Request};
use std::sync::Arc;
use std::time::Duration;

const CLERK: &str = "drita";
const PASSWORD: &str = "drita-long-password";

struct App {
    _dir: tempfile::TempDir,
    addr: String,
    served: Arc<Served>,
}

impl App {
    async fn start(settings: Settings) -> App {
        Self::start_with(settings, |dir| Live::new(dir, "https://localhost:1")).await
    }

    /// [`App::start`] with the worker's state `live` makes over the data directory (after the
    /// node is made there).
    async fn start_with(settings: Settings, live: impl FnOnce(&std::path::Path) -> Live) -> App {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::new(dir.path(), None);
        Node::init(&paths, "prishtine", "1").expect("init node");
        let node = Node::open(&paths).expect("open node");
        node.add_clerk(None, CLERK, PASSWORD).expect("add clerk");
        let live = Arc::new(live(dir.path()));
        let served = Arc::new(Served {
            node: Arc::new(node),
            paths,
            live,
            runtime: tokio::runtime::Handle::current(),
            sessions: Default::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let ctx = Context::new(served.clone(), settings);
        tokio::spawn(civreg_node::web::serve(
            listener,
            ctx,
            std::future::pending(),
        ));
        App {
            _dir: dir,
            addr,
            served,
        }
    }

    /// Gives the office a document signer, as `civreg-node signer install` does.
    fn install_signer(&self) {
        let pki_dir = self._dir.path().join("pki");
        let pki = civreg_hub::pki::Pki::init(&pki_dir, &[]).expect("pki init");
        let signer = pki
            .issue_signer(Some(("prishtine", "1")), 30)
            .expect("issue a signer");
        self.served
            .node
            .install_signer(&signer.cert_pem, &signer.key_pem)
            .expect("install the signer");
    }

    fn records(&self) -> usize {
        self.served.node.record_count().expect("count records")
    }
}

/// The `value` of the hidden input `name` in a page.
fn field(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// A signed-in clerk's cookie jar.
struct Clerk {
    addr: String,
    cookie: String,
    csrf: String,
}

async fn try_sign_in(addr: &str, name: &str, password: &str) -> Result<Clerk, HttpResponse> {
    let form = http_request(addr, "GET", "/login", None, None).await;
    assert_eq!(form.status, 200, "{form:?}");
    let login = form.set_cookie("civreg_login").expect("a login cookie");
    let token = field(&form.body, "_csrf").expect("the sign-in form's token");
    let res = http_request(
        addr,
        "POST",
        "/login",
        Some(&format!("civreg_login={login}")),
        Some(&[("name", name), ("password", password), ("_csrf", &token)]),
    )
    .await;
    let Some(session) = res.set_cookie("civreg_clerk").filter(|s| !s.is_empty()) else {
        return Err(res);
    };
    assert_eq!(res.status, 303, "{res:?}");
    let set = res
        .headers
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.starts_with("civreg_clerk="))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = format!("civreg_clerk={session}");
    let page = http_request(addr, "GET", "/", Some(&cookie), None).await;
    assert_eq!(page.status, 200, "{page:?}");
    let csrf = field(&page.body, "_csrf").expect("the sign-out form's token");
    Ok(Clerk {
        addr: addr.to_string(),
        cookie,
        csrf,
    })
}

async fn sign_in(addr: &str) -> Clerk {
    try_sign_in(addr, CLERK, PASSWORD)
        .await
        .unwrap_or_else(|r| panic!("sign-in failed: {r:?}"))
}

impl Clerk {
    async fn get(&self, path: &str) -> HttpResponse {
        http_request(&self.addr, "GET", path, Some(&self.cookie), None).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> HttpResponse {
        http_request(&self.addr, "POST", path, Some(&self.cookie), Some(form)).await
    }

    /// A fresh birth form's id.
    async fn form_id(&self) -> String {
        let page = self.get("/register/birth").await;
        assert_eq!(page.status, 200, "{page:?}");
        field(&page.body, "_form").expect("the form's id")
    }

    /// Posts a birth form with `extra` fields over a valid child and mother. The clerk has
    /// already said it is a new entry (`_dupes=new`) unless `extra` sets `_dupes` to "".
    async fn post_birth(&self, form_id: &str, extra: &[(&str, &str)]) -> HttpResponse {
        let mut f: Vec<(&str, &str)> = vec![
            ("_csrf", &self.csrf),
            ("_form", form_id),
            ("_dupes", "new"),
            ("child.given_name", "Arben"),
            ("child.surname", "Gashi"),
            ("child.date_of_birth", "14.03.1968"),
            ("child.sex", "male"),
            ("place_of_birth", "Prizren"),
            ("mother.given_name", "Drita"),
            ("mother.surname", "Gashi"),
        ];
        for (k, v) in extra {
            f.retain(|(x, _)| x != k);
            f.push((k, v));
        }
        self.post("/register/birth", &f).await
    }
}

fn location(r: &HttpResponse) -> String {
    r.header("location").unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_without_the_sessions_csrf_token_is_refused_and_saves_nothing() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let id = clerk.form_id().await;
    for token in ["", "0000", &"0".repeat(64)] {
        let forged = Clerk {
            addr: clerk.addr.clone(),
            cookie: clerk.cookie.clone(),
            csrf: token.to_string(),
        };
        let r = forged.post_birth(&id, &[]).await;
        assert_eq!(r.status, 403, "token {token:?}: {r:?}");
        // In the clerk's language (Albanian by default).
        assert!(r.body.contains("Formulari ka skaduar"), "{}", r.body);
    }
    let r = clerk.post("/logout", &[("_csrf", "nope")]).await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(app.records(), 0);
    // With the token, the same form saves.
    let r = clerk.post_birth(&id, &[]).await;
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(app.records(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_waits_after_five_wrong_passwords_even_for_the_right_one() {
    let app = App::start(Settings::default()).await;
    for i in 0..5 {
        let r = try_sign_in(&app.addr, CLERK, "wrong-password")
            .await
            .err()
            .expect("a wrong password is refused");
        assert_eq!(r.status, 401, "attempt {i}: {r:?}");
        assert!(r.body.contains("fjalëkalim i gabuar"), "{}", r.body);
    }
    let r = try_sign_in(&app.addr, CLERK, PASSWORD)
        .await
        .err()
        .expect("refused while throttled, right password or not");
    assert_eq!(r.status, 429, "{r:?}");
    let wait: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=30).contains(&wait), "{wait}");
    assert!(
        r.body.contains("Shumë fjalëkalime të gabuara"),
        "{}",
        r.body
    );
    // Another clerk name from the same address is not refused yet (per-address limit is 20).
    let other = try_sign_in(&app.addr, "besa", "whatever-password")
        .await
        .err()
        .unwrap();
    assert_eq!(other.status, 401, "{other:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_in_typed_text_is_shown_as_text() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let evil = "<script>alert(1)</script>";
    // A name with it is refused by validation; the form comes back with it typed, as text.
    let id = clerk.form_id().await;
    let r = clerk.post_birth(&id, &[("child.given_name", evil)]).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(
        !r.body.contains(evil),
        "raw script in the page:\n{}",
        r.body
    );
    assert!(r.body.contains("&lt;script&gt;alert(1)"), "{}", r.body);
    // Notes may hold it: saved, and shown as text on the record's page.
    let r = clerk.post_birth(&id, &[("notes", evil)]).await;
    assert_eq!(r.status, 303, "{r:?}");
    let page = clerk.get(&location(&r)).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(!page.body.contains(evil), "{}", page.body);
    assert!(page.body.contains("&lt;script&gt;"), "{}", page.body);
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_refused_with_a_clear_message() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let id = clerk.form_id().await;
    let big = "a".repeat(civreg_node::web::MAX_BODY_BYTES + 1);
    let r = clerk.post_birth(&id, &[("notes", big.as_str())]).await;
    assert_eq!(r.status, 413, "{}", r.status);
    assert!(r.body.contains("shumë e madhe"), "{}", r.body);
    assert!(r.body.contains("64 KiB"), "{}", r.body);
    // Also when the body is sent in chunks, without a length. Raw bytes: the server answers
    // (and closes) while this client is still sending, which hyper reports as an error.
    let chunk = "a".repeat(32 * 1024);
    let mut req = format!(
        "POST /register/birth HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.addr, clerk.cookie
    );
    for _ in 0..4 {
        req.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    req.push_str("0\r\n\r\n");
    let r = http_raw(&app.addr, req.as_bytes()).await;
    assert_eq!(r.status, 413, "{r:?}");
    assert!(r.body.contains("shumë e madhe"), "{}", r.body);
    assert_eq!(app.records(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_posted_twice_registers_once() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let id = clerk.form_id().await;
    let first = clerk.post_birth(&id, &[]).await;
    assert_eq!(first.status, 303, "{first:?}");
    let again = clerk.post_birth(&id, &[]).await;
    assert_eq!(again.status, 303, "{again:?}");
    let (a, b) = (location(&first), location(&again));
    assert_eq!(a.split('?').next(), b.split('?').next(), "{a} {b}");
    let page = clerk.get(&b).await;
    assert!(
        page.body.contains("nuk u regjistrua dy herë"),
        "{}",
        page.body
    );
    assert_eq!(app.records(), 1);
    // Two posts of one form at the same moment: still one record.
    let id = clerk.form_id().await;
    let (x, y) = tokio::join!(clerk.post_birth(&id, &[]), clerk.post_birth(&id, &[]));
    assert!(
        [x.status, y.status].contains(&303),
        "{} {}",
        x.status,
        y.status
    );
    assert_eq!(app.records(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends() {
    let idle = Duration::from_millis(600);
    let app = App::start(Settings {
        session_idle: idle,
        ..Default::default()
    })
    .await;
    let clerk = sign_in(&app.addr).await;
    assert_eq!(clerk.get("/").await.status, 200);
    // Waiting out the idle time is the behaviour under test, not a synchronisation.
    tokio::time::sleep(idle + Duration::from_millis(200)).await;
    let r = clerk.get("/").await;
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(location(&r), "/login");
    let login = clerk.get("/login").await;
    assert!(
        login.body.contains("Seanca jote ka përfunduar"),
        "{}",
        login.body
    );
    let id = "0".repeat(64);
    let r = clerk.post_birth(&id, &[]).await;
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(app.records(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_show_next_to_their_fields_and_warnings_need_confirming() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let id = clerk.form_id().await;
    // A JMBG whose date is not the child's, and a date typed wrongly: both next to their field,
    // in Albanian, with everything typed kept.
    let r = clerk
        .post_birth(
            &id,
            &[
                ("child.personal_numbers.jmbg", "0101970950002"),
                ("mother.date_of_birth", "32.01.1945"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(
        r.body
            .contains("id=\"child-personal_numbers-jmbg-problems\""),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("JMBG-ja nuk përputhet me datën e lindjes"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("id=\"mother-date_of_birth-problems\""),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Shkruajeni datën si 14.03.1968"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"32.01.1945\""), "{}", r.body);
    assert!(r.body.contains("value=\"Prizren\""), "{}", r.body);
    // The same in Serbian Cyrillic.
    let cyr = http_request(
        &app.addr,
        "POST",
        "/register/birth",
        Some(&format!("{}; civreg_lang=sr-Cyrl", clerk.cookie)),
        Some(&[
            ("_csrf", &clerk.csrf),
            ("_form", &id),
            ("child.given_name", "Арбен"),
            ("child.surname", "Гаши"),
            ("child.date_of_birth", "1968-03-14"),
            ("child.sex", "male"),
            ("child.personal_numbers.jmbg", "0101970950002"),
            ("place_of_birth", "Призрен"),
            ("mother.given_name", "Дрита"),
            ("mother.surname", "Гаши"),
        ]),
    )
    .await;
    assert_eq!(cyr.status, 422, "{cyr:?}");
    assert!(
        cyr.body.contains("ЈМБГ се не слаже са датумом рођења"),
        "{}",
        cyr.body
    );
    assert!(cyr.body.contains("value=\"Арбен\""), "{}", cyr.body);
    assert_eq!(app.records(), 0);

    // A warning (a Kosovo number whose last digit fails the usual check) must be confirmed.
    let warn = [("child.personal_numbers.kosovo", "1234567890")];
    let r = clerk.post_birth(&id, &warn).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body.contains("id=\"confirm\""), "{}", r.body);
    assert!(
        r.body.contains("data-code=\"kosovo.checksum\""),
        "{}",
        r.body
    );
    assert_eq!(app.records(), 0);
    let mut confirmed = warn.to_vec();
    confirmed.push(("_confirm", "1"));
    let r = clerk.post_birth(&id, &confirmed).await;
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(app.records(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amend_needs_a_reason_and_a_stale_form_is_refused_and_void_keeps_history() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let id = clerk.form_id().await;
    let r = clerk.post_birth(&id, &[]).await;
    let record = location(&r).split('?').next().unwrap().to_string();
    let amend_page = clerk.get(&format!("{record}/amend")).await;
    assert_eq!(amend_page.status, 200, "{amend_page:?}");
    let version = field(&amend_page.body, "_version").expect("the form's version");
    assert!(
        amend_page.body.contains("value=\"14.03.1968\""),
        "{}",
        amend_page.body
    );
    let amend = |reason: &'static str, version: String| {
        let clerk = &clerk;
        let record = record.clone();
        async move {
            clerk
                .post(
                    &format!("{record}/amend"),
                    &[
                        ("_csrf", &clerk.csrf),
                        ("_version", &version),
                        ("_reason", reason),
                        ("child.given_name", "Arbër"),
                        ("child.surname", "Gashi"),
                        ("child.date_of_birth", "14.03.1968"),
                        ("child.sex", "male"),
                        ("place_of_birth", "Prizren"),
                        ("mother.given_name", "Drita"),
                        ("mother.surname", "Gashi"),
                    ],
                )
                .await
        }
    };
    let r = amend("", version.clone()).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body.contains("Jepni arsyen"), "{}", r.body);
    assert!(r.body.contains("value=\"Arbër\""), "{}", r.body);
    let r = amend("typo in the 1968 register", version.clone()).await;
    assert_eq!(r.status, 303, "{r:?}");
    // The same form again: the record has changed since it was opened.
    let r = amend("again", version.clone()).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert!(
        r.body.contains("u ndryshua pasi e hapët formularin"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("value=\"Arbër\""),
        "nothing typed is lost: {}",
        r.body
    );
    let page = clerk.get(&record).await;
    assert!(
        page.body.contains("typo in the 1968 register"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Arbër"), "{}", page.body);
    // Void: a reason is required; then the record is void and keeps its history.
    let version = field(&page.body, "_version").expect("version on the record page");
    let r = clerk
        .post(
            &format!("{record}/void"),
            &[
                ("_csrf", &clerk.csrf),
                ("_version", &version),
                ("_reason", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    let r = clerk
        .post(
            &format!("{record}/void"),
            &[
                ("_csrf", &clerk.csrf),
                ("_version", &version),
                ("_reason", "registered twice"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    let page = clerk.get(&record).await;
    assert!(
        page.body.contains("I ANULUAR: registered twice"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("typo in the 1968 register"),
        "{}",
        page.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_our_host_names_are_answered_and_pages_need_a_session() {
    let app = App::start(Settings::default()).await;
    let req = Request::get("/login")
        .header(header::HOST, "evil.example")
        .body(Full::new(Bytes::new()))
        .expect("a request");
    let r = http_send(&app.addr, req).await;
    assert_eq!(r.status, 421, "{r:?}");
    for path in ["/", "/search?q=Gashi", "/register/birth", "/status.json"] {
        let r = http_request(&app.addr, "GET", path, None, None).await;
        assert_eq!(r.status, 303, "{path}: {r:?}");
        assert_eq!(location(&r), "/login", "{path}");
    }
    let css = http_request(&app.addr, "GET", "/assets/app.css", None, None).await;
    assert_eq!(css.status, 200);
    assert!(css
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/css"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_across_scripts_and_says_it_is_local() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let id = clerk.form_id().await;
    assert_eq!(clerk.post_birth(&id, &[]).await.status, 303);
    let r = clerk.get("/search.json?q=%D0%93%D0%B0%D1%88%D0%B8").await; // Гаши
    assert_eq!(r.status, 200, "{r:?}");
    let a: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(a["scope"], "local", "{a}");
    assert_eq!(a["hits"].as_array().map(Vec::len), Some(1), "{a}");
    let page = clerk.get("/search?q=Gashi&born=1968").await;
    assert!(page.body.contains("Përgjigje lokale"), "{}", page.body);
    assert!(page.body.contains("PRISHTINE-"), "{}", page.body);
    let bad = clerk.get("/search.json?municipality=Atlantis").await;
    assert_eq!(bad.status, 400, "{bad:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_is_printed_from_the_record_page_and_listed_there() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let saved = clerk.post_birth(&clerk.form_id().await, &[]).await;
    assert_eq!(saved.status, 303, "{saved:?}");
    let page_path = location(&saved).split('?').next().unwrap().to_string();
    let regno = page_path.trim_start_matches("/record/").to_string();
    let cert_path = format!("{page_path}/certificate");
    let ask = |collector: &'static str, doc: &'static str, lang: &'static str| {
        let csrf = clerk.csrf.clone();
        let (clerk, cert_path) = (&clerk, cert_path.clone());
        async move {
            clerk
                .post(
                    &cert_path,
                    &[
                        ("_csrf", &csrf),
                        ("collector", collector),
                        ("id_document", doc),
                        ("cert_lang", lang),
                    ],
                )
                .await
        }
    };

    // Without a signer the page says whom to ask, and nothing is printed.
    let page = clerk.get(&page_path).await;
    assert!(page.body.contains("id=\"cert-no-signer\""), "{}", page.body);
    let r = ask("Drita Gashi", "id-card", "sq").await;
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.body.contains("nënshkrues dokumentesh"), "{}", r.body);

    app.install_signer();
    let page = clerk.get(&page_path).await;
    assert!(
        page.body.contains("id=\"certificate-form\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"cert-none\""), "{}", page.body);

    // What to fix, in the clerk's language; nothing printed.
    let r = ask("  ", "id-card", "sq").await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body.contains("Shkruani emrin e personit"), "{}", r.body);
    let r = ask("Drita Gashi", "library-card", "sq").await;
    assert_eq!(r.status, 422, "{r:?}");
    let r = ask("Drita Gashi", "id-card", "de").await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(app.served.node.certificates().unwrap().is_empty());

    // Printed: a PDF to download, recorded with who printed it for whom.
    let r = ask("Drita Gashi", "passport", "sr").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert!(r
        .header("content-disposition")
        .unwrap_or_default()
        .starts_with("attachment;"));
    assert!(
        r.body.starts_with("%PDF"),
        "{}",
        &r.body[..r.body.len().min(40)]
    );
    let issued = app.served.node.certificates().unwrap();
    assert_eq!(issued.len(), 1);
    assert_eq!(
        (
            issued[0].regno.as_str(),
            issued[0].collector.as_str(),
            issued[0].clerk.as_str()
        ),
        (regno.as_str(), "Drita Gashi", CLERK)
    );
    let page = clerk.get(&page_path).await;
    assert!(page.body.contains(&issued[0].serial), "{}", page.body);
    assert!(
        page.body.contains("Drita Gashi (Pasaportë)"),
        "{}",
        page.body
    );

    // A void record gets none.
    let version = field(&page.body, "_version").expect("the void form's version");
    let v = clerk
        .post(
            &format!("{page_path}/void"),
            &[
                ("_csrf", &clerk.csrf),
                ("_version", &version),
                ("_reason", "entered twice"),
            ],
        )
        .await;
    assert_eq!(v.status, 303, "{v:?}");
    let r = ask("Drita Gashi", "id-card", "sq").await;
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.body.contains("është anuluar"), "{}", r.body);
    assert_eq!(app.served.node.certificates().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_birth_like_one_registered_shows_it_before_saving_and_the_decision_is_kept() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let first = clerk
        .post_birth(&clerk.form_id().await, &[("_dupes", "")])
        .await;
    assert_eq!(
        first.status, 303,
        "nothing like it yet: saved at once {first:?}"
    );
    let existing = location(&first)
        .trim_start_matches("/record/")
        .split('?')
        .next()
        .unwrap()
        .to_string();

    // The same child, typed again in another script and a year off: not saved, the existing
    // record is offered beside what was typed, and everything typed is kept.
    let id = clerk.form_id().await;
    let again = [
        ("_dupes", ""),
        ("child.given_name", "Арбен"),
        ("child.surname", "Гаши"),
        ("child.date_of_birth", "14.03.1969"),
    ];
    let r = clerk.post_birth(&id, &again).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(app.records(), 1);
    assert!(r.body.contains("id=\"duplicates\""), "{}", r.body);
    assert!(
        r.body.contains(&format!("data-regno=\"{existing}\"")),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(&format!("href=\"/record/{existing}\"")),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Mund të jetë regjistruar tashmë"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("value=\"Арбен\""),
        "typed values kept: {}",
        r.body
    );
    assert_eq!(
        field(&r.body, "_dupes_shown").as_deref(),
        Some(existing.as_str())
    );

    // Another person of another name and year is saved at once, with no note.
    let other = clerk
        .post_birth(
            &clerk.form_id().await,
            &[
                ("_dupes", ""),
                ("child.given_name", "Valbona"),
                ("child.date_of_birth", "02.11.1990"),
            ],
        )
        .await;
    assert_eq!(other.status, 303, "{other:?}");
    let page = clerk.get(&location(&other)).await;
    assert!(!page.body.contains("dyfishim"), "{}", page.body);

    // The clerk says it is a different person: saved, and the decision is in its history.
    let mut confirm: Vec<(&str, &str)> = again.to_vec();
    confirm.retain(|(k, _)| *k != "_dupes");
    let shown = existing.clone() + ",NOT-A-REGNO";
    confirm.extend([("_dupes", "new"), ("_dupes_shown", shown.as_str())]);
    let r = clerk.post_birth(&id, &confirm).await;
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(app.records(), 3);
    let page = clerk.get(&location(&r)).await;
    assert!(
        page.body.contains(&format!(
            "U kontrollua për dyfishim: {existing} ishin të ngjashëm"
        )),
        "{}",
        page.body
    );
    assert!(!page.body.contains("NOT-A-REGNO"), "{}", page.body);
}

/// The registration number a save redirected to.
fn saved_regno(r: &HttpResponse) -> String {
    assert_eq!(r.status, 303, "{r:?}");
    location(r)
        .trim_start_matches("/record/")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The candidates' registration numbers in the duplicate table, in their order.
fn dupes_columns(html: &str) -> Vec<String> {
    html.split("class=\"candidate\" data-regno=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

/// The duplicate table's row of one field (`given_name`, `birth_date`, ...), as HTML.
fn dupes_row<'a>(html: &'a str, field: &str) -> &'a str {
    let start = html
        .find(&format!("<tr data-field=\"{field}\">"))
        .unwrap_or_else(|| panic!("no {field} row in the duplicate table:\n{html}"));
    let len = html[start..].find("</tr>").unwrap_or(html.len() - start);
    &html[start..start + len]
}

/// The marks of a row's candidate cells, in column order.
fn marks(row: &str) -> Vec<&str> {
    row.split("data-mark=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_surname_with_day_and_month_swapped_still_offers_the_child_field_by_field() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let existing = saved_regno(
        &clerk
            .post_birth(
                &clerk.form_id().await,
                &[
                    ("_dupes", ""),
                    ("child.date_of_birth", "11.03.1968"),
                    ("child.personal_numbers.jmbg", "1103968950018"),
                ],
            )
            .await,
    );
    // Typed again with a typing error in the surname and the day and month the other way.
    let r = clerk
        .post_birth(
            &clerk.form_id().await,
            &[
                ("_dupes", ""),
                ("child.surname", "Gahsi"),
                ("child.date_of_birth", "03.11.1968"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(app.records(), 1);
    assert_eq!(
        dupes_columns(&r.body),
        std::slice::from_ref(&existing),
        "{}",
        r.body
    );
    // Side by side: each field with what was typed, the record's value and a mark in words.
    let given = dupes_row(&r.body, "given_name");
    assert_eq!(marks(given), ["agree"], "{given}");
    assert!(given.contains("Përputhet"), "{given}");
    let surname = dupes_row(&r.body, "surname");
    assert_eq!(marks(surname), ["close"], "{surname}");
    assert!(
        surname.contains("Gahsi") && surname.contains("Gashi"),
        "{surname}"
    );
    let born = dupes_row(&r.body, "birth_date");
    assert_eq!(marks(born), ["close"], "{born}");
    assert!(
        born.contains("03.11.1968") && born.contains("11.03.1968"),
        "{born}"
    );
    assert!(born.contains("dita dhe muaji të ndërruar"), "{born}");
    assert_eq!(marks(dupes_row(&r.body, "sex")), ["agree"]);
    assert_eq!(marks(dupes_row(&r.body, "birth_place")), ["agree"]);
    assert_eq!(marks(dupes_row(&r.body, "mother_given_name")), ["agree"]);
    // The personal number typed only on the record: masked, and not compared.
    let pn = dupes_row(&r.body, "personal_number");
    assert!(pn.contains("•••••••••0018"), "{pn}");
    assert!(!r.body.contains("1103968950018"), "{}", r.body);
    assert_eq!(marks(pn), ["unknown"], "{pn}");
    assert!(
        dupes_row(&r.body, "municipality").contains("Prishtinë"),
        "{}",
        r.body
    );
    let link = dupes_row(&r.body, "record");
    assert!(
        link.contains(&format!("href=\"/record/{existing}\"")),
        "{link}"
    );
    assert!(
        r.body.contains("data-strength=\"match\"") || r.body.contains("data-strength=\"possible\""),
        "{}",
        r.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_name_and_surname_typed_the_other_way_round_still_offer_the_child() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let existing = saved_regno(
        &clerk
            .post_birth(&clerk.form_id().await, &[("_dupes", "")])
            .await,
    );
    let r = clerk
        .post_birth(
            &clerk.form_id().await,
            &[
                ("_dupes", ""),
                ("child.given_name", "Gashi"),
                ("child.surname", "Arben"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(dupes_columns(&r.body), [existing], "{}", r.body);
    let given = dupes_row(&r.body, "given_name");
    assert_eq!(marks(given), ["close"], "{given}");
    assert!(given.contains("emri dhe mbiemri të ndërruar"), "{given}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namesake_born_another_day_of_other_parents_is_not_offered() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let first = saved_regno(
        &clerk
            .post_birth(&clerk.form_id().await, &[("_dupes", "")])
            .await,
    );
    // The same common name, another date, another mother and a father: a different child.
    let r = clerk
        .post_birth(
            &clerk.form_id().await,
            &[
                ("_dupes", ""),
                ("child.date_of_birth", "02.09.1971"),
                ("mother.given_name", "Shpresa"),
                ("mother.surname", "Berisha"),
                ("father.given_name", "Agim"),
                ("father.surname", "Gashi"),
            ],
        )
        .await;
    let second = saved_regno(&r);
    assert_ne!(first, second);
    assert_eq!(app.records(), 2);
    let page = clerk.get(&location(&r)).await;
    assert!(!page.body.contains("dyfishim"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_a_name_shows_as_text_in_the_duplicate_table() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    // No digit in it: a name may hold it (validation refuses digits, not angle brackets).
    let evil = "<script>alert('x')</script>";
    let first = clerk
        .post_birth(
            &clerk.form_id().await,
            &[
                ("_dupes", ""),
                ("_confirm", "1"),
                ("mother.given_name", evil),
            ],
        )
        .await;
    saved_regno(&first);
    let r = clerk
        .post_birth(
            &clerk.form_id().await,
            &[
                ("_dupes", ""),
                ("_confirm", "1"),
                ("mother.given_name", evil),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert!(
        !r.body.contains(evil),
        "raw markup in the page:\n{}",
        r.body
    );
    let row = dupes_row(&r.body, "mother_given_name");
    assert_eq!(row.matches("&lt;script&gt;alert(").count(), 2, "{row}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_page_lists_todays_work_mine_and_the_offices_and_what_waits() {
    let app = App::start(Settings::default()).await;
    let node = &app.served.node;
    let by = node.authenticate(CLERK, PASSWORD).expect("drita signs in");
    node.add_clerk(Some(&by), "besa", "besa-long-password")
        .expect("add a second clerk");
    let drita = sign_in(&app.addr).await;
    let besa = try_sign_in(&app.addr, "besa", "besa-long-password")
        .await
        .unwrap_or_else(|r| panic!("{r:?}"));
    let empty = drita.get("/").await;
    assert!(empty.body.contains("Regjistrime sot: 0."), "{}", empty.body);
    assert!(!empty.body.contains("id=\"today-mine\""), "{}", empty.body);
    let mut mine = Vec::new();
    for name in ["Arben", "Valbona"] {
        let r = drita
            .post_birth(&drita.form_id().await, &[("child.given_name", name)])
            .await;
        assert_eq!(r.status, 303, "{r:?}");
        mine.push(
            location(&r)
                .trim_start_matches("/record/")
                .split('?')
                .next()
                .unwrap()
                .to_string(),
        );
    }
    let r = besa
        .post_birth(&besa.form_id().await, &[("child.given_name", "Dren")])
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    let theirs = location(&r)
        .trim_start_matches("/record/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    // The hub holds the first entry.
    app.served.node.set_hub_acked(1).expect("set acked");

    let page = drita.get("/").await;
    assert_eq!(page.status, 200, "{page:?}");
    let body = &page.body;
    assert!(
        body.contains("Regjistrime sot: 3. Në pritje për t&#x27;u dërguar në agjenci: 2."),
        "{body}"
    );
    let section = |id: &str| {
        let at = body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no {id}: {body}"));
        body[at..at + body[at..].find("</table>").unwrap()].to_string()
    };
    let (m, o) = (section("today-mine"), section("today-office"));
    assert!(
        mine.iter()
            .all(|r| m.contains(&format!("data-regno=\"{r}\""))),
        "{m}"
    );
    assert!(!m.contains(&theirs), "{m}");
    assert!(
        o.contains(&format!("data-regno=\"{theirs}\"")) && o.contains("besa"),
        "{o}"
    );
    // Newest first; the first entry is at the hub, the others wait.
    assert!(m.find(&mine[1]).unwrap() < m.find(&mine[0]).unwrap(), "{m}");
    assert_eq!(m.matches("sync hub").count(), 1, "{m}");
    assert_eq!(o.matches("sync here").count(), 1, "{o}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_noted_on_a_birth_record_and_what_cannot_be_noted_says_why() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let saved = clerk.post_birth(&clerk.form_id().await, &[]).await;
    assert_eq!(saved.status, 303, "{saved:?}");
    let page_path = location(&saved).split('?').next().unwrap().to_string();
    let regno = page_path.trim_start_matches("/record/").to_string();
    let record = clerk.get(&page_path).await;
    assert!(
        record.body.contains(&format!("href=\"/annotate/{regno}\"")),
        "{}",
        record.body
    );
    let form = clerk.get(&format!("/annotate/{regno}")).await;
    assert_eq!(form.status, 200, "{form:?}");
    assert!(form.body.contains("id=\"annotate-form\""), "{}", form.body);
    let note = |regno: String, event: &'static str, date: &'static str| {
        let csrf = clerk.csrf.clone();
        let clerk = &clerk;
        async move {
            clerk
                .post(
                    &format!("/annotate/{regno}"),
                    &[
                        ("_csrf", &csrf),
                        ("event", event),
                        ("date", date),
                        ("place", "Prizren"),
                        ("record", ""),
                        ("text", "sipas njoftimit të zyrës së Prizrenit"),
                    ],
                )
                .await
        }
    };
    let ops = || app.served.node.log_len();
    let before = ops();

    // What to fix, in the clerk's language, with what was typed kept; nothing saved.
    let r = note(regno.clone(), "baptism", "01.06.1990").await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body.contains("Zgjidhni ngjarjen"), "{}", r.body);
    assert!(r.body.contains("sipas njoftimit"), "{}", r.body);
    let r = note(regno.clone(), "marriage", "31.02.1990").await;
    assert_eq!(r.status, 422, "{r:?}");
    let r = note("GJAKOVE-2001-B-000007".into(), "marriage", "01.06.1990").await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body.contains("kërkim kombëtar"), "{}", r.body);
    let r = note("%3Cscript%3E".into(), "marriage", "").await;
    assert!(r.status == 422 || r.status == 404, "{r:?}");
    assert!(!r.body.contains("<script>"), "{}", r.body);
    assert_eq!(ops(), before);

    // Noted: the record's own fields are untouched, the annotation is in the record.
    let fields_before = app.served.node.get(&regno).unwrap().fields;
    let r = note(regno.clone(), "marriage", "01.06.1990").await;
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(location(&r), format!("/record/{regno}?annotated=1"));
    assert_eq!(ops(), before + 1);
    let after = app.served.node.get(&regno).unwrap().fields;
    for (k, v) in &fields_before {
        assert_eq!(after.get(k), Some(v), "{k}");
    }
    let noted: Vec<_> = after
        .iter()
        .filter(|(k, _)| k.starts_with("annotation."))
        .collect();
    assert!(
        noted
            .iter()
            .any(|(k, v)| k.ends_with(".event") && v.as_str() == Some("marriage")),
        "{noted:?}"
    );
    assert!(
        noted
            .iter()
            .any(|(k, v)| k.ends_with(".date") && v.as_str() == Some("1990-06-01")),
        "{noted:?}"
    );
    let page = clerk.get(&location(&r)).await;
    assert!(page.body.contains("Shënimi u ruajt."), "{}", page.body);
}

/// Posts `body` to `/import` as the page's script does (the file as the body, the session's
/// token in a header).
async fn upload_csv(app: &App, clerk: &Clerk, token: &str, body: impl Into<Bytes>) -> HttpResponse {
    let req = Request::post("/import")
        .header(header::HOST, &app.addr)
        .header(header::COOKIE, &clerk.cookie)
        .header("x-csrf-token", token)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Full::new(body.into()))
        .expect("a request");
    http_send(&app.addr, req).await
}

/// Follows the import job `started` answered with until it is done, as the page does: its
/// last answer, and the answers seen before.
async fn follow_import(
    clerk: &Clerk,
    started: &HttpResponse,
) -> (serde_json::Value, Vec<serde_json::Value>) {
    assert_eq!(started.status, 202, "{started:?}");
    let v: serde_json::Value = serde_json::from_str(&started.body).expect("JSON");
    let url = v["poll"].as_str().expect("the job's address").to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    let mut seen = Vec::new();
    loop {
        let r = clerk.get(&url).await;
        assert_eq!(r.status, 200, "{r:?}");
        let a: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
        if a["done"] == true {
            return (a, seen);
        }
        seen.push(a);
        assert!(
            std::time::Instant::now() < deadline,
            "the import did not end"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `path` as the clerk reads it in language `lang`.
async fn get_in(clerk: &Clerk, lang: &str, path: &str) -> HttpResponse {
    let cookie = format!("{}; civreg_lang={lang}", clerk.cookie);
    http_request(&clerk.addr, "GET", path, Some(&cookie), None).await
}

/// A birth CSV of `rows` rows with distinct names (from letters: names carry no digits).
fn births_csv(rows: usize) -> String {
    let mut big = String::from("kind;child.given_name;child.surname;child.sex;child.date_of_birth;place_of_birth;mother.given_name;mother.surname\n");
    for i in 0..rows {
        let suffix: String = [i / 676, (i / 26) % 26, i % 26]
            .iter()
            .map(|d| char::from(b'a' + (*d % 26) as u8))
            .collect();
        big.push_str(&format!(
            "birth;Dren{suffix};Gashi;male;14.03.1968;Prizren;Drita;Gashi\n"
        ));
    }
    big
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_uploaded_in_the_browser_is_imported_with_its_bad_rows_reported_in_the_clerks_language(
) {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let page = clerk.get("/import").await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("id=\"import-form\""), "{}", page.body);
    let header = "kind;child.given_name;child.surname;child.sex;child.date_of_birth;place_of_birth;mother.given_name;mother.surname";
    let csv = format!(
        "\u{feff}{header}\r\nbirth;Arta;Krasniqi;female;03.02.1971;Prizren;Mimoza;Krasniqi\r\nbirth;Ђорђе;Јовановић;male;1962-05-02;Исток;Милица;Јовановић\r\nbirth;Besnik;Hoxha;male;31.02.1975;Pejë;Fatime;Hoxha\r\n"
    );

    // Without the session's token: refused, nothing imported.
    let r = upload_csv(&app, &clerk, "forged", csv.clone()).await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(app.records(), 0);

    // Two rows in, the bad one reported with its line and reason, in the clerk's language.
    let started = upload_csv(&app, &clerk, &clerk.csrf.clone(), csv.clone()).await;
    let (v, _) = follow_import(&clerk, &started).await;
    assert_eq!(app.records(), 2, "{v}");
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .starts_with("Rreshta: 3. U importuan: 2."),
        "{v}"
    );
    assert_eq!(v["percent"], 100, "{v}");
    assert_eq!(v["lines"][0]["line"], 4, "{v}");
    assert_eq!(v["lines"][0]["status_text"], "U refuzua", "{v}");
    assert_eq!(
        v["lines"][0]["reasons"][0],
        "child.date_of_birth: vlera nuk mund të lexohet: kontrollojeni (data si 14.03.1968 ose 1968-03-14, gjinia si male ose female).",
        "{v}"
    );
    // The same report read in Serbian Cyrillic, on the page and downloaded.
    let poll: serde_json::Value = serde_json::from_str(&started.body).unwrap();
    let url = poll["poll"].as_str().unwrap();
    let cyr = get_in(&clerk, "sr-Cyrl", url).await;
    let cv: serde_json::Value = serde_json::from_str(&cyr.body).expect("JSON");
    assert_eq!(cv["lines"][0]["status_text"], "Одбијен", "{cv}");
    assert!(
        cv["lines"][0]["reasons"][0]
            .as_str()
            .unwrap()
            .starts_with("child.date_of_birth: вредност не може да се прочита"),
        "{cv}"
    );
    let download = cv["download"].as_str().expect("a download link");
    let file = get_in(&clerk, "sr-Cyrl", download).await;
    assert_eq!(file.status, 200, "{file:?}");
    assert!(
        file.header("content-type")
            .unwrap_or_default()
            .starts_with("text/csv"),
        "{file:?}"
    );
    assert!(
        file.header("content-disposition")
            .unwrap_or_default()
            .contains("attachment"),
        "{file:?}"
    );
    let mut rows = file.body.trim_start_matches('\u{feff}').lines();
    assert_eq!(rows.next(), Some("Ред,Стање,Разлози"), "{}", file.body);
    assert_eq!(
        rows.next(),
        Some("4,Одбијен,\"child.date_of_birth: вредност не може да се прочита: проверите је (датуми као 14.03.1968 или 1968-03-14, пол као male или female).\""),
        "{}",
        file.body
    );
    // Another's job, or one forgotten, is not shown.
    let r = clerk.get(&format!("/import/{}", "0".repeat(64))).await;
    assert_eq!(r.status, 404, "{r:?}");
    assert!(r.body.contains("nuk njihet më"), "{}", r.body);

    // Sent again: nothing imported twice, and the report says so.
    let started = upload_csv(&app, &clerk, &clerk.csrf.clone(), csv.clone()).await;
    let (v, _) = follow_import(&clerk, &started).await;
    assert_eq!(app.records(), 2, "{v}");
    assert_eq!(v["skipped"], 2, "{v}");
    let file = clerk.get(v["download"].as_str().unwrap()).await;
    assert!(
        file.body.contains("Është importuar më parë si "),
        "{}",
        file.body
    );

    // Not a CSV, empty, unreadable or too large: what to fix, at once, never a 500.
    let r = upload_csv(&app, &clerk, &clerk.csrf.clone(), "").await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body.contains("bosh"), "{}", r.body);
    let r = upload_csv(&app, &clerk, &clerk.csrf.clone(), "name,age\nx,1\n").await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(
        r.body.contains("Asnjë nga kolonat e kokës nuk njihet"),
        "{}",
        r.body
    );
    let r = upload_csv(
        &app,
        &clerk,
        &clerk.csrf.clone(),
        "kind;kind\nbirth;birth\n",
    )
    .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body.contains("dy herë"), "{}", r.body);
    let workbook = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml".to_vec();
    let r = upload_csv(&app, &clerk, &clerk.csrf.clone(), workbook).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body.contains("nuk është skedar CSV"), "{}", r.body);
    let utf16: Vec<u8> = "\u{feff}kind;child.given_name\nbirth;Ana\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let r = upload_csv(&app, &clerk, &clerk.csrf.clone(), utf16).await;
    assert_eq!(r.status, 422, "{r:?}");
    assert!(r.body.contains("nuk është skedar CSV"), "{}", r.body);
    let mut huge = births_csv(10).into_bytes();
    huge.resize(civreg_node::web::MAX_UPLOAD_BYTES + 1, b'\n');
    let r = upload_csv(&app, &clerk, &clerk.csrf.clone(), huge).await;
    assert_eq!(r.status, 413, "{r:?}");
    assert!(r.body.contains("më i madh se 16 MiB"), "{}", r.body);
    assert_eq!(app.records(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_import_counts_its_rows_up_to_the_total_and_a_second_import_waits_for_it() {
    let app = App::start(Settings::default()).await;
    let clerk = sign_in(&app.addr).await;
    let rows = 6000;
    let big = births_csv(rows);
    // Far above a form's 64 KiB limit: goes in whole.
    assert!(big.len() > 4 * civreg_node::web::MAX_BODY_BYTES);
    let started = upload_csv(&app, &clerk, &clerk.csrf.clone(), big).await;
    assert_eq!(started.status, 202, "{started:?}");
    // A second import while the first runs: refused, saying who runs one.
    let second = upload_csv(&app, &clerk, &clerk.csrf.clone(), births_csv(3)).await;
    assert_eq!(second.status, 409, "{second:?}");
    assert!(
        second
            .body
            .contains("Një import po bëhet tashmë në këtë zyrë (nga drita"),
        "{}",
        second.body
    );
    let (done, seen) = follow_import(&clerk, &started).await;
    // The count went up as the rows were read, and reached the file's rows.
    let reads: Vec<u64> = seen.iter().map(|a| a["read"].as_u64().unwrap()).collect();
    assert!(
        reads.iter().any(|r| *r > 0 && *r < rows as u64),
        "no count between 0 and {rows} was seen: {reads:?}"
    );
    assert!(reads.windows(2).all(|w| w[0] <= w[1]), "{reads:?}");
    for a in &seen {
        if !a["total"].is_null() {
            assert_eq!(a["total"], rows, "{a}");
            assert!(a["percent"].as_u64().unwrap() < 100, "{a}");
        }
    }
    let mid = seen
        .iter()
        .find(|a| a["read"].as_u64().unwrap() > 0)
        .expect("a count seen");
    assert!(
        mid["progress_text"]
            .as_str()
            .unwrap()
            .starts_with("U lexuan "),
        "{mid}"
    );
    assert_eq!(done["read"], rows, "{done}");
    assert_eq!(done["total"], rows, "{done}");
    assert_eq!(done["accepted"], rows, "{done}");
    assert_eq!(done["percent"], 100, "{done}");
    assert_eq!(
        done["progress_text"],
        format!("U lexuan {rows} nga {rows} rreshta"),
        "{done}"
    );
    assert_eq!(app.records(), rows);
    // Once it is over, the next import runs.
    let third = upload_csv(&app, &clerk, &clerk.csrf.clone(), births_csv(3)).await;
    let (v, _) = follow_import(&clerk, &third).await;
    assert_eq!(v["skipped"], 3, "{v}");
}

/// An office enrolled with two hubs sees in the status bar, in each language, which hub it
/// syncs with (issue 19): the page and `/status.json`; an office not enrolled names none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_bar_names_the_hub_in_use() {
    let list = vec![
        "https://hub-a.civreg.rks:7443".to_string(),
        "https://hub-b.civreg.rks:7443".to_string(),
    ];
    let app = App::start_with(Settings::default(), move |dir| {
        let pki = civreg_hub::pki::Pki::init(
            &dir.join("pki"),
            &["hub-a.civreg.rks".into(), "hub-b.civreg.rks".into()],
        )
        .expect("pki init");
        let bundle = dir.join("bundle");
        pki.issue_node("prishtine", "1", 30)
            .expect("issue")
            .write_bundle_for(&bundle, &pki.trust_pem().expect("trust"), &list)
            .expect("bundle");
        civreg_node::sync::install_bundle(&bundle, dir).expect("enrol");
        // The worker moved on to the second hub.
        Live::with_hubs(
            dir,
            &civreg_node::worker::Hubs {
                list: list.clone(),
                current: list[1].clone(),
            },
        )
    })
    .await;
    let clerk = sign_in(&app.addr).await;
    for (lang, text) in [
        ("sq", "qendra në përdorim: hub-b.civreg.rks"),
        ("en", "hub in use: hub-b.civreg.rks"),
        ("sr-Latn", "centar u upotrebi: hub-b.civreg.rks"),
        ("sr-Cyrl", "центар у употреби: hub-b.civreg.rks"),
    ] {
        let page = get_in(&clerk, lang, "/").await;
        assert_eq!(page.status, 200, "{page:?}");
        assert!(
            page.body.contains(&format!(
                "<span id=\"st-hub\" data-host=\"hub-b.civreg.rks\">{text}</span>"
            )),
            "{lang}: {}",
            page.body
        );
        let bar = get_in(&clerk, lang, "/status.json").await;
        let bar: serde_json::Value = serde_json::from_str(&bar.body).expect("status json");
        assert_eq!(bar["hub"], "hub-b.civreg.rks", "{bar}");
        assert_eq!(bar["hub_text"], text, "{bar}");
    }

    // Not enrolled: no hub named.
    let bare = App::start(Settings::default()).await;
    let clerk = sign_in(&bare.addr).await;
    let bar = clerk.get("/status.json").await;
    let bar: serde_json::Value = serde_json::from_str(&bar.body).expect("status json");
    assert_eq!(bar["hub"], "", "{bar}");
    assert_eq!(bar["hub_text"], "", "{bar}");
}
