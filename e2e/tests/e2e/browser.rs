//! The dashboard in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver, started here) with fantoccini. A hub runs in this process with its dashboard;
//! three pilot nodes run as real `civreg-node serve` processes. The operator signs in, sees
//! the three pilot municipalities syncing, watches a SIGKILLed node turn offline and come back
//! when restarted, resolves a conflict from its page, and links a duplicate case from its page.
//!
//! Chromium and chromedriver must be installed (`.ci/run` installs Debian's `chromium` and
//! `chromium-driver` when missing; `CHROMEDRIVER` names another driver). Without them this test
//! fails, loudly: it never skips.

use civreg_testkit::browser as webdriver;
use civreg_testkit::prelude as common;

use civreg_hub::web::Settings;
use common::*;
use fantoccini::{Client, Locator};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use webdriver::{browser, log_file, screenshot, start_chromedriver, Proc};

const OPERATOR: &str = "vjosa";
const PASSWORD: &str = "long-enough-secret-1";
const PILOTS: [&str; 3] = ["istog", "mitrovice-jugut", "prishtine"];
/// Nodes sync every second here, so a node is offline after 3 s without a heartbeat.
const ONLINE_WITHIN: Duration = Duration::from_secs(3);
const LIMIT: Duration = Duration::from_secs(60);

/// `civreg-node serve` syncing every second, output appended to `DATA_DIR.log`.
fn serve_node(data_dir: &Path) -> Proc {
    let log = data_dir.with_extension("log");
    Proc(
        Command::new(node_bin())
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--interval-secs", "1"])
            .env("CIVREG_CLERK", CLERK)
            .env("CIVREG_CLERK_PASSWORD", CLERK_PASSWORD)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log_file(&log))
            .stderr(log_file(&log))
            .spawn()
            .expect("spawn civreg-node serve"),
    )
}

/// Reloads `url` until `check` finds what it waits for in the page (deadline: [`LIMIT`]).
async fn wait_page<T>(
    c: &Client,
    url: &str,
    what: &str,
    mut check: impl AsyncFnMut(&Client) -> Option<T>,
) -> T {
    let deadline = Instant::now() + LIMIT;
    loop {
        c.goto(url).await.expect("load page");
        if let Some(v) = check(c).await {
            return v;
        }
        if Instant::now() >= deadline {
            let src = c.source().await.unwrap_or_default();
            panic!("timed out waiting for {what}; the page:\n{src}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The state a node's badge shows in the overview ("online", "offline", "never").
async fn node_state(c: &Client, node: &str) -> Option<String> {
    c.find(Locator::Css(&format!("a[data-node='{node}']")))
        .await
        .ok()?
        .attr("data-state")
        .await
        .ok()?
}

/// Runs axe-core (`clerk_a11y::axe`) on the current page, which must be in `lang`; adds its
/// serious and critical violations under `name` (moderate and minor ones are printed).
pub(crate) async fn a11y(c: &Client, lang: &str, name: &str, found: &mut Vec<String>) {
    let html_lang = c
        .find(Locator::Css("html"))
        .await
        .expect("html")
        .attr("lang")
        .await
        .expect("lang attribute");
    assert_eq!(html_lang.as_deref(), Some(lang), "{name}");
    for v in crate::clerk_a11y::axe(c).await {
        if v.starts_with("serious ") || v.starts_with("critical ") {
            found.push(format!("[{lang}] {name}: {v}"));
        } else {
            eprintln!("axe-core, not failed on: [{lang}] {name}: {v}");
        }
    }
}

async fn row_class(c: &Client, code: &str) -> Option<String> {
    c.find(Locator::Css(&format!("#m-{code}")))
        .await
        .ok()?
        .attr("class")
        .await
        .ok()?
}

fn birth_doc() -> serde_json::Value {
    json!({
        "register": { "book": "L-12", "year": 1968, "page": 40, "entry": 3 },
        "child": {
            "given_name": "Arben", "surname": "Gashi", "sex": "male",
            "date_of_birth": "1968-03-14", "personal_numbers": { "jmbg": "1403968950011" }
        },
        "place_of_birth": "Prizren",
        "mother": { "given_name": "Drita", "surname": "Gashi", "maiden_surname": "Berisha", "date_of_birth": "1945-07-02" },
        "father": { "given_name": "Hysen", "surname": "Gashi", "father_given_name": "Rexhep", "date_of_birth": "1940-11-20" }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_operator_watches_nodes_sync_fail_and_recover_and_resolves_a_conflict_in_chromium() {
    // One duplicate case waiting in Gjakovë (no node of it runs here).
    let mut seeded = Vec::new();
    let (hub, web) = start_web_hub_with(
        Settings {
            online_within: ONLINE_WITHIN,
            history_every: Duration::from_secs(1),
            ..Default::default()
        },
        |dir| {
            seeded = seed_duplicate_cases(dir, &[("gjakove", "Arben", 12.0)]);
            // And one person registered three times there: a cluster of three cases.
            seed_person_cluster(dir, "gjakove", "2", &["Besnik", "Besniku", "Besnick"]);
        },
    )
    .await;
    let case = seeded.pop().expect("a seeded case");
    civreg_hub::control::ask::add_operator(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();
    let work = tempfile::tempdir().expect("tempdir");

    // Three pilot nodes, one registration in Prishtinë, all syncing every second.
    let mut dirs = Vec::new();
    for m in PILOTS {
        let d = work.path().join(format!("{m}-1"));
        enrol_node(&d, &hub.bundle(m, "1")).await;
        dirs.push(d);
    }
    let births = work.path().join("birth.json");
    std::fs::write(&births, birth_doc().to_string()).unwrap();
    let reg = node_json(
        &dirs[2],
        &[
            "--json",
            "register",
            "birth",
            "--file",
            births.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(reg["ok"], true, "{reg}");
    let mut nodes: Vec<Proc> = dirs.iter().map(|d| serve_node(d)).collect();

    let (_driver, driver_url) = start_chromedriver(&work.path().join("chromedriver.log")).await;
    let c = browser(&driver_url, &work.path().join("chromium-profile")).await;
    let base = format!("http://{web}");

    // Signing in. The dashboard speaks Albanian first; the operator picks English (the
    // texts asserted below are English), and every page is checked with axe-core.
    let mut a11y_found = Vec::new();
    c.goto(&format!("{base}/")).await.unwrap();
    assert!(
        c.current_url().await.unwrap().path() == "/login",
        "without a session the browser is sent to sign in"
    );
    a11y(&c, "sq", "sign-in", &mut a11y_found).await;
    webdriver::choose_language(&c, "en").await;
    a11y(&c, "en", "sign-in", &mut a11y_found).await;
    webdriver::sign_in_operator(&c, OPERATOR, PASSWORD).await;

    // The three pilots sync: every node online, Prishtinë's registration acknowledged.
    let overview = format!("{base}/");
    wait_page(
        &c,
        &overview,
        "the three pilot nodes online",
        async |c: &Client| {
            for m in PILOTS {
                if node_state(c, &format!("{m}/1")).await.as_deref() != Some("online") {
                    return None;
                }
                let stage = c
                    .find(Locator::Css(&format!("#m-{m}")))
                    .await
                    .ok()?
                    .attr("data-stage")
                    .await
                    .ok()??;
                assert_eq!(stage, "pilot", "{m}");
            }
            let row = c
                .find(Locator::Css("#m-prishtine"))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            row.contains("#1").then_some(())
        },
    )
    .await;
    screenshot(&c, "overview-syncing").await;
    // While the overview reloads itself every few seconds, axe-core's one finding is that
    // reload (meta-refresh, WCAG 2.2.1): the page offers to stop it, and the operator does.
    let reloading = crate::clerk_a11y::axe(&c).await;
    assert!(
        !reloading.is_empty()
            && reloading
                .iter()
                .all(|v| v.starts_with("critical meta-refresh:")),
        "{reloading:?}"
    );
    c.find(Locator::Id("refresh-pause"))
        .await
        .expect("a way to stop the reload")
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("refresh-resume"))
        .await
        .expect("the reload stopped, and a way to resume it");
    a11y(&c, "en", "overview", &mut a11y_found).await;

    // SIGKILL Prishtinë's node: its row turns offline and comes to the top.
    nodes[2].0.kill().expect("SIGKILL the node");
    let _ = nodes[2].0.wait();
    wait_page(&c, &overview, "prishtine/1 offline", async |c: &Client| {
        (node_state(c, "prishtine/1").await.as_deref() == Some("offline")).then_some(())
    })
    .await;
    assert_eq!(row_class(&c, "prishtine").await.as_deref(), Some("bad"));
    let first = c
        .find(Locator::Css("#overview tbody tr"))
        .await
        .unwrap()
        .attr("id")
        .await
        .unwrap();
    assert_eq!(first.as_deref(), Some("m-prishtine"), "trouble first");
    screenshot(&c, "overview-offline").await;

    // Restarted, it recovers.
    nodes[2] = serve_node(&dirs[2]);
    wait_page(
        &c,
        &overview,
        "prishtine/1 online again",
        async |c: &Client| {
            (node_state(c, "prishtine/1").await.as_deref() == Some("online")).then_some(())
        },
    )
    .await;
    assert_ne!(row_class(&c, "prishtine").await.as_deref(), Some("bad"));

    // Its page: state, the chart, the version it reports.
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("a[data-node='prishtine/1']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let state = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("state"))
        .await
        .unwrap()
        .attr("data-state")
        .await
        .unwrap();
    assert_eq!(state.as_deref(), Some("online"));
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("svg#history"))
        .await
        .expect("the history chart");
    screenshot(&c, "node").await;
    a11y(&c, "en", "node", &mut a11y_found).await;

    // A conflict between two other offices, resolved from its page.
    let (record, _) = make_conflict(&hub).await;
    c.goto(&format!("{base}/conflicts")).await.unwrap();
    let listed = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("a.conflict"))
        .await
        .expect("the conflict is listed");
    a11y(&c, "en", "conflicts", &mut a11y_found).await;
    listed.click().await.unwrap();
    let rec = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("record"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(rec, record);
    a11y(&c, "en", "conflict", &mut a11y_found).await;
    let a = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#side-a .value"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let b = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#side-b .value"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!((a.as_str(), b.as_str()), ("Agron", "Agon"));
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("keep-b"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("reason"))
        .await
        .unwrap()
        .send_keys("the paper register says Agon")
        .await
        .unwrap();
    screenshot(&c, "conflict").await;
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("resolve-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let by = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("resolved-by"))
        .await
        .expect("the page shows the decision")
        .text()
        .await
        .unwrap();
    assert_eq!(by, "operator:vjosa");

    // The decision is an op of the hub's chain in the operator's name, in Prishtinë's feed.
    let mut reader = hub.client(&hub.issue("prishtine", "7")).await;
    let (ops, _) = pull_all(&mut reader, 0).await;
    let decision = ops
        .iter()
        .find(|o| o.id.node_id == "hub" && o.record_id == record)
        .expect("the decision is in the feed");
    assert_eq!(decision.clerk, "operator:vjosa");
    assert!(decision.reason.contains("the paper register says Agon"));

    // A duplicate case, opened from the list and linked from its page.
    c.goto(&format!("{base}/duplicates")).await.unwrap();
    let listed = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(&format!("a.duplicate[data-id='{}']", case.id)))
        .await
        .expect("the case is listed");
    a11y(&c, "en", "duplicates", &mut a11y_found).await;
    listed.click().await.unwrap();
    let text = async |id: &str| {
        c.wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"))
            .text()
            .await
            .unwrap()
    };
    assert_eq!(text("status").await, "open");
    assert!(text("record-a").await.contains(&case.a));
    assert!(text("record-b").await.contains(&case.b));
    let (pa, pb) = (text("pid-a").await, text("pid-b").await);
    assert_ne!(pa, pb, "two people before the link");
    a11y(&c, "en", "duplicate case", &mut a11y_found).await;
    c.find(Locator::Id("reason"))
        .await
        .unwrap()
        .send_keys("same child, same parents, same day")
        .await
        .unwrap();
    screenshot(&c, "duplicate").await;
    c.find(Locator::Id("link"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        text("decided-by").await,
        OPERATOR,
        "the page shows the decision"
    );
    assert_eq!(text("status").await, "linked");
    assert_eq!(text("pid-b").await, pa, "B is now A's person");
    assert_eq!(text("pid-a").await, pa);
    a11y(&c, "en", "linked duplicate case", &mut a11y_found).await;

    // The queue by person: the cluster, opened from its list, every record side by side.
    c.goto(&format!("{base}/clusters")).await.unwrap();
    let cluster = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("a.cluster"))
        .await
        .expect("the cluster is listed");
    a11y(&c, "en", "clusters", &mut a11y_found).await;
    cluster.click().await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("decide"))
        .await
        .expect("the cluster's decision form");
    assert!(c.source().await.unwrap().contains("Besniku"));
    a11y(&c, "en", "cluster", &mut a11y_found).await;
    screenshot(&c, "cluster").await;

    // The rollout page, and the public verification page in English and in Serbian.
    c.goto(&format!("{base}/rollout")).await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("rollout"))
        .await
        .expect("the rollout table");
    a11y(&c, "en", "rollout", &mut a11y_found).await;
    c.goto(&format!("{base}/verify")).await.unwrap();
    a11y(&c, "en", "verify", &mut a11y_found).await;
    c.find(Locator::Id("qr"))
        .await
        .unwrap()
        .send_keys("CR1:not-a-certificate")
        .await
        .unwrap();
    c.find(Locator::Id("check"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let verdict = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("verdict"))
        .await
        .expect("a verdict");
    assert_eq!(
        verdict.attr("data-valid").await.unwrap().as_deref(),
        Some("false")
    );
    a11y(&c, "en", "verify answer", &mut a11y_found).await;
    c.goto(&format!("{base}/lang?to=sr-Cyrl&back=/verify"))
        .await
        .unwrap();
    a11y(&c, "sr-Cyrl", "verify", &mut a11y_found).await;
    c.goto(&format!("{base}/lang?to=en&back=/")).await.unwrap();
    assert!(
        a11y_found.is_empty(),
        "axe-core found {} serious or critical violations:\n{}",
        a11y_found.len(),
        a11y_found.join("\n")
    );

    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("logout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The click starts a navigation; wait for it rather than reading the URL at once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let path = c.current_url().await.unwrap().path().to_string();
        if path == "/login" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still on {path} after signing out"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    c.close().await.expect("close the browser");
}
