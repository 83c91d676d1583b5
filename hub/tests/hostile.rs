//! A hostile office: enrolled nodes whose client sends hand-built, correctly hashed and chained
//! ops over real mTLS. The hub refuses each with the right status and a message that names the
//! problem, stores nothing of it (digest, `show`, feed unchanged), and another office of the
//! municipality pulls nothing of it. A legitimate annotation is accepted, shown, and reaches the
//! owning office with the record still valid.

use civreg_testkit::prelude as common;

use civreg_hub::control;
use civreg_node::node::Node;
use civreg_proto::v1::review_client::ReviewClient;
use civreg_proto::v1::DigestRequest;
use civreg_proto::RETRY_METADATA;
use civreg_shared::model::RecordKind;
use civreg_shared::op::{ChangeKind, Hash, Op, GENESIS};
use common::*;
use serde_json::{json, Value};
use tonic::Code;

const RECORD: &str = "PRISHTINE-2026-B-000001";

/// An annotation of `record` by `m`'s office under `key`, every attribute written.
fn note(m: &str, n: &str, seq: u64, prev: Hash, record: &str, attrs: &[(&str, Value)]) -> Op {
    let office = m.replace('-', "_");
    let mut changes: Vec<(String, Value)> = ["date", "event", "place", "record", "text"]
        .iter()
        .map(|a| (format!("annotation.{office}.k1.{a}"), Value::Null))
        .collect();
    for (a, v) in attrs {
        if let Some(c) = changes.iter_mut().find(|c| c.0.ends_with(&format!(".{a}"))) {
            c.1 = v.clone();
        } else {
            changes.push(((*a).to_string(), v.clone()));
        }
    }
    let changes: Vec<(&str, Value)> = changes
        .iter()
        .map(|(p, v)| (p.as_str(), v.clone()))
        .collect();
    op(
        m,
        n,
        seq,
        prev,
        record,
        RecordKind::Birth,
        ChangeKind::Annotate,
        &changes,
    )
}

/// A create by prishtine/3 of its first record with the valid birth fields changed by `edit`.
fn bad_create(edit: &[(&str, Value)]) -> Op {
    let mut fields: Vec<(&str, Value)> = birth_fields("prishtine", "Besa");
    for (p, v) in edit {
        match fields.iter_mut().find(|f| f.0 == *p) {
            Some(f) => f.1 = v.clone(),
            None => fields.push((p, v.clone())),
        }
    }
    op(
        "prishtine",
        "3",
        1,
        GENESIS,
        &regno("prishtine", "3", RecordKind::Birth, 1),
        RecordKind::Birth,
        ChangeKind::Create,
        &fields,
    )
}

/// What an observer can see of the prishtine register.
async fn seen(hub: &Hub, review: &mut ReviewClient<tonic::transport::Channel>) -> (Value, Value) {
    let digest = review
        .digest(DigestRequest {
            municipality: "prishtine".into(),
        })
        .await
        .expect("digest")
        .into_inner();
    let show = control::call(
        hub.data_dir(),
        &control::Request::Show {
            regno: RECORD.into(),
            by: "test".into(),
        },
    )
    .expect("show")
    .expect("the hub answers");
    (json!([digest.records, digest.sha256]), show)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hostile_office_changes_nothing_and_a_real_annotation_passes() {
    let hub = Hub::start().await;
    let mut owner = hub.client(&hub.issue("prishtine", "1")).await;
    let mut other = hub.client(&hub.issue("prishtine", "2")).await;
    let mut rogue = hub.client(&hub.issue("prishtine", "3")).await;
    let mut istog = hub.client(&hub.issue("istog", "1")).await;
    let p2 = hub.issue("prishtine", "2");
    let mut review = ReviewClient::new(
        hub.channel(Some((&p2.cert_pem, &p2.key_pem)))
            .await
            .expect("channel"),
    );

    let create = create_birth("prishtine", "1", 1, GENESIS);
    assert_eq!(create.record_id, RECORD);
    assert_eq!(
        push(&mut owner, vec![vec![create.clone()]])
            .await
            .accepted(),
        1
    );
    let before = seen(&hub, &mut review).await;
    let (feed_before, _) = pull_all(&mut other, 0).await;
    assert_eq!(feed_before.len(), 1);

    let valid_note = [
        ("event", json!("marriage")),
        ("date", json!("2024-05-01")),
        ("place", json!("Istog")),
    ];
    // (who, op, code, words the message must hold)
    let mut forged_fields = valid_note.to_vec();
    forged_fields.push(("child.given_name", json!("Forged")));
    forged_fields.push(("child.personal_numbers.jmbg", json!("0101990910008")));
    let mut other_office = vec![("annotation.prishtine.k9.event", json!("death"))];
    other_office.extend(valid_note.iter().cloned());
    let mut huge_amend: Vec<(String, Value)> = (0..300)
        .map(|i| (format!("notes{i:03}"), json!("x")))
        .collect();
    huge_amend.sort_by(|a, b| a.0.cmp(&b.0));
    let huge_amend: Vec<(&str, Value)> = huge_amend
        .iter()
        .map(|(p, v)| (p.as_str(), v.clone()))
        .collect();
    let mut future = create_birth("prishtine", "3", 1, GENESIS);
    future.hlc.wall_ms = 12_500_000_000_000; // the year ~2366
    let future = future.seal();
    let attacks: Vec<(&str, Op, Code, &str)> = vec![
        (
            "istog",
            note("istog", "1", 1, GENESIS, RECORD, &forged_fields),
            Code::PermissionDenied,
            "annotation.path",
        ),
        (
            "istog",
            note("istog", "1", 1, GENESIS, RECORD, &other_office),
            Code::PermissionDenied,
            "annotation.office",
        ),
        (
            "istog",
            note(
                "istog",
                "1",
                1,
                GENESIS,
                "PRISHTINE-2026-B-000099",
                &valid_note,
            ),
            Code::NotFound,
            "does not hold",
        ),
        (
            "istog",
            note(
                "istog",
                "1",
                1,
                GENESIS,
                RECORD,
                &[("event", json!("marriage")), ("date", json!("2024-13-45"))],
            ),
            Code::InvalidArgument,
            "date",
        ),
        (
            "istog",
            op(
                "istog",
                "1",
                1,
                GENESIS,
                "PRISHTINE-2026-B-000002",
                RecordKind::Birth,
                ChangeKind::Create,
                &birth_fields("prishtine", "Besa"),
            ),
            Code::PermissionDenied,
            "may not create",
        ),
        (
            "prishtine/3",
            op(
                "prishtine",
                "3",
                1,
                GENESIS,
                &regno("prishtine", "3", RecordKind::Birth, 1).to_lowercase(),
                RecordKind::Birth,
                ChangeKind::Create,
                &birth_fields("prishtine", "Besa"),
            ),
            Code::InvalidArgument,
            "canonical",
        ),
        (
            "prishtine/1",
            op(
                "prishtine",
                "1",
                2,
                create.hash,
                &RECORD.to_lowercase(),
                RecordKind::Birth,
                ChangeKind::Create,
                &birth_fields("prishtine", "Besa"),
            ),
            Code::InvalidArgument,
            "canonical",
        ),
        (
            "prishtine/3",
            bad_create(&[("child.date_of_birth", json!("31-31-3100"))]),
            Code::InvalidArgument,
            "child.date_of_birth",
        ),
        (
            "prishtine/3",
            bad_create(&[("child.sex", json!("banana"))]),
            Code::InvalidArgument,
            "child.sex",
        ),
        (
            "prishtine/3",
            bad_create(&[("child.shoe_size", json!(42))]),
            Code::InvalidArgument,
            "shoe_size",
        ),
        (
            "prishtine/3",
            bad_create(&[("child.given_name", json!("A".repeat(200_000)))]),
            Code::InvalidArgument,
            "op.too_large",
        ),
        (
            "prishtine/3",
            bad_create(&[("child.personal_numbers.jmbg", json!("123"))]),
            Code::InvalidArgument,
            "jmbg.length",
        ),
        (
            "prishtine/3",
            bad_create(&[("notes", json!("n".repeat(3_000)))]),
            Code::InvalidArgument,
            "text.too_long",
        ),
        (
            "prishtine/1",
            op(
                "prishtine",
                "1",
                2,
                create.hash,
                RECORD,
                RecordKind::Birth,
                ChangeKind::Amend,
                &huge_amend,
            ),
            Code::InvalidArgument,
            "op.too_many_changes",
        ),
        (
            "prishtine/1",
            op(
                "prishtine",
                "1",
                2,
                create.hash,
                RECORD,
                RecordKind::Birth,
                ChangeKind::Amend,
                &[
                    ("child.sex", json!("banana")),
                    ("child.shoe_size", json!(1)),
                ],
            ),
            Code::InvalidArgument,
            "field.unknown",
        ),
        (
            "prishtine/3",
            future,
            Code::FailedPrecondition,
            "ahead of the hub's clock",
        ),
    ];
    for (who, attack, code, words) in attacks {
        let client = match who {
            "istog" => &mut istog,
            "prishtine/1" => &mut owner,
            _ => &mut rogue,
        };
        let out = push(client, vec![vec![attack.clone()]]).await;
        let st = out.refused();
        assert_eq!(st.code(), code, "{words}: {st:?}");
        assert!(st.message().contains(words), "{words}: {}", st.message());
        assert!(
            st.message().len() < 4_000,
            "{words}: a message of {} bytes",
            st.message().len()
        );
        if code == Code::FailedPrecondition {
            let retry = st.metadata().get(RETRY_METADATA).expect("a retry hint");
            assert!(retry.to_str().unwrap().parse::<u64>().unwrap() > 0);
        }
        let held = acked(client).await;
        assert_eq!(
            held,
            u64::from(who == "prishtine/1"),
            "{words}: a refused op was stored"
        );
    }

    // Nothing of it is stored: digest, show and the feed are as before.
    assert_eq!(seen(&hub, &mut review).await, before);
    let (feed, _) = pull_all(&mut other, 0).await;
    assert_eq!(feed, feed_before, "another office pulled a refused op");

    // A real annotation: accepted, shown, pulled by the owning office, the record still valid.
    let good = note(
        "istog",
        "1",
        1,
        GENESIS,
        RECORD,
        &[
            ("event", json!("marriage")),
            ("date", json!("2024-05-01")),
            ("place", json!("Istog")),
            ("record", json!("ISTOG-2024-M-000003")),
        ],
    );
    assert_eq!(push(&mut istog, vec![vec![good]]).await.accepted(), 1);
    let (_, show) = seen(&hub, &mut review).await;
    assert_eq!(show["annotations"][0]["event"], json!("marriage"));
    assert_eq!(show["annotations"][0]["office"], json!("istog"));
    assert_eq!(
        show["record"], before.1["record"],
        "an annotation changed the record"
    );
    let (feed, cursor) = pull_all(&mut owner, 0).await;
    assert_eq!(feed.len(), 2);
    let office = Node::in_memory("prishtine", "2").expect("node");
    office.apply_remote(&feed, cursor).expect("apply");
    let st = office.get(RECORD).expect("held");
    let record = st.record().expect("the record is not damaged");
    assert_eq!(record.people()[0].given_name, child_name(1));
    assert_eq!(
        st.annotations()[0].record.as_deref(),
        Some("ISTOG-2024-M-000003")
    );
    drop((owner, other, rogue, istog, review));
    hub.stop().await;
}

/// A well-formed argon2id hash at the node's parameters (what `civreg-node clerk add` stores).
const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG7xm4HTcgcsQ";

fn roster(version: u64, clerks: &[(&str, &str)]) -> civreg_proto::v1::ClerkRoster {
    civreg_proto::v1::ClerkRoster {
        version,
        clerks: clerks
            .iter()
            .map(|(n, h)| civreg_proto::v1::ClerkAccount {
                name: (*n).into(),
                password_hash: (*h).into(),
            })
            .collect(),
        received_ms: 0,
    }
}

/// One heartbeat carrying `sent` (a roster to keep) and asking for the held one when `wanted`.
async fn roster_beat(
    client: &mut civreg_proto::v1::sync_client::SyncClient<tonic::transport::Channel>,
    sent: Option<civreg_proto::v1::ClerkRoster>,
    wanted: bool,
) -> civreg_proto::v1::HeartbeatReply {
    client
        .heartbeat(civreg_proto::v1::HeartbeatRequest {
            clerk_roster: sent,
            clerk_roster_wanted: wanted,
            ..heartbeat_request()
        })
        .await
        .expect("heartbeat")
        .into_inner()
}

/// Clerk accounts at the hub (issue 17): an office's roster is kept whole, and a hostile one is
/// refused whole, saying why, with the roster held before left as it was: too many accounts, a
/// hash in clear or not argon2id, a weaker argon2id, a bad name, a name given twice. An office
/// reads and writes only its own roster: another office asking gets none, and its own roster
/// does not touch the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_office_keeps_only_its_own_well_formed_clerk_accounts_at_the_hub() {
    let hub = Hub::start().await;
    let mut office = hub.client(&hub.issue("prishtine", "1")).await;
    let mut istog = hub.client(&hub.issue("istog", "1")).await;

    let good = roster(2, &[("drita", PHC), ("besnik", PHC)]);
    let r = roster_beat(&mut office, Some(good.clone()), false).await;
    assert_eq!(r.clerk_roster_refused, "");
    let held = r.clerk_roster_sha256.clone();
    assert_eq!(held.len(), 32);
    assert!(r.clerk_roster.is_none(), "sent back only when asked");

    let too_many: Vec<(String, &str)> = (0..=civreg_shared::limits::MAX_CLERKS)
        .map(|i| (format!("c{i}"), PHC))
        .collect();
    let too_many: Vec<(&str, &str)> = too_many.iter().map(|(n, h)| (n.as_str(), *h)).collect();
    let weaker = PHC.replace("m=19456", "m=1024");
    let argon2i = PHC.replace("argon2id", "argon2i");
    let long = format!("{PHC}{}", "A".repeat(10_000));
    for (what, sent, says) in [
        ("too many", roster(3, &too_many), "at most 100"),
        (
            "in clear",
            roster(3, &[("drita", "drita-password-1")]),
            "hash",
        ),
        (
            "argon2i",
            roster(3, &[("drita", &argon2i)]),
            "only argon2id",
        ),
        ("weaker", roster(3, &[("drita", &weaker)]), "weaker"),
        ("overlong", roster(3, &[("drita", &long)]), "bytes long"),
        ("bad name", roster(3, &[("../istog/1", PHC)]), "not valid"),
        (
            "twice",
            roster(3, &[("drita", PHC), ("drita", PHC)]),
            "twice",
        ),
    ] {
        let r = roster_beat(&mut office, Some(sent), false).await;
        assert!(r.clerk_roster_refused.contains(says), "{what}: {r:?}");
        assert_eq!(
            r.clerk_roster_sha256, held,
            "{what}: the held roster is unchanged"
        );
    }

    // Another office asks: it gets none of Prishtinë's. Its own roster leaves Prishtinë's alone.
    let r = roster_beat(&mut istog, None, true).await;
    assert!(
        r.clerk_roster.is_none() && r.clerk_roster_sha256.is_empty(),
        "{r:?}"
    );
    let r = roster_beat(&mut istog, Some(roster(1, &[("mira", PHC)])), true).await;
    let theirs = r.clerk_roster.expect("istog's own roster");
    assert_eq!(theirs.clerks.len(), 1);
    assert_eq!(theirs.clerks[0].name, "mira");
    let r = roster_beat(&mut office, None, true).await;
    assert_eq!(r.clerk_roster_sha256, held);
    let back = r.clerk_roster.expect("the office's own roster");
    assert_eq!(back.version, 2);
    assert!(back.received_ms > 0);
    let names: Vec<&str> = back.clerks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["drita", "besnik"]);
    assert!(back.clerks.iter().all(|c| c.password_hash == PHC));

    // A removal reaches the hub like any change: the roster is replaced whole.
    let r = roster_beat(&mut office, Some(roster(3, &[("drita", PHC)])), true).await;
    assert_eq!(r.clerk_roster_refused, "");
    assert_ne!(r.clerk_roster_sha256, held);
    let names: Vec<String> = r
        .clerk_roster
        .expect("roster")
        .clerks
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["drita"]);
}
