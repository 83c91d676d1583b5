//! The clerk app in a real browser (headless Chromium over WebDriver, `webdriver/`): a clerk of
//! Prishtinë signs in; registers a birth while the hub is down, meets a validation error in
//! Albanian next to its field and fixes it, and sees "1 waiting"; switches to Serbian Cyrillic;
//! finds the record by a Cyrillic query as she types; and, when the hub comes up, watches the
//! status bar (updated without a reload) reach 0 waiting, and the hub holds the record.
//!
//! The node is a real `civreg-node serve` process; the hub runs in this process, stopped and
//! started again on the port its bundle names.

use civreg_testkit::browser as webdriver;
use civreg_testkit::prelude as common;

use common::*;
use fantoccini::{Client, Locator};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use webdriver::{browser, log_file, screenshot, start_chromedriver, Proc};

/// Generous: after the hub was down a while, the worker's back-off (up to a minute) decides when
/// it tries again.
const LIMIT: Duration = Duration::from_secs(120);

/// Waits until `check` finds what it waits for in the current page, without reloading it.
async fn wait_for_page<T>(
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

async fn attr_of(c: &Client, css: &str, attr: &str) -> Option<String> {
    c.find(Locator::Css(css))
        .await
        .ok()?
        .attr(attr)
        .await
        .ok()?
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clerk_registers_offline_in_albanian_finds_it_in_cyrillic_and_sees_it_reach_the_hub() {
    let work = tempfile::tempdir().expect("tempdir");
    // Enrol the office, then stop the hub: the office starts offline.
    let hub = Hub::start().await;
    let hub_port = hub.port;
    let node_dir = work.path().join("prishtine-1");
    enrol_node(&node_dir, &hub.bundle("prishtine", "1")).await;
    let (hub_dir, store) = hub.stop().await;
    drop(store);

    let app_port = free_port();
    let log = work.path().join("node.log");
    let _node = Proc(
        Command::new(node_bin())
            .arg("--data-dir")
            .arg(&node_dir)
            .args(["serve", "--interval-secs", "1", "--http-listen"])
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
            tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(&app)).await
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

    let (_driver, driver_url) = start_chromedriver(&work.path().join("chromedriver.log")).await;
    let c = browser(&driver_url, &work.path().join("chromium-profile")).await;
    let base = format!("http://{app}");

    // 1. Sign in (Albanian, the default language).
    c.goto(&format!("{base}/")).await.expect("open the app");
    assert!(c.current_url().await.unwrap().path().ends_with("/login"));
    assert_eq!(attr_of(&c, "html", "lang").await.as_deref(), Some("sq"));
    fill(&c, "name", CLERK).await;
    fill(&c, "password", CLERK_PASSWORD).await;
    click(&c, "#signin").await;
    wait_for_page(&c, "the start page", async |c| {
        c.find(Locator::Id("nav-birth")).await.ok()
    })
    .await;
    screenshot(&c, "clerk-home").await;
    let state = text_of(&c, "#st-conn").await.unwrap_or_default();
    assert!(state.contains("Jashtë linje"), "the hub is down: {state}");

    // 2-3. Register a birth; a JMBG that does not match the date shows next to its field, in
    // Albanian, first as typed (the page's script) and then from the shared validation.
    click(&c, "#nav-birth").await;
    fill(&c, "child-given_name", "Arben").await;
    fill(&c, "child-surname", "Gashi").await;
    fill(&c, "child-date_of_birth", "14.03.1968").await;
    c.find(Locator::Css("#child-sex option[value='male']"))
        .await
        .expect("sex option")
        .click()
        .await
        .expect("choose sex");
    fill(&c, "child-personal_numbers-jmbg", "0101970950002").await;
    let live = wait_for_page(&c, "the JMBG checked as typed", async |c| {
        text_of(c, "#child-personal_numbers-jmbg-live")
            .await
            .filter(|t| !t.is_empty())
    })
    .await;
    assert!(live.contains("JMBG-ja nuk përputhet"), "{live}");
    fill(&c, "place_of_birth", "Prizren").await;
    fill(&c, "mother-given_name", "Drita").await;
    fill(&c, "mother-surname", "Gashi").await;
    click(&c, "#save").await;
    let problem = wait_for_page(&c, "the validation error", async |c| {
        text_of(c, "#child-personal_numbers-jmbg-problems").await
    })
    .await;
    assert!(
        problem.contains("JMBG-ja nuk përputhet me datën e lindjes"),
        "{problem}"
    );
    screenshot(&c, "clerk-birth-error").await;
    // Nothing typed was lost: fix the JMBG only.
    assert_eq!(
        attr_of(&c, "#mother-given_name", "value").await.as_deref(),
        Some("Drita")
    );
    fill(&c, "child-personal_numbers-jmbg", "1403968950011").await;
    click(&c, "#save").await;
    let notice = wait_for_page(&c, "the saved record", async |c| {
        text_of(c, "#notice").await
    })
    .await;
    let regno = notice
        .split_whitespace()
        .find(|w| w.starts_with("PRISHTINE-"))
        .map(|w| w.trim_end_matches('.').to_string())
        .unwrap_or_else(|| panic!("a registration number in {notice:?}"));
    assert_eq!(
        attr_of(&c, "#st-waiting", "data-count").await.as_deref(),
        Some("1")
    );
    let waiting = text_of(&c, "#st-waiting").await.unwrap_or_default();
    assert!(waiting.contains("1 në pritje"), "{waiting}");
    screenshot(&c, "clerk-record").await;

    // 4. Switch to Serbian Cyrillic (remembered for the next pages).
    c.find(Locator::Css("#lang option[value='sr-Cyrl']"))
        .await
        .expect("the Cyrillic option")
        .click()
        .await
        .expect("choose Cyrillic");
    wait_for_page(&c, "the page in Cyrillic", async |c| {
        attr_of(c, "html", "lang").await.filter(|l| l == "sr-Cyrl")
    })
    .await;
    let waiting = text_of(&c, "#st-waiting").await.unwrap_or_default();
    assert!(waiting.contains("1 чека"), "{waiting}");

    // 5. Find the record by a Cyrillic query, as the clerk types.
    c.goto(&format!("{base}/search"))
        .await
        .expect("search page");
    fill(&c, "q", "Гаши Арбен").await;
    let hit = wait_for_page(&c, "the record among the hits", async |c| {
        attr_of(c, &format!("#hits li[data-regno='{regno}']"), "data-regno").await
    })
    .await;
    assert_eq!(hit, regno);
    let scope = text_of(&c, "#scope").await.unwrap_or_default();
    assert!(
        scope.contains("Локални одговор"),
        "offline: a local answer, {scope}"
    );
    screenshot(&c, "clerk-search").await;

    // 6. The hub comes up: the status bar, without a reload, shows nothing waiting.
    let hub = Hub::start_in_on(hub_dir, hub_port).await;
    c.goto(&format!("{base}/record/{regno}"))
        .await
        .expect("record page");
    wait_for_page(&c, "0 waiting in the status bar", async |c| {
        attr_of(c, "#st-waiting", "data-count")
            .await
            .filter(|n| n == "0")
    })
    .await;
    let state = text_of(&c, "#st-conn").await.unwrap_or_default();
    assert!(state.contains("На мрежи"), "{state}");
    screenshot(&c, "clerk-synced").await;
    let _ = c.close().await;
    let (_dir, store) = hub.stop().await;
    assert!(
        store
            .record(&regno)
            .expect("read the hub's store")
            .is_some(),
        "the hub holds {regno}"
    );
}
