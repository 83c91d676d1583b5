//! The WebDriver side of the browser tests (the dashboard's, `browser.rs`, and the clerk app's,
//! `clerk_browser.rs` and `clerk_a11y.rs`, in the e2e crate): Debian's headless Chromium driven through chromedriver with fantoccini.
//! Chromium and chromedriver must be installed (`.ci/test` installs Debian's `chromium` and
//! `chromium-driver` when missing; `CHROMEDRIVER` names another driver). Without them the tests
//! fail, loudly: they never skip.

use crate::http::http_request;
pub use crate::process::{log_file, KillOnDrop as Proc};
/// The WebDriver client crate, for callers that name its types (the clerk app's browser bench).
pub use fantoccini;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The chromedriver binary: `CHROMEDRIVER`, or `chromedriver` on the `PATH`.
pub fn chromedriver_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("CHROMEDRIVER") {
        return PathBuf::from(p);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("chromedriver"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("chromedriver is not installed: install Debian's chromium and chromium-driver (`apt-get install -y chromium chromium-driver`, as .ci/run does) or set CHROMEDRIVER")
        })
}

/// Starts chromedriver on a free port and waits until it is ready.
pub async fn start_chromedriver(log: &Path) -> (Proc, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let bin = chromedriver_bin();
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(log_file(log))
        .stderr(log_file(log))
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
    let proc = Proc(child);
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect(&addr),
        )
        .await
        {
            drop(s);
            let r = http_request(&addr, "GET", "/status", None, None).await;
            if r.body.contains("\"ready\":true") {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not become ready within 30 s; its log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (proc, format!("http://{addr}"))
}

pub async fn browser(driver: &str, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .unwrap_or_else(|e| {
            panic!("headless Chromium could not be started through chromedriver: {e}")
        })
}

/// Saves a screenshot for a person to look at, when `CIVREG_SCREENSHOTS=DIR` is set.
pub async fn screenshot(c: &Client, name: &str) {
    // For a person to look at: set CIVREG_SCREENSHOTS=DIR.
    if let Some(dir) = std::env::var_os("CIVREG_SCREENSHOTS") {
        if let Ok(png) = c.screenshot().await {
            let _ = std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png);
        }
    }
}

/// On a dashboard page with the language picker (the sign-in page, say): picks the language
/// `tag` and waits until the page the picker leads to speaks it (`<html lang>`), 15 s at most.
pub async fn choose_language(c: &Client, tag: &str) {
    c.find(Locator::Css(&format!("#lang option[value='{tag}']")))
        .await
        .unwrap_or_else(|_| panic!("{tag} in the language picker"))
        .click()
        .await
        .expect("choose the language");
    c.find(Locator::Id("lang-apply"))
        .await
        .expect("the language button")
        .click()
        .await
        .expect("apply the language");
    let start = Instant::now();
    loop {
        let lang = match c.find(Locator::Css("html")).await {
            Ok(e) => e.attr("lang").await.ok().flatten(),
            Err(_) => None,
        };
        if lang.as_deref() == Some(tag) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the page did not turn to {tag}: lang {lang:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs operator `name` in on the dashboard's sign-in page (loaded in `c`) and checks that the
/// page then names them.
pub async fn sign_in_operator(c: &Client, name: &str, password: &str) {
    let wait = Duration::from_secs(15);
    for (id, text) in [("name", name), ("password", password)] {
        c.wait()
            .at_most(wait)
            .for_element(Locator::Id(id))
            .await
            .expect("the sign-in form")
            .send_keys(text)
            .await
            .expect("type");
    }
    c.wait()
        .at_most(wait)
        .for_element(Locator::Id("signin"))
        .await
        .expect("the sign-in button")
        .click()
        .await
        .expect("sign in");
    let who = c
        .wait()
        .at_most(wait)
        .for_element(Locator::Id("operator"))
        .await
        .expect("signed in")
        .text()
        .await
        .expect("the operator's name");
    assert_eq!(who, name);
}
