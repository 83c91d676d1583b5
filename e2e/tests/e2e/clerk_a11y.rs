//! The clerk app's accessibility in a real browser (headless Chromium over WebDriver,
//! `webdriver/`):
//! - axe-core (vendored, `node/tests/vendor/axe-core/`) runs on every page of the app, in
//!   Albanian and in Serbian Cyrillic: sign-in, start and today's work, the three registration
//!   forms, a form with validation errors, the duplicates offered before saving, search with
//!   hits, a record with its certificate section, amend, a voided record, annotate, the record
//!   after a certificate was printed, import (before and after a CSV with a bad row), and a
//!   missing page. Any serious or critical violation fails the test, with its rule and elements.
//! - A clerk registers a birth with the keyboard only (WebDriver key actions: Tab, typing,
//!   Enter), from the sign-in page to the saved record.
//!
//! The node is a real `civreg-node serve` process, enrolled with a bundle that carries a document
//! signer; the hub is stopped after enrolment (the office works offline).

use civreg_testkit::browser as webdriver;
use civreg_testkit::prelude as common;

use common::*;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use webdriver::{browser, log_file, start_chromedriver, Proc};

const AXE: &str = include_str!("../../../node/tests/vendor/axe-core/axe.min.js");

const LIMIT: Duration = Duration::from_secs(60);

/// An enrolled office (with a document signer) whose `civreg-node serve` answers on `base`, and
/// a browser on it.
struct Office {
    _work: tempfile::TempDir,
    _node: Proc,
    _driver: Proc,
    c: Client,
    base: String,
    dir: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Office {
    async fn open() -> Office {
        let work = tempfile::tempdir().expect("tempdir");
        let hub = Hub::start().await;
        let bundle = hub.bundle("prishtine", "1");
        hub.pki
            .issue_signer(Some(("prishtine", "1")), 30)
            .expect("issue a document signer")
            .write_signer(&bundle)
            .expect("write the signer into the bundle");
        let node_dir = work.path().join("prishtine-1");
        enrol_node(&node_dir, &bundle).await;
        let (_hub_dir, store) = hub.stop().await;
        drop(store);

        let app_port = free_port();
        let log = work.path().join("node.log");
        let node = Proc(
            Command::new(node_bin())
                .arg("--data-dir")
                .arg(&node_dir)
                .args(["serve", "--interval-secs", "5", "--http-listen"])
                .arg(format!("127.0.0.1:{app_port}"))
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(log_file(&log))
                .stderr(log_file(&log))
                .spawn()
                .expect("spawn civreg-node serve"),
        );
        let app = format!("127.0.0.1:{app_port}");
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Ok(Ok(s)) =
                tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(&app))
                    .await
            {
                drop(s);
                if http_request(&app, "GET", "/login", None, None).await.status == 200 {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the clerk app did not start; node log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (driver, driver_url) = start_chromedriver(&work.path().join("chromedriver.log")).await;
        let c = browser(&driver_url, &work.path().join("chromium-profile")).await;
        Office {
            dir: work.path().to_path_buf(),
            _work: work,
            _node: node,
            _driver: driver,
            c,
            base: format!("http://{app}"),
        }
    }

    async fn goto(&self, path: &str) {
        self.c
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }
}

async fn wait_for<T>(
    c: &Client,
    what: &str,
    mut check: impl AsyncFnMut(&Client) -> Option<T>,
) -> T {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(v) = check(c).await {
            return v;
        }
        if Instant::now() >= deadline {
            let src = c.source().await.unwrap_or_default();
            panic!("timed out waiting for {what}; the page:\n{src}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text_of(c: &Client, css: &str) -> Option<String> {
    c.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

async fn fill(c: &Client, id: &str, value: &str) {
    let el = c
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no field #{id}: {e}"));
    el.clear().await.expect("clear field");
    el.send_keys(value).await.expect("type into field");
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .expect("click");
}

async fn choose(c: &Client, css: &str) {
    click(c, css).await;
}

/// Runs axe-core on the current page; returns its violations, one line each (impact, rule,
/// help, the elements).
pub(crate) async fn axe(c: &Client) -> Vec<String> {
    // axe-core is injected and run in one script: a page that reloads itself (the dashboard's
    // overview does, every few seconds) between two scripts would lose it. A reload during
    // the run ends the script with an error: the page is checked again, at most three times.
    let script = format!(
        r#"var done = arguments[arguments.length - 1];
{AXE}
;if (typeof window.axe !== "object") {{ done(["axe failed: axe-core not loaded"]); }} else
window.axe.run(document, {{ resultTypes: ["violations"] }}).then(function (r) {{
  done(r.violations.map(function (v) {{
      return v.impact + " " + v.id + ": " + v.help + " :: " + v.nodes.map(function (n) {{
        return n.target.join(" ") + " [" + (n.failureSummary || "").replace(/\s+/g, " ") + "]";
      }}).join(" | ");
    }}));
}}).catch(function (e) {{ done(["axe failed: " + e]); }});"#
    );
    let mut last = String::new();
    for _ in 0..3 {
        match c.execute_async(&script, vec![]).await {
            Ok(out) => return serde_json::from_value(out).expect("a list of violations"),
            Err(e) => last = e.to_string(),
        }
    }
    panic!("axe-core did not run on the page three times over: {last}");
}

/// Checks the current page with axe and adds what it finds under `name`.
async fn check(c: &Client, lang: &str, name: &str, found: &mut Vec<String>, pages: &mut usize) {
    // Every page names its language: the check is on the page meant.
    let html_lang = c
        .find(Locator::Css("html"))
        .await
        .expect("html")
        .attr("lang")
        .await
        .expect("lang attribute");
    assert_eq!(html_lang.as_deref(), Some(lang), "{name}");
    *pages += 1;
    // For the clerk manual's pictures: `CIVREG_SCREENSHOTS=DIR` keeps each page checked.
    let slug: String = name
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
        .collect();
    civreg_testkit::browser::screenshot(c, &format!("clerk-{lang}-{slug}")).await;
    for v in axe(c).await {
        if v.starts_with("serious ") || v.starts_with("critical ") {
            found.push(format!("[{lang}] {name}: {v}"));
        } else {
            // Moderate and minor findings are shown, not failed on.
            eprintln!("axe-core, not failed on: [{lang}] {name}: {v}");
        }
    }
}

async fn sign_in(c: &Client) {
    fill(c, "name", CLERK).await;
    fill(c, "password", CLERK_PASSWORD).await;
    click(c, "#signin").await;
    wait_for(c, "the start page", async |c| {
        c.find(Locator::Id("nav-birth")).await.ok()
    })
    .await;
}

/// Fills the birth form with Arben Gashi's registration (the JMBG as given).
async fn fill_birth(c: &Client, jmbg: &str) {
    fill(c, "child-given_name", "Arben").await;
    fill(c, "child-surname", "Gashi").await;
    fill(c, "child-date_of_birth", "14.03.1968").await;
    choose(c, "#child-sex option[value='male']").await;
    fill(c, "child-personal_numbers-jmbg", jmbg).await;
    fill(c, "place_of_birth", "Prizren").await;
    fill(c, "mother-given_name", "Drita").await;
    fill(c, "mother-surname", "Gashi").await;
}

/// The registration number in the saved record's notice.
async fn saved_regno(c: &Client) -> String {
    let notice = wait_for(c, "the saved record", async |c| text_of(c, "#notice").await).await;
    notice
        .split_whitespace()
        .find(|w| w.starts_with("PRISHTINE-"))
        .map(|w| w.trim_end_matches('.').to_string())
        .unwrap_or_else(|| panic!("a registration number in {notice:?}"))
}

fn csv_with_a_bad_row(dir: &Path) -> PathBuf {
    let p = dir.join("register-pages.csv");
    std::fs::write(
        &p,
        "kind;child.given_name;child.surname;child.sex;child.date_of_birth;place_of_birth;mother.given_name;mother.surname\r\n\
         birth;Arta;Krasniqi;female;03.02.1971;Prizren;Mimoza;Krasniqi\r\n\
         birth;Besnik;Hoxha;male;31.02.1975;Pejë;Fatime;Hoxha\r\n",
    )
    .expect("write the CSV");
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_core_finds_no_serious_or_critical_violation_on_any_page_in_albanian_and_cyrillic() {
    let o = Office::open().await;
    let c = &o.c;
    let csv = csv_with_a_bad_row(&o.dir);
    let mut found = Vec::new();
    let mut pages = 0;

    // The record the duplicates, search, record, amend, annotate and certificate pages show.
    o.goto("/login").await;
    sign_in(c).await;
    o.goto("/register/birth").await;
    fill_birth(c, "1403968950011").await;
    click(c, "#save").await;
    let regno = saved_regno(c).await;
    click(c, "#sign-out").await;
    wait_for(c, "the sign-in page", async |c| {
        c.find(Locator::Id("signin")).await.ok()
    })
    .await;

    for lang in ["sq", "sr-Cyrl"] {
        o.goto(&format!("/lang?to={lang}&back=/login")).await;
        check(c, lang, "sign-in", &mut found, &mut pages).await;
        sign_in(c).await;
        check(c, lang, "start and today's work", &mut found, &mut pages).await;
        for kind in ["birth", "marriage", "death"] {
            o.goto(&format!("/register/{kind}")).await;
            check(c, lang, &format!("register {kind}"), &mut found, &mut pages).await;
        }

        // Validation errors next to their fields.
        o.goto("/register/birth").await;
        fill_birth(c, "0101970950002").await;
        click(c, "#save").await;
        wait_for(c, "the validation errors", async |c| {
            c.find(Locator::Id("form-errors")).await.ok()
        })
        .await;
        check(
            c,
            lang,
            "a form with validation errors",
            &mut found,
            &mut pages,
        )
        .await;

        // The same person again: the duplicates are offered.
        fill(c, "child-personal_numbers-jmbg", "1403968950011").await;
        click(c, "#save").await;
        wait_for(c, "the duplicates", async |c| {
            c.find(Locator::Id("duplicates")).await.ok()
        })
        .await;
        check(c, lang, "possible duplicates", &mut found, &mut pages).await;
        // Saved as a new entry, then voided: the voided record's page.
        click(c, "#dupes-new").await;
        let again = saved_regno(c).await;
        check(c, lang, "a record just saved", &mut found, &mut pages).await;
        fill(c, "void-reason", "entered twice").await;
        click(c, "#void-button").await;
        wait_for(c, "the voided record", async |c| {
            c.find(Locator::Id("void")).await.ok()
        })
        .await;
        assert!(c.current_url().await.unwrap().path().ends_with(&again));
        check(c, lang, "a voided record", &mut found, &mut pages).await;

        o.goto("/search?q=Gashi").await;
        wait_for(c, "the hits", async |c| {
            c.find(Locator::Css(&format!("[data-regno='{regno}']")))
                .await
                .ok()
        })
        .await;
        check(c, lang, "search with hits", &mut found, &mut pages).await;

        o.goto(&format!("/record/{regno}")).await;
        check(
            c,
            lang,
            "record with its certificate form",
            &mut found,
            &mut pages,
        )
        .await;
        // Print a certificate (the PDF is a download), then the record lists it.
        fill(c, "collector", "Drita Gashi").await;
        // The form posted by the page's own fetch, so the test knows when the PDF came back
        // (a click turns into a download that a next navigation could cancel).
        let printed = c
            .execute_async(
                r#"var done = arguments[arguments.length - 1];
var f = document.getElementById("certificate-form");
fetch(f.action, { method: "POST", body: new URLSearchParams(new FormData(f)), credentials: "same-origin" })
  .then(function (r) { done(r.status + " " + (r.headers.get("content-type") || "")); })
  .catch(function (e) { done("failed: " + e); });"#,
                vec![],
            )
            .await
            .expect("print a certificate");
        assert_eq!(printed, serde_json::json!("200 application/pdf"));
        o.goto(&format!("/record/{regno}")).await;
        wait_for(c, "the printed certificate", async |c| {
            c.find(Locator::Id("certificates")).await.ok()
        })
        .await;
        check(
            c,
            lang,
            "record with a printed certificate",
            &mut found,
            &mut pages,
        )
        .await;

        o.goto(&format!("/record/{regno}/amend")).await;
        check(c, lang, "amend", &mut found, &mut pages).await;
        o.goto(&format!("/annotate/{regno}")).await;
        check(c, lang, "annotate", &mut found, &mut pages).await;

        o.goto("/import").await;
        check(c, lang, "import", &mut found, &mut pages).await;
        c.find(Locator::Id("import-file"))
            .await
            .expect("the file input")
            .send_keys(csv.to_str().expect("utf-8 path"))
            .await
            .expect("choose the file");
        click(c, "#import-start").await;
        wait_for(c, "the import report", async |c| {
            text_of(c, "#import-result").await.filter(|t| !t.is_empty())
        })
        .await;
        check(c, lang, "import with its report", &mut found, &mut pages).await;

        o.goto("/no-such-page").await;
        check(c, lang, "a missing page", &mut found, &mut pages).await;

        o.goto("/").await;
        click(c, "#sign-out").await;
        wait_for(c, "the sign-in page", async |c| {
            c.find(Locator::Id("signin")).await.ok()
        })
        .await;
    }
    // The check itself can fail: a field whose label is taken away is reported.
    o.goto("/login").await;
    c.execute(
        "var l = document.querySelector('label[for=name]'); l.parentNode.removeChild(l);",
        vec![],
    )
    .await
    .expect("remove a label");
    let broken = axe(c).await;
    assert!(
        broken.iter().any(|v| v.starts_with("critical label:")),
        "axe-core reports a field without a label: {broken:?}"
    );
    let _ = o.c.clone().close().await;
    assert_eq!(pages, 2 * 17, "every page was checked");
    assert!(
        found.is_empty(),
        "axe-core found {} serious or critical violations:\n{}",
        found.len(),
        found.join("\n")
    );
}

/// Presses `key` once (a real key event, on whatever has the focus).
async fn press(c: &Client, key: Key) {
    let k: char = key.into();
    c.perform_actions(
        KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: k })
            .then(KeyAction::Up { value: k }),
    )
    .await
    .expect("press a key");
}

/// Types `text` as key events into whatever has the focus.
async fn type_text(c: &Client, text: &str) {
    let mut keys = KeyActions::new("keyboard".into());
    for ch in text.chars() {
        keys = keys
            .then(KeyAction::Down { value: ch })
            .then(KeyAction::Up { value: ch });
    }
    c.perform_actions(keys).await.expect("type");
}

async fn focused_id(c: &Client) -> String {
    c.execute(
        "return document.activeElement ? (document.activeElement.id || '') : '';",
        vec![],
    )
    .await
    .ok()
    .and_then(|v| v.as_str().map(str::to_string))
    .unwrap_or_default()
}

/// Presses Tab until `id` has the focus (at most 150 times: every control is reachable).
async fn tab_to(c: &Client, id: &str) {
    for _ in 0..150 {
        if focused_id(c).await == id {
            return;
        }
        press(c, Key::Tab).await;
    }
    panic!("#{id} is not reachable with Tab");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_registers_a_birth_with_the_keyboard_only() {
    let o = Office::open().await;
    let c = &o.c;
    o.goto("/login").await;
    tab_to(c, "name").await;
    type_text(c, CLERK).await;
    tab_to(c, "password").await;
    type_text(c, CLERK_PASSWORD).await;
    press(c, Key::Enter).await;
    wait_for(c, "the start page", async |c| {
        c.find(Locator::Id("nav-birth")).await.ok()
    })
    .await;

    tab_to(c, "nav-birth").await;
    press(c, Key::Enter).await;
    wait_for(c, "the birth form", async |c| {
        c.find(Locator::Id("child-given_name")).await.ok()
    })
    .await;
    for (id, value) in [
        ("child-given_name", "Vjosa"),
        ("child-surname", "Berisha"),
        ("child-date_of_birth", "02.11.2026"),
    ] {
        tab_to(c, id).await;
        type_text(c, value).await;
    }
    // The sex picker: the arrow keys choose.
    tab_to(c, "child-sex").await;
    for _ in 0..3 {
        let v = c
            .execute("return document.getElementById('child-sex').value;", vec![])
            .await
            .expect("sex value");
        if v == serde_json::json!("female") {
            break;
        }
        press(c, Key::Down).await;
    }
    for (id, value) in [
        ("place_of_birth", "Prishtinë"),
        ("mother-given_name", "Teuta"),
        ("mother-surname", "Berisha"),
    ] {
        tab_to(c, id).await;
        type_text(c, value).await;
    }
    tab_to(c, "save").await;
    press(c, Key::Enter).await;
    // A first save may offer possible duplicates or ask to confirm a warning: the keyboard
    // reaches those too.
    let regno = wait_for(c, "the saved record", async |c| {
        if let Some(n) = text_of(c, "#notice").await {
            return Some(n);
        }
        None
    })
    .await;
    assert!(regno.contains("PRISHTINE-"), "{regno}");
    let fields = text_of(c, "#fields").await.unwrap_or_default();
    assert!(
        fields.contains("Vjosa") && fields.contains("Berisha"),
        "{fields}"
    );
    assert!(
        fields.contains("2026-11-02") || fields.contains("02.11.2026"),
        "{fields}"
    );
    let _ = o.c.clone().close().await;
}
