//! What the dashboard shows survives a restart (issue 17): a node's 24-hour chart, the errors
//! its pushes ended with, and a refusal, read back from the store by the next `serve` over the
//! same data directory; and certificates of every kind (nodes', the hub's own, operators', clerk
//! apps') expiring within 30 days, in "Needs you now" and in `/metrics`, a fresh one in neither.

use civreg_testkit::prelude as common;

use civreg_hub::web::Settings;
use civreg_hub::{paths, pki, serve};
use common::*;
use std::path::Path;
use std::time::Duration;

const OPERATOR: &str = "vjosa";
const PASSWORD: &str = "long-enough-secret-1";

fn settings() -> Settings {
    Settings {
        online_within: Duration::from_secs(60),
        history_every: Duration::from_millis(200),
        ..Default::default()
    }
}

/// A hub and its dashboard served in this process over `dir` (made already) until `stop`.
struct Served {
    web: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), serve::ServeError>>,
}

async fn serve_again(dir: &Path) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let web = http.local_addr().unwrap().to_string();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let data = dir.to_path_buf();
    let task = tokio::spawn(async move {
        let opts = serve::RunOptions {
            http: Some(http),
            web: settings(),
            ..Default::default()
        };
        serve::run_with(&data, listener, opts, async {
            let _ = rx.await;
        })
        .await
    });
    Served { web, stop, task }
}

impl Served {
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("the hub stops within 20 s")
            .expect("the hub task did not panic")
            .expect("the hub ran without error");
    }
}

async fn login(web: &str) -> WebSession {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(s) = WebSession::login(web, OPERATOR, PASSWORD).await {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "could not sign in within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs a future to completion from a synchronous poll closure (the runtime is multi-threaded).
fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// The text of the `<ul id="errors">` of a node's page.
fn errors_of(page: &str) -> &str {
    let start = page.find("<ul id=\"errors\">").expect("an errors list");
    let end = page[start..].find("</ul>").expect("the list ends") + start;
    &page[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_chart_errors_and_refusals_survive_a_restart() {
    let (hub, web) = start_web_hub(settings()).await;
    civreg_hub::control::ask::add_operator(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();
    let s = login(&web).await;

    // Prishtinë's node pushes one op; once the history has sampled it, two more.
    let p1 = hub.issue("prishtine", "1");
    let mut c = hub.client(&p1).await;
    let ops = chain("prishtine", "1", 6);
    assert_eq!(push(&mut c, vec![ops[..1].to_vec()]).await.accepted(), 1);
    heartbeat(&mut c).await.expect("heartbeat");
    wait_for("a first sample", Duration::from_secs(10), || {
        let page = block(s.get("/node/prishtine/1")).body;
        (!page.contains(", 0 samples") && !page.contains("(0 samples")).then_some(())
    })
    .await;
    assert_eq!(push(&mut c, vec![ops[1..3].to_vec()]).await.accepted(), 3);
    let before = wait_for("the chart to show 2 ops", Duration::from_secs(10), || {
        let page = block(s.get("/node/prishtine/1")).body;
        page.contains("2 ops acknowledged").then_some(page)
    })
    .await;
    // A push that skips op 4 is refused: an error of the node.
    let gap = push(&mut c, vec![ops[4..].to_vec()]).await;
    assert!(gap.error.is_some(), "a gap is refused");
    let with_error = block(s.get("/node/prishtine/1")).body;
    assert!(
        errors_of(&with_error).contains("push refused"),
        "{}",
        errors_of(&with_error)
    );
    // Pejë is planned: its node is refused.
    let peje = hub.issue("peje", "1");
    let mut pc = hub.client(&peje).await;
    heartbeat(&mut pc).await.expect_err("planned");
    let refused = s.get("/node/peje/1").await.body;
    assert!(errors_of(&refused).contains("planned"), "{refused}");
    assert!(before.contains("<svg id=\"history\""));

    // The hub stops (and keeps what it showed), and starts again over the same directory.
    let (dir, store) = hub.stop().await;
    drop(store);
    let again = serve_again(dir.path()).await;
    let s = login(&again.web).await;
    let page = s.get("/node/prishtine/1").await.body;
    assert!(
        page.contains("2 ops acknowledged"),
        "the chart after the restart:\n{page}"
    );
    let errors = errors_of(&page);
    assert!(errors.contains("push refused"), "{errors}");
    // When the node was last heard is known again, though it has not been heard from since.
    assert!(!page.contains("<td>never</td>"), "{page}");
    let refused = s.get("/node/peje/1").await.body;
    assert!(errors_of(&refused).contains("planned"), "{refused}");
    again.stop().await;
    drop(dir);
}

/// Makes the hub's own certificate in the registry expire `days` from now.
fn hub_cert_expires_in(dir: &Path, days: i64) {
    let pki = pki::Pki::open(&paths::pki_dir(dir)).unwrap();
    let path = pki.registry_path();
    let mut reg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let at = pki::format_utc(time::OffsetDateTime::now_utc() + time::Duration::days(days));
    let mut n = 0;
    for e in reg["certificates"].as_array_mut().expect("a list") {
        if e["kind"] == "hub" {
            e["not_after"] = at.clone().into();
            n += 1;
        }
    }
    assert_eq!(n, 1, "one hub certificate: {reg}");
    std::fs::write(&path, serde_json::to_vec_pretty(&reg).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn certificates_of_every_kind_expiring_soon_are_listed_and_fresh_ones_are_not() {
    let (hub, web) = start_web_hub_with(settings(), |dir| {
        let pki = pki::Pki::open(&paths::pki_dir(dir)).unwrap();
        pki.issue_operator("drita", 10)
            .expect("a short operator certificate");
        pki.issue_operator("besa", 365).expect("a fresh one");
        pki.issue_node("istog", "1", 5)
            .expect("a short node certificate");
        let names = ["zyra.istog.example".to_string()];
        pki.issue_app("istog", "1", &names, 20)
            .expect("a short clerk app certificate");
        pki.issue_node("peje", "2", 365)
            .expect("a fresh node certificate");
        pki.issue_app("peje", "2", &names, 365)
            .expect("a fresh clerk app certificate");
        hub_cert_expires_in(dir, 12);
    })
    .await;
    civreg_hub::control::ask::add_operator(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();
    let s = login(&web).await;

    let page = s.get("/").await.body;
    let start = page.find("<section id=\"now\"").expect("needs you now");
    let end = page[start..].find("</section>").unwrap() + start;
    let now = &page[start..end];
    // 12 days, or 11 and some hours.
    assert!(now.contains("own certificate expires in 1"), "{now}");
    assert!(
        now.contains("Operator drita: certificate expires in"),
        "{now}"
    );
    assert!(now.contains("istog/1: certificate expires in"), "{now}");
    assert!(
        now.contains("Clerk app of office istog/1: certificate expires in"),
        "{now}"
    );
    for fresh in ["besa", "peje/2"] {
        assert!(
            !now.contains(fresh),
            "a fresh certificate is not listed: {now}"
        );
    }
    assert_eq!(now.matches("data-kind=\"certificate\"").count(), 4, "{now}");

    let metrics = http_request(&web, "GET", "/metrics", None, None).await;
    assert_eq!(metrics.status, 200);
    let samples = parse_prometheus(&metrics.body);
    let find = |k: &str| samples.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    let soon = (time::OffsetDateTime::now_utc() + time::Duration::days(31)).unix_timestamp() as f64;
    // `/metrics` needs no sign-in: an operator is named by the certificate's serial, not by
    // the account name.
    assert!(!metrics.body.contains("drita"), "{}", metrics.body);
    assert!(
        samples.iter().any(|(n, _)| n.starts_with(
            "civreg_hub_certificate_expiry_timestamp_seconds{kind=\"operator\",subject=\"serial:"
        )),
        "{}",
        metrics.body
    );
    for key in [
        "civreg_hub_certificate_expiry_timestamp_seconds{kind=\"node\",subject=\"istog/1\"}",
        "civreg_hub_certificate_expiry_timestamp_seconds{kind=\"app\",subject=\"istog/1\"}",
    ] {
        let at = find(key).unwrap_or_else(|| panic!("{key} in\n{}", metrics.body));
        assert!(at > 0.0 && at < soon, "{key}: {at}");
    }
    assert!(
        samples
            .iter()
            .any(|(n, _)| n
                .starts_with("civreg_hub_certificate_expiry_timestamp_seconds{kind=\"hub\",")),
        "{}",
        metrics.body
    );
    for fresh in ["besa", "peje/2"] {
        assert!(!metrics.body.contains(fresh), "{}", metrics.body);
    }
    assert_eq!(
        find("civreg_hub_certificates_expiring"),
        Some(4.0),
        "{}",
        metrics.body
    );
}
