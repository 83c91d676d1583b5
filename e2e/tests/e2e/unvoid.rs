//! A clerk's un-void request (issue 17), with the hub in-process on real mTLS and the office as
//! real `civreg-node` processes, the operator at the hub's command line: the office voids a
//! record and asks for it back while offline; once linked up, the operator sees the request,
//! grants it, and the record is active again at the office; a second request is refused with a
//! reason, which the office reads in its status. The dashboard's first screen lists a request
//! while it waits.
//!
//! And the same answer given on the dashboard's page, in a real headless Chromium, against a
//! real `civreg-hub serve` process and a real `civreg-node`: the operator follows "needs you
//! now" to the page (checked with axe-core in the four languages), grants the request with a
//! reason, and the office's `civreg-node status` shows the answer after its next sync.

use civreg_testkit::prelude as common;

use common::*;
use serde_json::json;

/// Runs `civreg-hub --data-dir DIR --json ARGS…` as operator vjosa.
async fn hub_cli(data_dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let bin = civreg_testkit::bins::hub_bin();
    let d = data_dir.to_path_buf();
    let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(bin)
            .arg("--data-dir")
            .arg(d)
            .arg("--json")
            .args(&a)
            .env("CIVREG_OPERATOR", "vjosa")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run civreg-hub")
    })
    .await
    .expect("hub command thread");
    assert_eq!(
        out.status.code(),
        Some(0),
        "civreg-hub {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

async fn sync(dir: &std::path::Path) {
    let out = node(dir, &["--json", "sync", "--once"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&["sync"], &out));
}

/// The office's request of `regno` as `civreg-node status --json` shows it.
async fn request_of(dir: &std::path::Path, regno: &str) -> serde_json::Value {
    let st = node_json(dir, &["--json", "status"]).await;
    st["unvoid_requests"]
        .as_array()
        .expect("unvoid_requests")
        .iter()
        .find(|r| r["regno"] == json!(regno))
        .cloned()
        .unwrap_or_else(|| panic!("no request of {regno}: {st}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clerk_asks_for_an_unvoid_offline_and_the_operator_grants_then_refuses() {
    let (hub, web) = start_web_hub(civreg_hub::web::Settings::default()).await;
    civreg_hub::control::ask::add_operator(hub.data_dir(), "vjosa", "long-enough-secret-1", false)
        .unwrap();
    let nodes = tempfile::tempdir().expect("tempdir");
    let a = nodes.path().join("a");
    enrol_node(&a, &hub.bundle("prishtine", "1")).await;
    let doc = nodes.path().join("birth.json");
    std::fs::write(&doc, json!({
        "child": {"given_name": "Arben", "surname": "Gashi", "sex": "male", "date_of_birth": "2026-01-05"},
        "place_of_birth": "Prishtinë",
        "mother": {"given_name": "Drita", "surname": "Gashi", "maiden_surname": "Berisha"}
    }).to_string()).expect("write");
    let saved = node_json(
        &a,
        &[
            "--json",
            "register",
            "birth",
            "--file",
            doc.to_str().expect("utf-8"),
        ],
    )
    .await;
    let regno = saved["regno"].as_str().expect("regno").to_string();
    sync(&a).await;

    // Offline: the clerk voids the record by mistake and asks for it back.
    node_json(
        &a,
        &["--json", "void", &regno, "--reason", "registered twice"],
    )
    .await;
    // An active record, or one of another municipality, can not be asked for.
    let out = node(
        &a,
        &[
            "--json",
            "request-unvoid",
            "ISTOG-2026-B-000001",
            "--reason",
            "x",
        ],
    )
    .await;
    assert_ne!(
        out.status.code(),
        Some(0),
        "{}",
        describe(&["request-unvoid"], &out)
    );
    let asked = node_json(
        &a,
        &[
            "--json",
            "request-unvoid",
            &regno,
            "--reason",
            "the wrong record was voided",
        ],
    )
    .await;
    let id = asked["id"].as_str().expect("id").to_string();
    assert!(hub_cli(hub.data_dir(), &["unvoid-requests"])
        .await
        .as_array()
        .expect("list")
        .is_empty());

    // Linked up: the void and the request reach the hub; the operator sees and grants it.
    sync(&a).await;
    let list = hub_cli(hub.data_dir(), &["unvoid-requests"]).await;
    let list = list.as_array().expect("list");
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["id"], json!(id));
    assert_eq!(list[0]["regno"], json!(regno));
    assert_eq!(list[0]["office"], json!("prishtine/1"));
    assert_eq!(list[0]["reason"], json!("the wrong record was voided"));
    // The dashboard's first screen says a request waits, and links the page that answers it.
    let dash = WebSession::login(&web, "vjosa", "long-enough-secret-1")
        .await
        .unwrap_or_else(|r| panic!("sign-in refused: {r:?}"));
    let page = dash.get("/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .split("<li ")
            .any(|li| li.contains("data-kind=\"unvoid\"") && li.contains("href=\"/unvoid\"")),
        "the overview lists the waiting request"
    );
    hub_cli(
        hub.data_dir(),
        &[
            "unvoid-request",
            "grant",
            &id,
            "--reason",
            "paper register, book 12",
        ],
    )
    .await;
    assert!(hub_cli(hub.data_dir(), &["unvoid-requests"])
        .await
        .as_array()
        .expect("list")
        .is_empty());
    let page = dash.get("/").await;
    assert!(
        !page.body.contains("data-kind=\"unvoid\""),
        "an answered request is no longer listed"
    );

    // The restore reaches the office by pull; the answer by heartbeat.
    sync(&a).await;
    let st = node_json(&a, &["--json", "show", &regno]).await;
    assert!(st["voided"].is_null(), "the record is active again: {st}");
    let r = request_of(&a, &regno).await;
    assert_eq!(r["state"], json!("granted"), "{r}");
    assert_eq!(r["operator"], json!("vjosa"));

    // Voided again; a second request is refused with a reason the office reads.
    node_json(
        &a,
        &[
            "--json",
            "void",
            &regno,
            "--reason",
            "registered twice, really",
        ],
    )
    .await;
    let asked = node_json(
        &a,
        &["--json", "request-unvoid", &regno, "--reason", "please"],
    )
    .await;
    let second = asked["id"].as_str().expect("id").to_string();
    assert_ne!(second, id);
    sync(&a).await;
    hub_cli(
        hub.data_dir(),
        &[
            "unvoid-request",
            "refuse",
            &second,
            "--reason",
            "the paper register says void",
        ],
    )
    .await;
    sync(&a).await;
    let r = request_of(&a, &regno).await;
    assert_eq!(r["state"], json!("refused"), "{r}");
    assert_eq!(r["answer_reason"], json!("the paper register says void"));
    let st = node_json(&a, &["--json", "show", &regno]).await;
    assert!(!st["voided"].is_null(), "still void: {st}");
    // The office's status says so in the clerk's language.
    let out = node(&a, &["--lang", "en", "status"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("refused by the agency (vjosa): the paper register says void"),
        "{text}"
    );
    let all = hub_cli(hub.data_dir(), &["unvoid-requests", "--all"]).await;
    assert_eq!(all.as_array().expect("list").len(), 2, "{all}");
}

/// The clerk app (a real `civreg-node serve`, the office offline): a voided record's page has
/// the request form; a request without a reason is refused in Albanian; once asked, the page
/// shows it waiting for the agency, with no second form.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_clerk_app_asks_for_an_unvoid_from_the_record_page() {
    use super::clerk_upload::{field, free_port, office, post_birth, record_of, serve, sign_in};
    let work = tempfile::tempdir().expect("tempdir");
    let node_dir = office(work.path()).await;
    let port = free_port();
    let app = format!("127.0.0.1:{port}");
    let _node = serve(&node_dir, port, &work.path().join("node.log")).await;
    let (cookie, csrf) = sign_in(&app).await;
    let page = http_request(&app, "GET", "/register/birth", Some(&cookie), None).await;
    let form_id = field(&page.body, "_form").expect("the form's id");
    let regno = record_of(&post_birth(&app, &cookie, &csrf, &form_id).await);
    let path = format!("/record/{regno}");

    // An active record offers no request.
    let page = http_request(&app, "GET", &path, Some(&cookie), None).await;
    assert!(!page.body.contains("id=\"unvoid-form\""), "{}", page.body);
    let version = field(&page.body, "_version").expect("the record's version");
    let voided = http_request(
        &app,
        "POST",
        &format!("{path}/void"),
        Some(&cookie),
        Some(&[
            ("_csrf", &csrf),
            ("_version", &version),
            ("_reason", "registered twice"),
        ]),
    )
    .await;
    assert_eq!(voided.status, 303, "{voided:?}");
    let page = http_request(&app, "GET", &path, Some(&cookie), None).await;
    assert!(page.body.contains("id=\"unvoid-form\""), "{}", page.body);

    let empty = http_request(
        &app,
        "POST",
        &format!("{path}/unvoid"),
        Some(&cookie),
        Some(&[("_csrf", &csrf), ("_reason", "  ")]),
    )
    .await;
    assert_eq!(empty.status, 409, "{empty:?}");
    assert!(empty.body.contains("jepni një arsye"), "{}", empty.body);

    let asked = http_request(
        &app,
        "POST",
        &format!("{path}/unvoid"),
        Some(&cookie),
        Some(&[("_csrf", &csrf), ("_reason", "the wrong record was voided")]),
    )
    .await;
    assert_eq!(asked.status, 303, "{asked:?}");
    let to = asked.header("location").unwrap_or_default().to_string();
    assert!(to.contains("unvoid=1"), "{to}");
    let page = http_request(&app, "GET", &to, Some(&cookie), None).await;
    assert!(
        page.body.contains("data-state=\"pending\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("pret agjencinë"), "{}", page.body);
    assert!(!page.body.contains("id=\"unvoid-form\""), "{}", page.body);
    let st = node_json(&node_dir, &["--json", "status"]).await;
    assert_eq!(st["unvoid_requests"][0]["regno"], json!(regno), "{st}");
}

/// The dashboard's un-void page in Chromium: a real hub process with its dashboard, a real
/// node, the operator answering through the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dashboard_answers_an_unvoid_request_in_chromium_and_the_office_sees_it() {
    use civreg_testkit::browser::{
        browser, choose_language, screenshot, sign_in_operator, start_chromedriver,
    };
    use civreg_testkit::fleet::{birth_doc, HubProc, Setup};
    use fantoccini::{Client, Locator};
    use std::time::{Duration, Instant};

    let setup = Setup::new();
    let web_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let web = format!("127.0.0.1:{web_port}");
    let hub = HubProc::start_with(
        &setup.hub_dir,
        &setup.path("hub.log"),
        &["--http-listen", &web],
    );
    // Through the running hub's control socket.
    civreg_hub::control::ask::add_operator(&setup.hub_dir, "vjosa", "long-enough-secret-1", false)
        .unwrap();
    let node = &setup.node;
    let sync = || {
        node.run_ok(&["--json", "sync", "--once", "--hub", &hub.url()]);
    };
    let regno = node.register_births(&[birth_doc(1)]).remove(0);
    sync();
    node.run_ok(&["--json", "void", &regno, "--reason", "registered twice"]);
    let asked = node.run_ok(&[
        "--json",
        "request-unvoid",
        &regno,
        "--reason",
        "the wrong record was voided",
    ]);
    let asked: serde_json::Value = serde_json::from_slice(&asked.stdout).expect("JSON");
    let id = asked["id"].as_str().expect("id").to_string();
    sync();
    let request_state = || {
        let out = node.run_ok(&["--json", "status"]);
        let st: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        st["unvoid_requests"]
            .as_array()
            .and_then(|l| l.iter().find(|r| r["id"] == json!(id)).cloned())
            .unwrap_or_else(|| panic!("no request {id}: {st}"))
    };
    assert_eq!(request_state()["state"], json!("pending"));

    let work = tempfile::tempdir().expect("tempdir");
    let (_driver, driver_url) = start_chromedriver(&work.path().join("chromedriver.log")).await;
    let c: Client = browser(&driver_url, &work.path().join("chromium-profile")).await;
    let base = format!("http://{web}");
    c.goto(&format!("{base}/")).await.expect("load");
    sign_in_operator(&c, "vjosa", "long-enough-secret-1").await;

    // "Needs you now" leads to the page.
    c.find(Locator::Css("li[data-kind='unvoid'] a"))
        .await
        .expect("the first screen lists the waiting request, linked")
        .click()
        .await
        .expect("follow the link");
    let deadline = Instant::now() + Duration::from_secs(15);
    while c.current_url().await.expect("url").path() != "/unvoid" {
        assert!(
            Instant::now() < deadline,
            "the link did not lead to /unvoid"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut found = Vec::new();
    crate::browser::a11y(&c, "sq", "un-void requests", &mut found).await;
    for lang in ["sr-Latn", "sr-Cyrl", "en"] {
        choose_language(&c, lang).await;
        assert_eq!(c.current_url().await.expect("url").path(), "/unvoid");
        crate::browser::a11y(&c, lang, "un-void requests", &mut found).await;
    }
    screenshot(&c, "unvoid-waiting").await;
    let card = c
        .find(Locator::Id(&format!("req-{id}")))
        .await
        .expect("the request on the page");
    let text = card.text().await.expect("text");
    assert!(
        text.contains(&regno)
            && text.contains("the wrong record was voided")
            && text.contains("prishtine/1"),
        "{text}"
    );

    // Grant, with a reason.
    c.find(Locator::Id(&format!("reason-{id}")))
        .await
        .expect("the reason field")
        .send_keys("paper register, book 12")
        .await
        .expect("type");
    card.find(Locator::Css("button.grant"))
        .await
        .expect("the grant button")
        .click()
        .await
        .expect("grant");
    let done = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("done"))
        .await
        .expect("the page says it was done");
    assert_eq!(
        done.attr("data-state").await.expect("state").as_deref(),
        Some("granted")
    );
    crate::browser::a11y(&c, "en", "un-void request answered", &mut found).await;
    screenshot(&c, "unvoid-granted").await;
    assert!(
        found.is_empty(),
        "axe-core found serious or critical violations:\n{}",
        found.join("\n")
    );

    // The office's next sync brings the answer and the restored record.
    sync();
    let r = request_state();
    assert_eq!(r["state"], json!("granted"), "{r}");
    assert_eq!(r["operator"], json!("vjosa"), "{r}");
    let shown = node.run_ok(&["--json", "show", &regno]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("JSON");
    assert!(
        shown["voided"].is_null(),
        "the record is active again: {shown}"
    );
}
