//! The operator dashboard over real HTTP (raw HTTP/1.1 requests, no browser): sign-in and its
//! refusals, pages guarded by a session, CSRF on every form, the overview's view of nodes that
//! heartbeat, are refused or suspended, resolving a conflict from its page in the operator's
//! name, a rollout change, and `/metrics` as valid Prometheus text whose counters add up; the
//! duplicates review queue: the list, a case's two records side by side (in the access log),
//! linking and dismissing in the operator's name, and the open counts on the overview and in
//! `/metrics`.

use civreg_testkit::prelude as common;

use civreg_hub::rollout::Stage;
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
        ..Default::default()
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

/// The operator actions trail (in the store).
fn actions(hub: &Hub) -> Vec<serde_json::Value> {
    civreg_hub::control::ask::audit(
        hub.data_dir(),
        civreg_hub::audit::Trail::Actions,
        None,
        None,
        civreg_hub::audit::MAX_PAGE,
    )
    .expect("the operator actions trail")
    .entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_signed_in_operators_get_in_and_every_form_needs_its_token() {
    let (hub, web) = start_web_hub(settings()).await;
    civreg_hub::control::ask::add_operator(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();

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
        civreg_hub::control::ask::rollout(hub.data_dir())
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
    civreg_hub::control::ask::add_operator(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();
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
    civreg_hub::control::ask::set_stage(
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

/// The value of the element with `id="ID"`'s content (up to the next tag).
fn text_of(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id} in:\n{html}"));
    let rest = &html[at..];
    let start = rest.find('>').expect("tag ends") + 1;
    rest[start..start + rest[start..].find('<').expect("text ends")].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operators_review_link_and_dismiss_duplicates_and_the_open_counts_follow() {
    let mut seeded = Vec::new();
    let (hub, web) = start_web_hub_with(settings(), |dir| {
        seeded = seed_duplicate_cases(
            dir,
            &[
                ("prishtine", "Arben", 14.2),
                ("prishtine", "Besnik", 9.5),
                ("peje", "Drilon", 11.0),
            ],
        );
    })
    .await;
    let [strong, weak, peje] = <[SeededCase; 3]>::try_from(seeded).unwrap();
    civreg_hub::control::ask::add_operator(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();
    let s = WebSession::login(&web, OPERATOR, PASSWORD)
        .await
        .unwrap_or_else(|r| panic!("sign-in refused: {r:?}"));

    // The open counts: two cases in Prishtinë, one in Pejë, none elsewhere.
    let overview = s.get("/").await.body;
    assert!(
        row(&overview, "prishtine").contains("data-duplicates=\"2\""),
        "{}",
        row(&overview, "prishtine")
    );
    assert!(row(&overview, "peje").contains("data-duplicates=\"1\""));
    assert!(row(&overview, "istog").contains("data-duplicates=\"0\""));
    assert!(row(&overview, "prishtine").contains("2 open duplicates"));
    let dup = |m: &str| format!("civreg_hub_open_duplicates{{municipality=\"{m}\"}}");
    let m = wait_for_metrics(&web, |_| true).await;
    assert_eq!(value(&m, &dup("prishtine")), Some(2.0));
    assert_eq!(value(&m, &dup("peje")), Some(1.0));
    assert_eq!(value(&m, &dup("istog")), Some(0.0));

    // The list needs a session; it shows the open cases, strongest first, and filters.
    let r = http_request(&web, "GET", "/duplicates", None, None).await;
    assert_eq!(r.status, 303, "{r:?}");
    let list = s.get("/duplicates").await;
    assert_eq!(list.status, 200, "{list:?}");
    assert!(
        list.body.contains("<a href=\"/duplicates\">Duplicates</a>"),
        "in the nav"
    );
    let pos = |html: &str, id: &str| {
        html.find(&format!("data-id=\"{id}\""))
            .unwrap_or_else(|| panic!("case {id} is not listed:\n{html}"))
    };
    assert!(pos(&list.body, &strong.id) < pos(&list.body, &peje.id));
    assert!(pos(&list.body, &peje.id) < pos(&list.body, &weak.id));
    assert!(list.body.contains(&format!("{}/child", strong.a)));
    let only_peje = s.get("/duplicates?municipality=peje").await.body;
    assert!(only_peje.contains(&peje.id) && !only_peje.contains(&strong.id));
    assert_eq!(s.get("/duplicates?municipality=nowhere").await.status, 400);

    // A case: both records side by side, each person's identifier; the view is in the access log.
    let path = format!("/duplicates/{}", strong.id);
    let page = s.get(&path).await;
    assert_eq!(page.status, 200, "{page:?}");
    let p = &page.body;
    assert_eq!(text_of(p, "status"), "open");
    assert!(p.contains(&strong.a) && p.contains(&strong.b), "{p}");
    assert!(
        p.contains("Arben") && p.contains("Arbeni"),
        "both spellings"
    );
    assert!(text_of(p, "weight") == "14.2" && text_of(p, "class") == "possible");
    let (pa, pb) = (text_of(p, "pid-a"), text_of(p, "pid-b"));
    assert!(pa.len() == 9 && pb.len() == 9 && pa != pb, "{pa} {pb}");
    assert!(
        p.contains("copied from book &lt;L-12&gt; &amp; &quot;page&quot; 40")
            && !p.contains("<L-12>"),
        "a record's text is escaped"
    );
    let views = civreg_hub::access::read(hub.data_dir(), &Default::default()).unwrap();
    let view = views
        .iter()
        .find(|e| e.query == format!("duplicate {}", strong.id))
        .expect("the view is in the access log");
    assert_eq!(view.by, "operator:vjosa");
    assert_eq!(view.action, "view");
    let mut both = vec![strong.a.clone(), strong.b.clone()];
    both.sort();
    assert_eq!(view.records, both);
    assert_eq!(s.get("/duplicates/d000000000000").await.status, 404);

    // Linking needs the session's token, an action and a reason.
    let decide = format!("{path}/decide");
    let r = s
        .post(
            &decide,
            &[("action", "link"), ("reason", "same child, same parents")],
        )
        .await;
    assert_eq!(r.status, 403, "no token: {r:?}");
    let r = s
        .post(
            &decide,
            &[
                ("action", "link"),
                ("reason", "same child"),
                ("csrf", "0000"),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "another token: {r:?}");
    let r = s
        .post(
            &decide,
            &[("action", "link"), ("reason", " "), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(r.status, 400, "a reason is required: {r:?}");
    assert!(r.body.contains("say why"), "{}", r.body);
    let r = s
        .post(
            &decide,
            &[("action", "merge"), ("reason", "x"), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(text_of(&s.get(&path).await.body, "status"), "open");

    let r = s
        .post(
            &decide,
            &[
                ("action", "link"),
                ("reason", "same child, same parents"),
                ("csrf", &s.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(r.header("location"), Some(path.as_str()));
    let p = s.get(&path).await.body;
    assert_eq!(text_of(&p, "status"), "linked");
    assert_eq!(text_of(&p, "decided-by"), OPERATOR);
    assert!(p.contains("same child, same parents"));
    assert_eq!(
        text_of(&p, "pid-a"),
        text_of(&p, "pid-b"),
        "one person identifier now"
    );
    assert!(p.contains("id=\"unlink\""), "a linked case can be unlinked");
    let again = s
        .post(
            &decide,
            &[("action", "link"), ("reason", "twice"), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(again.status, 409, "{again:?}");
    assert!(again.body.contains("already decided"), "{}", again.body);

    // Dismissing the weak one; a dismissed case can not be unlinked.
    let weak_path = format!("/duplicates/{}", weak.id);
    let r = s
        .post(
            &format!("{weak_path}/decide"),
            &[
                ("action", "dismiss"),
                ("reason", "twins: different people"),
                ("csrf", &s.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    let p = s.get(&weak_path).await.body;
    assert_eq!(text_of(&p, "status"), "dismissed");
    assert_ne!(text_of(&p, "pid-a"), text_of(&p, "pid-b"));
    assert!(!p.contains("id=\"decide\""), "nothing more to decide");
    let r = s
        .post(
            &format!("{weak_path}/decide"),
            &[("action", "unlink"), ("reason", "x"), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.body.contains("not linked"), "{}", r.body);

    // The counts follow; decided cases are listed with ?all=1.
    let overview = s.get("/").await.body;
    assert!(row(&overview, "prishtine").contains("data-duplicates=\"0\""));
    assert!(row(&overview, "peje").contains("data-duplicates=\"1\""));
    let m = wait_for_metrics(&web, |_| true).await;
    assert_eq!(value(&m, &dup("prishtine")), Some(0.0));
    assert_eq!(value(&m, &dup("peje")), Some(1.0));
    let open = s.get("/duplicates").await.body;
    assert!(!open.contains(&strong.id) && !open.contains(&weak.id) && open.contains(&peje.id));
    let all = s.get("/duplicates?all=1").await.body;
    assert!(all.contains(&format!("id=\"case-{}\" data-status=\"linked\"", strong.id)));
    assert!(all.contains(&format!(
        "id=\"case-{}\" data-status=\"dismissed\"",
        weak.id
    )));

    // Every decision, refused ones too, is in the actions log with the operator.
    let log = actions(&hub);
    let decisions: Vec<(String, String, bool)> = log
        .iter()
        .filter(|l| l["action"] == "duplicate" && l["operator"] == OPERATOR)
        .map(|l| {
            (
                l["case"].as_str().unwrap_or_default().to_string(),
                l["decision"].as_str().unwrap_or_default().to_string(),
                l["ok"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    for want in [
        (strong.id.clone(), "link".to_string(), true),
        (strong.id.clone(), "link".to_string(), false),
        (weak.id.clone(), "dismiss".to_string(), true),
        (weak.id.clone(), "unlink".to_string(), false),
    ] {
        assert!(decisions.contains(&want), "{want:?} not in {decisions:?}");
    }

    // The store agrees: one person for the linked pair, the link ops in the operator's name.
    let (_dir, store) = hub.stop().await;
    let person =
        |regno: &str| civreg_hub::linkage::persons::person_of(&store, regno, "child").unwrap();
    assert_eq!(person(&strong.a), person(&strong.b));
    assert_eq!(
        person(&strong.a).to_string(),
        pa,
        "the page showed A's identifier"
    );
    assert_ne!(person(&weak.a), person(&weak.b));
    let case = civreg_hub::linkage::duplicates::get(&store, &strong.id).unwrap();
    assert_eq!(case.status, civreg_hub::linkage::duplicates::Status::Linked);
    let d = case.decisions.last().unwrap();
    assert_eq!(d.operator, OPERATOR);
    assert!(!d.ops.is_empty(), "the link is ops of the hub's log");
    let b = store.record(&strong.b).unwrap().unwrap();
    assert_eq!(b.persons["child"].clerk, "operator:vjosa");
}

/// Runs a future to completion from a synchronous poll closure (the runtime is multi-threaded).
fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// What a page in `lang` must never show: a raw catalogue key or a missing argument (a key
/// missing in a language would show as its name, an argument as `{$name}`).
fn assert_all_words_found(html: &str, what: &str) {
    assert!(!html.contains("dash-"), "{what}: a raw key:\n{html}");
    assert!(!html.contains("{$"), "{what}: a missing argument:\n{html}");
}

/// A GET with extra request headers.
async fn get_with(addr: &str, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let mut req = Request::builder()
        .method("GET")
        .uri(path)
        .header(header::HOST, addr)
        .header(header::CONNECTION, "close");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    http_send(addr, req.body(Full::new(Bytes::new())).unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_page_speaks_each_language_and_the_language_is_chosen_by_cookie_or_browser() {
    let mut seeded = Vec::new();
    let (hub, web) = start_web_hub_with(settings(), |dir| {
        seeded = seed_duplicate_cases(dir, &[("prishtine", "Arben", 12.0)]);
    })
    .await;
    let case = seeded.pop().expect("a seeded case");
    civreg_hub::control::ask::add_operator(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();
    let p1 = hub.issue("prishtine", "1");
    let mut c = hub.client(&p1).await;
    push(&mut c, vec![chain("prishtine", "1", 2)]).await;
    heartbeat(&mut c).await.expect("heartbeat");
    let (_, _) = make_conflict(&hub).await;

    let pages = |conflict: &str| {
        vec![
            "/".to_string(),
            "/node/prishtine/1".into(),
            "/conflicts".into(),
            "/conflicts?all=1&municipality=prishtine".into(),
            format!("/conflicts/{conflict}"),
            "/duplicates".into(),
            "/duplicates?all=1&municipality=prishtine".into(),
            format!("/duplicates/{}", case.id),
            "/rollout".into(),
            "/verify".into(),
            "/node/prishtine/77".into(),
        ]
    };
    let mut bodies: Vec<(String, String)> = Vec::new();
    for (lang, sign_out) in [
        ("sq", "Dil"),
        ("sr-Latn", "Odjava"),
        ("sr-Cyrl", "Одјава"),
        ("en", "Sign out"),
    ] {
        let s = WebSession::login_in(&web, OPERATOR, PASSWORD, lang)
            .await
            .unwrap_or_else(|r| panic!("sign-in refused: {r:?}"));
        let list = s.get("/conflicts").await.body;
        let conflict = list
            .split("data-id=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("a conflict in the list")
            .to_string();
        for path in pages(&conflict) {
            let r = s.get(&path).await;
            let want = if path.ends_with("/77") { 404 } else { 200 };
            assert_eq!(r.status, want, "{lang} {path}: {}", r.body);
            assert!(
                r.body.contains(&format!("<html lang=\"{lang}\">")),
                "{lang} {path}:\n{}",
                r.body
            );
            assert!(r.body.contains(&format!(">{sign_out}<")) || path == "/verify" || want == 404);
            assert_all_words_found(&r.body, &format!("{lang} {path}"));
            bodies.push((format!("{lang} {path}"), r.body));
        }
        // A refused form and a refused decision, in the language too.
        let r = s
            .post("/rollout/peje", &[("stage", "pilot"), ("csrf", &s.csrf)])
            .await;
        assert_eq!(r.status, 400);
        assert_all_words_found(&r.body, &format!("{lang} rollout without reason"));
        let r = s
            .post(
                &format!("/duplicates/{}/decide", case.id),
                &[("action", "link"), ("csrf", &s.csrf)],
            )
            .await;
        assert_eq!(r.status, 400);
        assert!(r.body.contains("id=\"back\""), "{}", r.body);
        assert_all_words_found(&r.body, &format!("{lang} decision without reason"));
    }
    // The languages differ: the same page is not the same text in two of them.
    let overview = |lang: &str| {
        &bodies
            .iter()
            .find(|(k, _)| k == &format!("{lang} /"))
            .unwrap()
            .1
    };
    assert_ne!(overview("sq"), overview("en"));
    assert!(overview("sr-Cyrl").contains("Чека вас сада"));

    // Without a cookie: the operator's pages and the sign-in form in Albanian; the public
    // /verify page follows the browser's Accept-Language, and the cookie wins over it.
    let login = get_with(&web, "/login", &[("accept-language", "en")]).await;
    assert!(login.body.contains("<html lang=\"sq\">"), "{}", login.body);
    let verify = get_with(&web, "/verify", &[]).await;
    assert!(
        verify.body.contains("<html lang=\"sq\">")
            && verify.body.contains("Verifikimi i certifikatës")
    );
    let verify = get_with(
        &web,
        "/verify",
        &[("accept-language", "de-DE, sr-RS;q=0.8, en;q=0.5")],
    )
    .await;
    assert!(
        verify.body.contains("<html lang=\"sr-Cyrl\">"),
        "{}",
        verify.body
    );
    assert!(verify.body.contains("Провера извода"), "{}", verify.body);
    let verify = get_with(
        &web,
        "/verify",
        &[("accept-language", "sr-Latn"), ("cookie", "civreg_lang=en")],
    )
    .await;
    assert!(
        verify.body.contains("<html lang=\"en\">"),
        "{}",
        verify.body
    );
    let answer = http_request(
        &web,
        "POST",
        "/verify",
        Some("civreg_lang=sr-Latn"),
        Some(&[("qr", "<script>x</script>")]),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.body.contains("NEVAŽEĆE") && !answer.body.contains("<script>x"),
        "{}",
        answer.body
    );
    assert_all_words_found(&answer.body, "verify answer");

    // The picker: sets the cookie for a year and goes back, never to another site.
    let r = http_request(
        &web,
        "GET",
        "/lang?to=sr-Latn&back=/conflicts?all=1",
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/conflicts?all=1"));
    assert_eq!(r.set_cookie("civreg_lang").as_deref(), Some("sr-Latn"));
    for evil in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let r = http_request(
            &web,
            "GET",
            &format!("/lang?to=en&back={}", form_encode(evil)),
            None,
            None,
        )
        .await;
        assert_eq!(r.header("location"), Some("/"), "{evil}");
    }
    // The overview reloads itself until the operator pauses it (a cookie), and resumes.
    let s = WebSession::login(&web, OPERATOR, PASSWORD).await.unwrap();
    assert!(s
        .get("/")
        .await
        .body
        .contains("<meta http-equiv=\"refresh\""));
    let r = http_request(
        &web,
        "GET",
        "/refresh?on=0&back=/node/prishtine/1",
        Some(&s.cookie),
        None,
    )
    .await;
    assert_eq!(r.header("location"), Some("/node/prishtine/1"));
    assert_eq!(r.set_cookie("civreg_refresh").as_deref(), Some("off"));
    let paused = format!("{}; civreg_refresh=off", s.cookie);
    for path in ["/", "/node/prishtine/1"] {
        let page = http_request(&web, "GET", path, Some(&paused), None)
            .await
            .body;
        assert!(!page.contains("http-equiv=\"refresh\""), "{path}: {page}");
        assert!(page.contains("id=\"refresh-resume\""), "{path}: {page}");
        assert!(!page.contains("This page reloads every"), "{path}: {page}");
    }
    let r = http_request(&web, "GET", "/refresh?on=1&back=/", Some(&paused), None).await;
    assert_eq!(r.set_cookie("civreg_refresh").as_deref(), Some(""));

    // The strict headers are on every page, in every language.
    for lang in ["sq", "en"] {
        let r = get_with(
            &web,
            "/verify",
            &[("cookie", &format!("civreg_lang={lang}"))],
        )
        .await;
        let csp = r.header("content-security-policy").expect("a CSP");
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("script-src"),
            "{csp}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
    }
}

/// The value of attribute `attr` of the first tag that has `marker` (e.g. `name="version"`).
fn attr_after(html: &str, marker: &str, attr: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in:\n{html}"));
    let tag_start = html[..at].rfind('<').expect("in a tag");
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>').expect("tag ends")];
    let v = tag
        .find(&format!("{attr}=\""))
        .unwrap_or_else(|| panic!("no {attr} in {tag}"))
        + attr.len()
        + 2;
    tag[v..v + tag[v..].find('"').expect("value ends")].to_string()
}

/// Issue 16: the queue by person. A cluster's page shows every record side by side (escaped,
/// in the access log), and one decision from its form (token, reason, groups checked) splits
/// it: each group one person, the cases across groups dismissed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operators_decide_a_whole_cluster_from_its_page() {
    const EVIL: &str = "<script>alert('x')</script>";
    let mut m = Vec::new();
    let (hub, web) = start_web_hub_with(settings(), |dir| {
        m = seed_person_cluster(dir, "prishtine", "1", &[EVIL, "Arbeni", "Arbën"]);
    })
    .await;
    civreg_hub::control::ask::add_operator(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();
    let s = WebSession::login(&web, OPERATOR, PASSWORD)
        .await
        .unwrap_or_else(|r| panic!("sign-in refused: {r:?}"));

    assert_eq!(
        http_request(&web, "GET", "/clusters", None, None)
            .await
            .status,
        303,
        "a session is needed"
    );
    let dups = s.get("/duplicates").await.body;
    assert!(
        dups.contains("href=\"/clusters\""),
        "the pairs link to the clusters"
    );
    let list = s.get("/clusters").await;
    assert_eq!(list.status, 200, "{list:?}");
    let id = attr_after(&list.body, "class=\"cluster\"", "data-id");
    assert!(list.body.contains(&format!(
        "id=\"cluster-{id}\" data-size=\"3\" data-cases=\"3\""
    )));

    let path = format!("/clusters/{id}");
    let page = s.get(&path).await;
    assert_eq!(page.status, 200, "{page:?}");
    let p = &page.body;
    assert!(!p.contains("<script>alert"), "a name is text:\n{p}");
    assert!(
        p.contains("&lt;script&gt;alert("),
        "the name is shown, escaped"
    );
    assert!(p.contains("Arbeni") && p.contains("Arbën"));
    for mention in &m {
        assert!(
            p.contains(&format!("name=\"g:{mention}\"")),
            "a group for {mention}"
        );
    }
    let version = attr_after(p, "name=\"version\"", "value");
    let views = civreg_hub::access::read(hub.data_dir(), &Default::default()).unwrap();
    let view = views
        .iter()
        .find(|e| e.query == format!("cluster {id}"))
        .expect("the view is in the access log");
    assert_eq!(view.by, "operator:vjosa");
    assert_eq!(view.records.len(), 3);
    assert_eq!(s.get("/clusters/c000000000000").await.status, 404);

    // A pair page of the cluster leads to it.
    let pair = s
        .get(&format!(
            "/duplicates/{}",
            civreg_hub::linkage::duplicates::case_id(&m[0], &m[1])
        ))
        .await
        .body;
    assert!(
        pair.contains(&format!("<p id=\"in-cluster\"><a href=\"/clusters/{id}\">")),
        "{pair}"
    );

    let decide = format!("{path}/decide");
    let g0 = format!("g:{}", m[0]);
    let g1 = format!("g:{}", m[1]);
    let g2 = format!("g:{}", m[2]);
    let form = |csrf: &str, action: &str, reason: &str, first: &str| -> Vec<(String, String)> {
        vec![
            ("action".into(), action.into()),
            ("reason".into(), reason.into()),
            ("csrf".into(), csrf.into()),
            ("version".into(), version.clone()),
            (g0.clone(), first.into()),
            (g1.clone(), "2".into()),
            (g2.clone(), "2".into()),
        ]
    };
    let post = |f: Vec<(String, String)>| {
        let s = &s;
        let decide = decide.clone();
        async move {
            let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            s.post(&decide, &refs).await
        }
    };
    let r = post(form("", "split", "two people", "1")).await;
    assert_eq!(r.status, 403, "no token: {r:?}");
    let r = post(form("0000", "split", "two people", "1")).await;
    assert_eq!(r.status, 403, "another token: {r:?}");
    let r = post(form(&s.csrf, "split", " ", "1")).await;
    assert_eq!(r.status, 400, "a reason is required: {r:?}");
    let r = post(form(&s.csrf, "merge", "x", "1")).await;
    assert_eq!(r.status, 400, "{r:?}");
    let r = post(form(&s.csrf, "split", "two people", "9")).await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body.contains("is not a number from 1 to 3"), "{}", r.body);
    let stale = {
        let mut f = form(&s.csrf, "split", "two people", "1");
        f[3].1 = "0000".into();
        f
    };
    let r = post(stale).await;
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.body.contains("changed since"), "{}", r.body);
    assert!(s.get("/clusters").await.body.contains(&id), "still open");

    let r = post(form(&s.csrf, "split", "the first is his cousin", "1")).await;
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(r.header("location"), Some(path.as_str()));
    let p = s.get(&path).await.body;
    assert!(p.contains("id=\"closed\""), "{p}");
    assert!(p.contains("data-choice=\"split\"") && p.contains("the first is his cousin"));
    assert!(!p.contains("id=\"decide\""), "nothing left to decide");
    let again = post(form(&s.csrf, "one", "again", "1")).await;
    assert_eq!(again.status, 404, "{again:?}");
    assert!(s.get("/clusters").await.body.contains("id=\"none\""));
    // The pair page says how its case was closed.
    let pair = s
        .get(&format!(
            "/duplicates/{}",
            civreg_hub::linkage::duplicates::case_id(&m[1], &m[2])
        ))
        .await
        .body;
    assert!(pair.contains("data-via=\"cluster\""), "{pair}");
    assert!(actions(&hub)
        .iter()
        .any(|l| l["action"] == "cluster" && l["ok"] == true && l["cluster"] == id.as_str()));

    let (_dir, store) = hub.stop().await;
    let person = |mention: &str| {
        let (regno, role) = mention.rsplit_once('/').unwrap();
        civreg_hub::linkage::persons::person_of(&store, regno, role).unwrap()
    };
    assert_eq!(person(&m[1]), person(&m[2]));
    assert_ne!(person(&m[0]), person(&m[1]));
    use civreg_hub::linkage::duplicates::{case_id, get, Status};
    assert_eq!(
        get(&store, &case_id(&m[1], &m[2])).unwrap().status,
        Status::Linked
    );
    assert_eq!(
        get(&store, &case_id(&m[0], &m[1])).unwrap().status,
        Status::Dismissed
    );
    assert_eq!(
        get(&store, &case_id(&m[0], &m[2])).unwrap().status,
        Status::Dismissed
    );
}

/// Issue 16: a case page says when a case was reopened by an unlink (linking to that case) and,
/// for a case the hub proposed, whose parents it proposes, linked when and by whom.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn case_pages_say_why_a_case_was_reopened_or_proposed() {
    use civreg_hub::linkage::duplicates::{self, case_id, Found, Proposed, Via};
    let mut m = Vec::new();
    let mut proposed = String::new();
    let (hub, web) = start_web_hub_with(settings(), |dir| {
        m = seed_person_cluster(dir, "prishtine", "1", &["Arben", "Arbeni", "Arbën"]);
        let store =
            civreg_hub::store::HubStore::open(&civreg_hub::paths::db_dir(dir), hub_keys(dir))
                .unwrap();
        duplicates::link(&store, &case_id(&m[0], &m[1]), "ana", "same child").unwrap();
        duplicates::link(&store, &case_id(&m[0], &m[2]), "ana", "same child").unwrap();
        duplicates::unlink(&store, &case_id(&m[0], &m[2]), "bo", "a cousin").unwrap();
        let mother = |i: usize| format!("{}/mother", m[i].rsplit_once('/').unwrap().0);
        let (mut c, w) = duplicates::new_case(
            &store,
            Found {
                a: mother(0),
                b: mother(1),
                weight: 25.0,
                probability: 0.97,
                class: "possible".into(),
                source: "parents".into(),
            },
        )
        .unwrap()
        .unwrap();
        c.proposed = Some(Box::new(Proposed {
            children: vec![m[0].clone(), m[1].clone()],
            operator: "ana".into(),
            at_ms: 1_796_601_600_000,
            by: Via::Case(case_id(&m[0], &m[1])),
        }));
        store
            .aux_write(&[(w.0, Some(serde_json::to_vec(&c).unwrap()))])
            .unwrap();
        proposed = c.id;
    })
    .await;
    civreg_hub::control::ask::add_operator(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();
    let s = WebSession::login(&web, OPERATOR, PASSWORD)
        .await
        .unwrap_or_else(|r| panic!("sign-in refused: {r:?}"));

    let reopened = s
        .get(&format!("/duplicates/{}", case_id(&m[1], &m[2])))
        .await;
    assert_eq!(reopened.status, 200, "{reopened:?}");
    let p = &reopened.body;
    assert!(p.contains("data-status=\"open\""), "{p}");
    assert!(p.contains("data-via=\"unlink\""), "{p}");
    assert!(
        p.contains(&format!("href=\"/duplicates/{}\"", case_id(&m[0], &m[2]))),
        "the unlink that reopened it: {p}"
    );
    assert!(p.contains("a cousin") && p.contains("id=\"link\""), "{p}");

    let page = s.get(&format!("/duplicates/{proposed}")).await;
    assert_eq!(page.status, 200, "{page:?}");
    let p = &page.body;
    let said = p
        .split("<p id=\"proposed\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no proposal line: {p}"));
    let said = &said[..said.find("</p>").unwrap()];
    assert!(
        said.contains("2026-12-07") && said.contains("ana"),
        "{said}"
    );
    assert!(said.contains(&m[0]) && said.contains(&m[1]), "{said}");
    assert!(
        said.contains(&format!("href=\"/duplicates/{}\"", case_id(&m[0], &m[1]))),
        "{said}"
    );
    hub.stop().await;
}

/// Pushes istog/1's records #1 and #2 and a void of #1, then sends two un-void requests of #1
/// with a heartbeat; returns the voided record's number and the two requests.
async fn voided_with_requests(
    client: &mut civreg_proto::v1::sync_client::SyncClient<tonic::transport::Channel>,
) -> (String, Vec<civreg_proto::v1::UnvoidRequest>) {
    use civreg_shared::model::RecordKind;
    use civreg_shared::op::{ChangeKind, GENESIS};
    let one = create_birth("istog", "1", 1, GENESIS);
    let two = create_birth("istog", "1", 2, one.hash);
    let mut void = op(
        "istog",
        "1",
        3,
        two.hash,
        &one.record_id,
        RecordKind::Birth,
        ChangeKind::Void,
        &[],
    );
    void.base = vec![one.id.clone()];
    void.reason = "entered twice".into();
    let void = void.seal();
    let regno = one.record_id.clone();
    push(client, vec![vec![one, two, void]]).await.accepted();
    let requests: Vec<civreg_proto::v1::UnvoidRequest> = [
        (1u32, "the wrong record was voided"),
        (2, "<b>asked again</b>"),
    ]
    .iter()
    .map(|(n, why)| civreg_proto::v1::UnvoidRequest {
        id: format!("{n:032x}"),
        regno: regno.clone(),
        reason: why.to_string(),
        clerk: "ana".into(),
        at_ms: 1,
    })
    .collect();
    (regno, requests)
}

/// The office's heartbeat repeating `requests`: the hub's answers, by request id.
async fn unvoid_answers(
    client: &mut civreg_proto::v1::sync_client::SyncClient<tonic::transport::Channel>,
    requests: &[civreg_proto::v1::UnvoidRequest],
) -> std::collections::BTreeMap<String, civreg_proto::v1::UnvoidAnswer> {
    let reply = client
        .heartbeat(civreg_proto::v1::HeartbeatRequest {
            unvoid_requests: requests.to_vec(),
            ..heartbeat_request()
        })
        .await
        .expect("heartbeat")
        .into_inner();
    reply
        .unvoid_answers
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_operator_answers_unvoid_requests_on_their_page() {
    let (hub, web) = start_web_hub(settings()).await;
    civreg_hub::control::ask::add_operator(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();
    let mut client = hub.client(&hub.issue("istog", "1")).await;
    let (regno, requests) = voided_with_requests(&mut client).await;
    let answers = unvoid_answers(&mut client, &requests).await;
    assert!(
        answers.values().all(|a| a.state == "pending"),
        "{answers:?}"
    );
    let (first, second) = (requests[0].id.clone(), requests[1].id.clone());

    // Without a session, the page and the form send to sign-in.
    let r = http_request(&web, "GET", "/unvoid", None, None).await;
    assert_eq!(r.status, 303, "{r:?}");
    let s = WebSession::login(&web, OPERATOR, PASSWORD)
        .await
        .unwrap_or_else(|r| panic!("sign-in refused: {r:?}"));

    // "Needs you now" counts both and links the page.
    let overview = s.get("/").await;
    let item = overview
        .body
        .split("<li ")
        .find(|li| li.contains("data-kind=\"unvoid\""))
        .unwrap_or_else(|| panic!("no un-void item on the first screen:\n{}", overview.body));
    assert!(
        item.contains("href=\"/unvoid\"") && item.contains("2 clerks"),
        "{item}"
    );

    // The page: both requests, their office, record, clerk and reason (escaped), a form each;
    // its view is in the access log.
    let page = s.get("/unvoid").await;
    assert_eq!(page.status, 200, "{page:?}");
    for id in [&first, &second] {
        assert!(
            page.body.contains(&format!("id=\"req-{id}\"")),
            "{}",
            page.body
        );
        assert!(page
            .body
            .contains(&format!("action=\"/unvoid/{id}/answer\"")));
    }
    assert!(page.body.contains("istog/1") && page.body.contains(&regno));
    assert!(page.body.contains("the wrong record was voided"));
    assert!(
        page.body.contains("&lt;b&gt;asked again&lt;/b&gt;"),
        "the clerk's words are escaped"
    );
    let log = civreg_hub::access::read(hub.data_dir(), &Default::default()).unwrap();
    assert!(
        log.iter().any(|e| e.by == format!("operator:{OPERATOR}")
            && e.query == "un-void requests"
            && e.records == vec![regno.clone()]),
        "{log:?}"
    );

    let path = format!("/unvoid/{first}/answer");
    // No token, or another session's: refused, nothing answered.
    for fields in [
        vec![("answer", "grant"), ("reason", "paper register")],
        vec![
            ("answer", "grant"),
            ("reason", "paper register"),
            ("csrf", "0000"),
        ],
    ] {
        let r = s.post(&path, &fields).await;
        assert_eq!(r.status, 403, "{r:?}");
    }
    // No reason (or only blanks), or no choice: refused, saying what to do.
    let r = s
        .post(
            &path,
            &[("answer", "grant"), ("reason", "  "), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body.contains("give a reason"), "{}", r.body);
    assert!(
        r.body.contains("href=\"/unvoid\" id=\"back\""),
        "the way back: {}",
        r.body
    );
    let r = s
        .post(
            &path,
            &[("answer", "maybe"), ("reason", "x"), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    let r = s
        .post(
            &format!("/unvoid/{}/answer", "f".repeat(32)),
            &[("answer", "grant"), ("reason", "x"), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(r.status, 404, "{r:?}");
    let answers = unvoid_answers(&mut client, &requests).await;
    assert!(
        answers.values().all(|a| a.state == "pending"),
        "{answers:?}"
    );

    // Granted in the operator's name: the office hears it, the record is restored.
    let r = s
        .post(
            &path,
            &[
                ("answer", "grant"),
                ("reason", "paper register, book 12"),
                ("csrf", &s.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    let to = r.header("location").unwrap_or_default().to_string();
    let done = s.get(&to).await;
    assert!(
        done.body.contains("id=\"done\" data-state=\"granted\""),
        "{}",
        done.body
    );
    assert!(
        !done.body.contains(&format!("id=\"req-{first}\"")),
        "no longer waiting"
    );
    assert!(done
        .body
        .contains(&format!("id=\"ans-{first}\" data-state=\"granted\"")));
    let a = &unvoid_answers(&mut client, &requests).await[&first];
    assert_eq!(
        (a.state.as_str(), a.operator.as_str()),
        ("granted", OPERATOR),
        "{a:?}"
    );
    assert_eq!(a.reason, "paper register, book 12");
    let (ops, _) = pull_all(&mut client, 0).await;
    assert!(
        ops.iter().any(|o| o.record_id == regno
            && o.change == civreg_shared::op::ChangeKind::Restore
            && o.clerk == format!("operator:{OPERATOR}")),
        "the restore op reaches the office by pull"
    );
    // Answered once only.
    let r = s
        .post(
            &path,
            &[("answer", "refuse"), ("reason", "again"), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.body.contains("already answered"), "{}", r.body);
    // The other one refused (its record is no longer void: a grant is refused by name).
    let second_path = format!("/unvoid/{second}/answer");
    let r = s
        .post(
            &second_path,
            &[("answer", "grant"), ("reason", "x"), ("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.body.contains("no longer void"), "{}", r.body);
    let r = s
        .post(
            &second_path,
            &[
                ("answer", "refuse"),
                ("reason", "already restored"),
                ("csrf", &s.csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    let a = &unvoid_answers(&mut client, &requests).await[&second];
    assert_eq!(
        (a.state.as_str(), a.reason.as_str()),
        ("refused", "already restored")
    );

    // Nothing waits: the first screen says nothing of un-voids; the page lists both answers.
    let overview = s.get("/").await;
    assert!(
        !overview.body.contains("data-kind=\"unvoid\""),
        "{}",
        overview.body
    );
    let page = s.get("/unvoid").await;
    assert!(page.body.contains("id=\"none\""), "{}", page.body);
    assert!(page
        .body
        .contains(&format!("id=\"ans-{second}\" data-state=\"refused\"")));

    // The actions log and the access log name the operator, as for the command line.
    let seen: Vec<(String, bool)> = actions(&hub)
        .iter()
        .filter(|l| l["operator"] == OPERATOR)
        .map(|l| {
            (
                l["action"].as_str().unwrap_or_default().to_string(),
                l["ok"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    for want in [
        ("unvoid-grant", true),
        ("unvoid-grant", false),
        ("unvoid-refuse", true),
    ] {
        assert!(
            seen.contains(&(want.0.to_string(), want.1)),
            "{want:?} not in {seen:?}"
        );
    }
    let log = civreg_hub::access::read(hub.data_dir(), &Default::default()).unwrap();
    for (action, id) in [("unvoid-grant", &first), ("unvoid-refuse", &second)] {
        assert!(
            log.iter().any(|e| e.action == action
                && &e.query == id
                && e.by == format!("operator:{OPERATOR}")),
            "{action} {id} not in {log:?}"
        );
    }
}

/// `hub_urls` (issue 19): the overview lists every hub (a list stored with `hub-urls set`
/// before the config's); without the list it says where bundles take their addresses from; a
/// hub whose list names a host its certificate does not
/// carry refuses to start, naming the command that adds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_overview_lists_the_hubs_and_a_list_the_certificate_does_not_name_is_refused() {
    // The test kit's hub certificate names localhost and 127.0.0.1.
    let listed = vec![
        "https://localhost:7443".to_string(),
        "https://127.0.0.1:7444".to_string(),
    ];
    let (hub, web) = start_web_hub(Settings {
        hub_urls: listed.clone(),
        ..settings()
    })
    .await;
    civreg_hub::control::ask::add_operator(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();
    let s = WebSession::login(&web, OPERATOR, PASSWORD)
        .await
        .unwrap_or_else(|r| panic!("sign-in refused: {r:?}"));
    let overview = s.get("/").await.body;
    assert!(
        overview.contains("<ul id=\"hub-urls\"><li>https://localhost:7443</li><li>https://127.0.0.1:7444</li></ul>"),
        "{overview}"
    );
    let (bare, bare_web) = start_web_hub(settings()).await;
    civreg_hub::control::ask::add_operator(bare.data_dir(), OPERATOR, PASSWORD, false).unwrap();
    let s = WebSession::login(&bare_web, OPERATOR, PASSWORD)
        .await
        .unwrap_or_else(|r| panic!("sign-in refused: {r:?}"));
    let overview = s.get("/").await.body;
    assert!(
        overview.contains("<p id=\"hub-urls\">No hub list in the configuration (hub_urls)"),
        "{overview}"
    );
    // A list stored with `hub-urls set` is the one the overview shows (the one offices get).
    let dir = bare.data_dir().to_path_buf();
    tokio::task::block_in_place(|| {
        civreg_hub::control::ask::ask::<civreg_hub::hub_list::HubUrls>(
            &dir,
            civreg_hub::control::Request::HubUrlsSet {
                urls: vec!["https://127.0.0.1:7445".into()],
                operator: OPERATOR.into(),
            },
        )
    })
    .expect("hub-urls set");
    let overview = s.get("/").await.body;
    assert!(
        overview.contains("<ul id=\"hub-urls\"><li>https://127.0.0.1:7445</li></ul>"),
        "{overview}"
    );

    // A list naming a host the certificate does not carry: serve stops before it starts.
    let dir = tempfile::tempdir().unwrap();
    civreg_hub::pki::Pki::init(&civreg_hub::paths::pki_dir(dir.path()), &[]).unwrap();
    make_hub_key(dir.path());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let opts = civreg_hub::serve::RunOptions {
        web: Settings {
            hub_urls: vec![listed[0].clone(), "https://hub-b.civreg.rks:7443".into()],
            ..settings()
        },
        ..Default::default()
    };
    let r = tokio::time::timeout(
        Duration::from_secs(30),
        civreg_hub::serve::run_with(dir.path(), listener, opts, std::future::pending()),
    )
    .await
    .expect("serve refuses at once instead of serving");
    let e = r.expect_err("serve started with a hub its certificate does not name");
    let e = e.to_string();
    assert!(
        e.contains("hub_urls in the config: hub address https://hub-b.civreg.rks:7443")
            && e.contains("--hub-name hub-b.civreg.rks`"),
        "{e}"
    );
}
