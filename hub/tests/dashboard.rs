//! The operator dashboard over real HTTP (raw HTTP/1.1 requests, no browser): sign-in and its
//! refusals, pages guarded by a session, CSRF on every form, the overview's view of nodes that
//! heartbeat, are refused or suspended, resolving a conflict from its page in the operator's
//! name, a rollout change, and `/metrics` as valid Prometheus text whose counters add up.

mod common;

use civreg_hub::operators;
use civreg_hub::rollout::{Rollout, Stage};
use civreg_hub::web::Settings;
use common::*;
use std::time::Duration;

const OPERATOR: &str = "vjosa";
const PASSWORD: &str = "long-enough-secret-1";

fn settings() -> Settings {
    Settings {
        // Generous: nothing here waits for a node to go offline.
        online_within: Duration::from_secs(60),
        history_every: Duration::from_millis(200),
    }
}

/// The `<tr>` of a municipality in the overview.
fn row<'a>(html: &'a str, code: &str) -> &'a str {
    let start = html
        .find(&format!("<tr id=\"m-{code}\""))
        .unwrap_or_else(|| panic!("no row for {code} in the overview:\n{html}"));
    let end = html[start..].find("</tr>").expect("row ends") + start;
    &html[start..end]
}

fn actions(hub: &Hub) -> Vec<serde_json::Value> {
    std::fs::read_to_string(operators::actions_log_path(hub.data_dir()))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("action lines are JSON"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_signed_in_operators_get_in_and_every_form_needs_its_token() {
    let (hub, web) = start_web_hub(settings()).await;
    operators::add(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();

    // No session: every page redirects to the sign-in form.
    for path in ["/", "/conflicts", "/rollout", "/node/prishtine/1"] {
        let r = http_request(&web, "GET", path, None, None).await;
        assert_eq!(r.status, 303, "{path}: {r:?}");
        assert_eq!(r.header("location"), Some("/login"), "{path}");
    }
    let forged = http_request(&web, "GET", "/", Some("civreg_session=00ff"), None).await;
    assert_eq!(forged.status, 303, "an unknown session id is no session");

    // Wrong passwords and unknown names are refused, with no session.
    for (name, pw) in [(OPERATOR, "long-enough-secret-2"), ("arben", PASSWORD)] {
        let refused = WebSession::login(&web, name, pw)
            .await
            .err()
            .expect("refused");
        assert_eq!(refused.status, 401, "{refused:?}");
        assert!(refused.body.contains("wrong operator name or password"));
    }
    // The sign-in form's own token is checked too.
    let form = http_request(&web, "GET", "/login", None, None).await;
    let login_cookie = form.set_cookie("civreg_login").unwrap();
    let r = http_request(
        &web,
        "POST",
        "/login",
        Some(&format!("civreg_login={login_cookie}")),
        Some(&[
            ("name", OPERATOR),
            ("password", PASSWORD),
            ("csrf", "forged"),
        ]),
    )
    .await;
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.set_cookie("civreg_session").is_none());

    let s = WebSession::login(&web, OPERATOR, PASSWORD)
        .await
        .unwrap_or_else(|r| panic!("sign-in refused: {r:?}"));
    let overview = s.get("/").await;
    assert_eq!(overview.status, 200);
    assert!(overview
        .header("content-security-policy")
        .is_some_and(|c| c.contains("default-src 'none'")));
    assert!(overview.body.contains("<meta http-equiv=\"refresh\""));
    assert_eq!(
        overview.body.matches("<tr id=\"m-").count(),
        38,
        "one row per municipality"
    );

    // A POST without the token, or with another, changes nothing.
    for fields in [
        vec![("stage", "pilot"), ("reason", "go")],
        vec![("stage", "pilot"), ("reason", "go"), ("csrf", "0000")],
    ] {
        let r = s.post("/rollout/peje", &fields).await;
        assert_eq!(r.status, 403, "{r:?}");
    }
    let stage = |hub: &Hub| {
        Rollout::load(hub.data_dir())
            .unwrap()
            .entry("peje")
            .unwrap()
            .clone()
    };
    assert_eq!(stage(&hub).stage, Stage::Planned);
    // Without a session a POST is sent to sign in.
    let r = http_request(
        &web,
        "POST",
        "/rollout/peje",
        None,
        Some(&[("stage", "pilot"), ("reason", "go"), ("csrf", &s.csrf)]),
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(stage(&hub).stage, Stage::Planned);

    // With it, the change is made in the operator's name; a reason is required.
    let r = s
        .post(
            "/rollout/peje",
            &[("stage", "pilot"), ("kind_birth", "on"), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    let r = s
        .post(
            "/rollout/peje",
            &[
                ("stage", "pilot"),
                ("kind_birth", "on"),
                ("reason", "second wave"),
                ("csrf", &s.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    let e = stage(&hub);
    assert_eq!(e.stage, Stage::Pilot);
    assert_eq!(e.changed_by.as_deref(), Some(OPERATOR));
    assert_eq!(e.kinds, vec![civreg_shared::model::RecordKind::Birth]);
    let page = s.get("/rollout").await;
    assert!(row_r(&page.body, "peje").contains("data-stage=\"pilot\""));

    // Signing out ends the session.
    let r = s.post("/logout", &[("csrf", &s.csrf)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(s.get("/").await.status, 303);

    let log = actions(&hub);
    let seen: Vec<(String, String, bool)> = log
        .iter()
        .map(|l| {
            (
                l["operator"].as_str().unwrap_or_default().to_string(),
                l["action"].as_str().unwrap_or_default().to_string(),
                l["ok"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    for want in [
        (OPERATOR, "login", false),
        ("arben", "login", false),
        (OPERATOR, "login", true),
        (OPERATOR, "rollout", true),
        (OPERATOR, "logout", true),
    ] {
        assert!(
            seen.contains(&(want.0.to_string(), want.1.to_string(), want.2)),
            "{want:?} not in the actions log: {seen:?}"
        );
    }
}

fn row_r<'a>(html: &'a str, code: &str) -> &'a str {
    let start = html
        .find(&format!("<tr id=\"r-{code}\""))
        .unwrap_or_else(|| panic!("no rollout row for {code}"));
    &html[start..start + html[start..].find("</tr>").expect("row ends")]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_overview_shows_nodes_refusals_and_conflicts_and_metrics_add_up() {
    let (hub, web) = start_web_hub(settings()).await;
    operators::add(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();
    let s = WebSession::login(&web, OPERATOR, PASSWORD)
        .await
        .unwrap_or_else(|r| panic!("sign-in refused: {r:?}"));

    // Prishtinë's node pushes and heartbeats.
    let p1 = hub.issue("prishtine", "1");
    let mut c = hub.client(&p1).await;
    let mut pushed = push(&mut c, vec![chain("prishtine", "1", 2)])
        .await
        .accepted();
    heartbeat(&mut c).await.expect("heartbeat");
    // A replay is acknowledged but stores, and counts, nothing.
    assert_eq!(
        push(&mut c, vec![chain("prishtine", "1", 2)])
            .await
            .accepted(),
        2
    );

    // Peje is planned: its node is refused.
    let peje = hub.issue("peje", "1");
    let mut pc = hub.client(&peje).await;
    heartbeat(&mut pc).await.expect_err("planned");

    // Istog is suspended: its node heartbeats but may not push.
    Rollout::set(
        hub.data_dir(),
        "istog",
        Stage::Suspended,
        None,
        "arben",
        "audit",
    )
    .unwrap();
    let ist = hub.issue("istog", "1");
    let mut ic = hub.client(&ist).await;
    let refused = wait_for("the suspension to apply", Duration::from_secs(10), || {
        let out = block(push(&mut ic, vec![chain("istog", "1", 1)]));
        out.error
            .filter(|e| e.code() == tonic::Code::FailedPrecondition)
    })
    .await;
    assert!(refused.message().contains("suspended"));
    // Whatever got through before the suspension applied counts as pushed.
    pushed += heartbeat(&mut ic)
        .await
        .expect("a suspended node may heartbeat")
        .acked_seq;

    // A conflict between two other offices of Prishtinë.
    let (record, n) = make_conflict(&hub).await;
    pushed += n;

    let overview = s.get("/").await.body;
    for code in ["istog", "mitrovice-jugut", "prishtine"] {
        assert!(
            row(&overview, code).contains("data-stage=\"pilot\"")
                || (code == "istog" && row(&overview, code).contains("data-stage=\"suspended\"")),
            "{code}: {}",
            row(&overview, code)
        );
    }
    let pri = row(&overview, "prishtine");
    assert!(
        pri.contains("data-node=\"prishtine/1\" data-state=\"online\""),
        "{pri}"
    );
    assert!(pri.contains("data-conflicts=\"1\""), "{pri}");
    let pej = row(&overview, "peje");
    assert!(
        pej.contains("class=\"bad\""),
        "a refused node is trouble: {pej}"
    );
    assert!(pej.contains("is planned"), "the refusal is shown: {pej}");
    let ist_row = row(&overview, "istog");
    assert!(ist_row.contains("data-stage=\"suspended\""), "{ist_row}");
    assert!(ist_row.contains("suspended by arben"), "{ist_row}");
    assert!(ist_row.contains("data-state=\"online\""), "{ist_row}");
    // Trouble comes first: the refused and the suspended rows before the quiet ones.
    let pos = |code: &str| overview.find(&format!("<tr id=\"m-{code}\"")).unwrap();
    assert!(pos("peje") < pos("mitrovice-jugut"));
    assert!(pos("istog") < pos("mitrovice-jugut"));

    // The node's page.
    let page = s.get("/node/prishtine/1").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-state=\"online\""));
    assert!(page.body.contains("<svg id=\"history\""));
    assert!(page.body.contains("<td>test</td>"), "the reported version");
    assert_eq!(s.get("/node/prishtine/77").await.status, 404);

    // The conflict, from the list to its page.
    let list = s.get("/conflicts").await.body;
    let id = list
        .split("data-id=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a conflict in the list")
        .to_string();
    assert!(list.contains(&record));
    let page = s.get(&format!("/conflicts/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Agron") && page.body.contains("Agon"));
    assert!(page.body.contains("prishtine/9#1"), "who wrote side B");
    let path = format!("/conflicts/{id}/resolve");
    let r = s
        .post(
            &path,
            &[("keep", "B"), ("reason", "the register says Agon")],
        )
        .await;
    assert_eq!(r.status, 403, "no token: {r:?}");
    let r = s
        .post(&path, &[("keep", "B"), ("reason", " "), ("csrf", &s.csrf)])
        .await;
    assert_eq!(r.status, 400, "a reason is required: {r:?}");
    let r = s
        .post(
            &path,
            &[
                ("keep", "B"),
                ("reason", "the register says Agon"),
                ("csrf", &s.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    let page = s.get(&format!("/conflicts/{id}")).await.body;
    assert!(
        page.contains("<b id=\"resolved-by\">operator:vjosa</b>"),
        "{page}"
    );
    let again = s
        .post(&path, &[("keep", "A"), ("reason", "no"), ("csrf", &s.csrf)])
        .await;
    assert_eq!(again.status, 409);
    // The decision is an op of the hub's chain in the operator's name, in Prishtinë's feed.
    let (ops, _) = pull_all(&mut c, 0).await;
    let decision = ops
        .iter()
        .find(|o| o.id.node_id == "hub")
        .expect("the decision is in the feed");
    assert_eq!(decision.clerk, "operator:vjosa");
    assert_eq!(decision.record_id, record);
    assert!(actions(&hub)
        .iter()
        .any(|l| l["action"] == "resolve" && l["ok"] == true && l["conflict"] == id.as_str()));

    // A client without a certificate fails its handshake, counted by reason.
    assert!(try_heartbeat(&hub, None).await.is_err());

    // /metrics needs no session and is valid Prometheus text.
    let m = wait_for_metrics(&web, |samples| {
        value(
            samples,
            "civreg_hub_tls_handshake_failures_total{reason=\"no_certificate\"}",
        )
        .is_some()
    })
    .await;
    assert_eq!(
        value(&m, "civreg_hub_ops_ingested_total"),
        Some(pushed as f64),
        "every op pushed and stored, replays not counted"
    );
    assert_eq!(
        value(&m, "civreg_hub_open_conflicts{municipality=\"prishtine\"}"),
        Some(0.0)
    );
    assert_eq!(
        value(&m, "civreg_hub_open_conflicts{municipality=\"istog\"}"),
        Some(0.0)
    );
    assert_eq!(
        value(&m, "civreg_hub_ops_waiting{municipality=\"prishtine\"}"),
        Some(0.0)
    );
    let acks = value(&m, "civreg_hub_ack_latency_seconds_count").unwrap();
    assert!(acks >= 4.0, "each accepted batch is timed: {acks}");
    assert_eq!(
        value(&m, "civreg_hub_ack_latency_seconds_bucket{le=\"+Inf\"}"),
        Some(acks)
    );
    assert!(value(&m, "civreg_hub_connected_nodes").unwrap() >= 1.0);
    assert_eq!(value(&m, "civreg_hub_nodes_online"), Some(2.0));
}

fn value(samples: &[(String, f64)], key: &str) -> Option<f64> {
    samples.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

async fn wait_for_metrics(
    web: &str,
    ready: impl Fn(&[(String, f64)]) -> bool,
) -> Vec<(String, f64)> {
    let web = web.to_string();
    wait_for("the metrics", Duration::from_secs(10), move || {
        let r = block(http_request(&web, "GET", "/metrics", None, None));
        assert_eq!(r.status, 200, "{r:?}");
        assert!(r
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/plain; version=0.0.4")));
        let samples = parse_prometheus(&r.body);
        ready(&samples).then_some(samples)
    })
    .await
}

/// Runs a future to completion from a synchronous poll closure (the runtime is multi-threaded).
fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}
