//! The clerk app's CSV import and its forms' memory, with real processes (issue 14):
//! - a registration form posted again after `civreg-node serve` was SIGKILLed and started
//!   again is answered with the record the first post saved, not registered twice;
//! - in headless Chromium (WebDriver), a CSV of thousands of rows with a bad one is uploaded:
//!   the bar counts the rows read out of the file's rows, reaches 100%, and the report shows
//!   the bad row with its line and its reason in Albanian.
//!
//! The node is a real `civreg-node serve` process, enrolled with a hub that is then stopped
//! (the office works offline).

use civreg_testkit::browser as webdriver;
use civreg_testkit::prelude as common;

use common::*;
use fantoccini::{Client, Locator};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use webdriver::{browser, log_file, start_chromedriver, Proc};

const LIMIT: Duration = Duration::from_secs(180);

pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// An enrolled office of Prishtinë, its hub stopped; its data directory.
pub(super) async fn office(work: &Path) -> PathBuf {
    let hub = Hub::start().await;
    let node_dir = work.join("prishtine-1");
    enrol_node(&node_dir, &hub.bundle("prishtine", "1")).await;
    let (_hub_dir, store) = hub.stop().await;
    drop(store);
    node_dir
}

/// `civreg-node serve` with the clerk app on 127.0.0.1:`port`, once the app answers.
pub(super) async fn serve(node_dir: &Path, port: u16, log: &Path) -> Proc {
    let mut node = Proc(
        Command::new(node_bin())
            .arg("--data-dir")
            .arg(node_dir)
            .args(["serve", "--interval-secs", "5", "--http-listen"])
            .arg(format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log_file(log))
            .stderr(log_file(log))
            .spawn()
            .expect("spawn civreg-node serve"),
    );
    let app = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Ok(Ok(s)) =
            tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(&app)).await
        {
            drop(s);
            if http_request(&app, "GET", "/login", None, None).await.status == 200 {
                return node;
            }
        }
        if let Ok(Some(st)) = node.try_wait() {
            panic!(
                "serve exited ({st}); its log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "the clerk app did not start; node log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `value` of the hidden input `name` in a page.
pub(super) fn field(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// Signs clerk `ana` in over HTTP: the session cookie and its CSRF token.
pub(super) async fn sign_in(app: &str) -> (String, String) {
    let form = http_request(app, "GET", "/login", None, None).await;
    let login = form.set_cookie("civreg_login").expect("a login cookie");
    let token = field(&form.body, "_csrf").expect("the sign-in form's token");
    let res = http_request(
        app,
        "POST",
        "/login",
        Some(&format!("civreg_login={login}")),
        Some(&[
            ("name", CLERK),
            ("password", CLERK_PASSWORD),
            ("_csrf", &token),
        ]),
    )
    .await;
    let session = res
        .set_cookie("civreg_clerk")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| panic!("sign-in failed: {res:?}"));
    let cookie = format!("civreg_clerk={session}");
    let page = http_request(app, "GET", "/", Some(&cookie), None).await;
    let csrf = field(&page.body, "_csrf").expect("the sign-out form's token");
    (cookie, csrf)
}

pub(super) async fn post_birth(app: &str, cookie: &str, csrf: &str, form_id: &str) -> HttpResponse {
    http_request(
        app,
        "POST",
        "/register/birth",
        Some(cookie),
        Some(&[
            ("_csrf", csrf),
            ("_form", form_id),
            ("_dupes", "new"),
            ("child.given_name", "Arben"),
            ("child.surname", "Gashi"),
            ("child.date_of_birth", "14.03.1968"),
            ("child.sex", "male"),
            ("place_of_birth", "Prizren"),
            ("mother.given_name", "Drita"),
            ("mother.surname", "Gashi"),
        ]),
    )
    .await
}

/// The record a "see other" answer leads to.
pub(super) fn record_of(r: &HttpResponse) -> String {
    assert_eq!(r.status, 303, "{r:?}");
    let to = r.header("location").unwrap_or_default();
    to.strip_prefix("/record/")
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_else(|| panic!("not a record: {to}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_form_posted_again_after_serve_was_killed_and_restarted_registers_once() {
    let work = tempfile::tempdir().expect("tempdir");
    let node_dir = office(work.path()).await;
    let port = free_port();
    let app = format!("127.0.0.1:{port}");
    let log = work.path().join("node.log");
    let mut node = serve(&node_dir, port, &log).await;

    let (cookie, csrf) = sign_in(&app).await;
    let page = http_request(&app, "GET", "/register/birth", Some(&cookie), None).await;
    let form_id = field(&page.body, "_form").expect("the form's id");
    let first = post_birth(&app, &cookie, &csrf, &form_id).await;
    let regno = record_of(&first);
    assert!(
        first
            .header("location")
            .unwrap_or_default()
            .contains("saved=1"),
        "{first:?}"
    );

    // The power goes the moment the answer came back.
    civreg_testkit::process::sigkill(&mut node);
    let _node = serve(&node_dir, port, &log).await;

    // The browser posts the same form again (a reload of the answer page, the form resent):
    // sessions do not outlive serve, so the clerk signs in again first.
    let (cookie, csrf) = sign_in(&app).await;
    let again = post_birth(&app, &cookie, &csrf, &form_id).await;
    assert_eq!(record_of(&again), regno, "{again:?}");
    let to = again.header("location").unwrap_or_default().to_string();
    assert!(to.contains("again=1"), "{to}");
    let shown = http_request(&app, "GET", &to, Some(&cookie), None).await;
    assert!(
        shown.body.contains("nuk u regjistrua dy herë"),
        "{}",
        shown.body
    );
    // One record of the child at the office.
    let found = http_request(
        &app,
        "GET",
        "/search.json?q=Arben+Gashi&born=&municipality=&kind=",
        Some(&cookie),
        None,
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&found.body).expect("JSON");
    let hits: Vec<&str> = v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|h| h["regno"].as_str())
        .collect();
    assert_eq!(hits, [regno.as_str()], "{v}");
}

async fn text_of(c: &Client, css: &str) -> Option<String> {
    c.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

async fn attr_of(c: &Client, css: &str, attr: &str) -> Option<String> {
    c.find(Locator::Css(css))
        .await
        .ok()?
        .attr(attr)
        .await
        .ok()?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_csv_import_in_the_browser_counts_its_rows_to_100_percent_and_shows_its_report() {
    let work = tempfile::tempdir().expect("tempdir");
    let node_dir = office(work.path()).await;
    let port = free_port();
    let log = work.path().join("node.log");
    let _node = serve(&node_dir, port, &log).await;

    // Thousands of rows, the second one bad (a date that does not exist).
    let rows = 8000usize;
    let mut csv = String::from("kind;child.given_name;child.surname;child.sex;child.date_of_birth;place_of_birth;mother.given_name;mother.surname\n");
    for i in 0..rows {
        let suffix: String = [i / 676, (i / 26) % 26, i % 26]
            .iter()
            .map(|d| char::from(b'a' + (*d % 26) as u8))
            .collect();
        let date = if i == 1 { "31.02.1975" } else { "14.03.1968" };
        csv.push_str(&format!(
            "birth;Dren{suffix};Gashi;male;{date};Prizren;Drita;Gashi\n"
        ));
    }
    let file = work.path().join("faqet-1968.csv");
    std::fs::write(&file, &csv).expect("write the CSV");

    let (_driver, driver_url) = start_chromedriver(&work.path().join("chromedriver.log")).await;
    let c = browser(&driver_url, &work.path().join("chromium-profile")).await;
    let base = format!("http://127.0.0.1:{port}");
    c.goto(&format!("{base}/login"))
        .await
        .expect("open the app");
    for (id, value) in [("name", CLERK), ("password", CLERK_PASSWORD)] {
        let el = c.find(Locator::Id(id)).await.expect("a sign-in field");
        el.send_keys(value).await.expect("type");
    }
    c.find(Locator::Css("#signin"))
        .await
        .expect("the sign-in button")
        .click()
        .await
        .expect("click");
    let deadline = Instant::now() + LIMIT;
    while c.find(Locator::Id("nav-birth")).await.is_err() {
        assert!(Instant::now() < deadline, "the start page did not come");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.goto(&format!("{base}/import"))
        .await
        .expect("open the import page");
    c.find(Locator::Id("import-file"))
        .await
        .expect("the file input")
        .send_keys(file.to_str().expect("a UTF-8 path"))
        .await
        .expect("choose the file");
    c.find(Locator::Css("#import-start"))
        .await
        .expect("the import button")
        .click()
        .await
        .expect("click");

    // Watch the bar until the report shows.
    let mut counts = Vec::new();
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(t) = text_of(&c, "#import-progress-text").await {
            if counts.last() != Some(&t) {
                counts.push(t);
            }
        }
        if c.find(Locator::Id("import-summary")).await.is_ok() {
            break;
        }
        if let Some(p) = text_of(&c, "#import-problem").await {
            panic!("the import failed: {p}");
        }
        assert!(
            Instant::now() < deadline,
            "no report; seen: {counts:?}; page:\n{}",
            c.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // "U lexuan N nga 8000 rreshta" with 0 < N < 8000 was seen on the way.
    let total = format!(" nga {rows} rreshta");
    let on_the_way: Vec<u64> = counts
        .iter()
        .filter_map(|t| {
            t.strip_prefix("U lexuan ")?
                .strip_suffix(total.as_str())?
                .parse()
                .ok()
        })
        .filter(|n| *n > 0 && *n < rows as u64)
        .collect();
    assert!(
        !on_the_way.is_empty(),
        "the rows read were not counted on the way: {counts:?}"
    );
    assert_eq!(
        attr_of(&c, "#import-progress", "data-percent")
            .await
            .as_deref(),
        Some("100")
    );
    assert_eq!(
        text_of(&c, "#import-progress-text").await.as_deref(),
        Some(format!("U lexuan {rows}{total}").as_str())
    );
    let summary = text_of(&c, "#import-summary").await.unwrap_or_default();
    assert!(
        summary.starts_with(&format!("Rreshta: {rows}. U importuan: {}.", rows - 1)),
        "{summary}"
    );
    let bad = text_of(&c, "#import-rejected tr[data-line='3']")
        .await
        .unwrap_or_default();
    assert!(
        bad.contains("U refuzua") && bad.contains("child.date_of_birth: vlera nuk mund të lexohet"),
        "{bad}"
    );
    let link = attr_of(&c, "#import-download", "href")
        .await
        .unwrap_or_default();
    assert!(link.ends_with("/report.csv"), "{link}");
}
