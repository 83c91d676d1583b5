//! Backup, restore and recovery of an office (issue 17 part A), with the real node binary, a
//! real `serve` killed with SIGKILL, and an in-process hub over mutual TLS.
//!
//! - A backup made through `serve`'s control socket while a clerk registers hundreds of
//!   entries; a later backup made offline, ahead of the hub. Each restored into an empty data
//!   directory: the newer one pushes what the hub never had, the older one takes back from the
//!   hub what it had sent after the backup. Nothing is lost, no number is minted twice, and the
//!   digests of the office and the hub are equal.
//! - `init --bundle B --recover` after the data directory is deleted: the node is rebuilt from
//!   the hub and names exactly the sequence numbers it had saved and reported but never got
//!   acknowledged.
//! - The hub drill: `civreg-hub backup` through the running hub's control socket, more pushes
//!   after it, then `civreg-hub restore` into a new data directory: every chain leads to its
//!   head, and the digests are the running hub's at the time of the backup.

use civreg_testkit::prelude as common;

use civreg_hub::rollout::Stage;
use civreg_proto::v1::review_client::ReviewClient;
use civreg_proto::v1::DigestRequest;
use civreg_shared::model::RecordKind;
use common::*;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A distinct name for entry `i`, in letters (names hold no digits).
fn letters(mut i: usize) -> String {
    let mut s = String::new();
    loop {
        s.push((b'a' + (i % 26) as u8) as char);
        i /= 26;
        if i == 0 {
            return s;
        }
    }
}

fn birth_doc(i: usize) -> serde_json::Value {
    json!({
        "child": {
            "given_name": "Arben",
            "surname": format!("Gashi{}", letters(i)),
            "sex": "male",
            "date_of_birth": "2020-03-14"
        },
        "place_of_birth": "Prishtinë",
        "mother": { "given_name": "Drita", "surname": "Gashi", "maiden_surname": "Berisha" }
    })
}

fn births_file(dir: &Path, name: &str, from: usize, count: usize) -> PathBuf {
    let p = dir.join(name);
    let text: Vec<String> = (from..from + count)
        .map(|i| birth_doc(i).to_string())
        .collect();
    std::fs::write(&p, text.join("\n")).expect("write births");
    p
}

/// Registers every document of `file`; returns the registration numbers, in order.
async fn register(data_dir: &Path, file: &Path) -> Vec<String> {
    let args = [
        "--json",
        "register",
        "birth",
        "--file",
        file.to_str().expect("utf-8"),
    ];
    let out = node(data_dir, &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&args, &out));
    json_lines(&out)
        .iter()
        .map(|l| l["regno"].as_str().expect("regno").to_string())
        .collect()
}

/// `civreg-node serve` on `data_dir`, killed (SIGKILL) when dropped.
struct Serve(Child);

impl Serve {
    fn start(data_dir: &Path) -> Serve {
        let child = Command::new(node_bin())
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--interval-secs", "1", "--http-listen", "off"])
            .env_remove("CIVREG_DATA_DIR")
            .env_remove("CIVREG_KEY_FILE")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start serve");
        Serve(child)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn status(data_dir: &Path) -> serde_json::Value {
    node_json(data_dir, &["--json", "status"]).await
}

async fn hub_digest(hub: &Hub, probe: &civreg_hub::pki::Issued) -> (u64, String) {
    let ch = hub
        .channel(Some((&probe.cert_pem, &probe.key_pem)))
        .await
        .expect("channel");
    let d = ReviewClient::new(ch)
        .digest(DigestRequest {
            municipality: "prishtine".into(),
        })
        .await
        .expect("digest")
        .into_inner();
    (d.records, d.sha256)
}

async fn node_digest(data_dir: &Path) -> (u64, String) {
    let d = node_json(data_dir, &["--json", "digest"]).await;
    (
        d["records"].as_u64().expect("records"),
        d["sha256"].as_str().expect("sha256").to_string(),
    )
}

/// The data dir's key file copied aside (a backup is restored with it), then the data dir
/// deleted: the office's PC is gone.
fn lose_pc(data_dir: &Path, keys: &Path) -> PathBuf {
    let key = keys.join("node.key");
    std::fs::copy(data_dir.join("node.key"), &key).expect("copy key");
    std::fs::remove_dir_all(data_dir).expect("delete the data dir");
    key
}

/// Restores a backup on a new PC: the key file put back in the data dir first.
async fn restore(data_dir: &Path, key: &Path, from: &Path, bundle: &Path) -> serde_json::Value {
    std::fs::create_dir_all(data_dir).expect("data dir");
    std::fs::copy(key, data_dir.join("node.key")).expect("key back");
    let args = [
        "--json",
        "restore",
        "--from",
        from.to_str().expect("utf-8"),
        "--bundle",
        bundle.to_str().expect("utf-8"),
    ];
    let out = node(data_dir, &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&args, &out));
    serde_json::from_slice(&out.stdout).expect("restore json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backups_during_registration_restore_without_loss_or_reused_numbers() {
    let hub = Hub::start().await;
    // Another office's certificate, to ask the hub's digest and rollout.
    let probe = hub.issue("prishtine", "9");
    let bundle = hub.bundle("prishtine", "1");
    let work = tempfile::tempdir().expect("tempdir");
    let office = work.path().join("office");
    enrol_node(&office, &bundle).await;
    let backups = work.path().join("usb");

    // serve runs; a clerk registers 300 births in a stream while a backup is made through the
    // control socket.
    let serve = Serve::start(&office);
    wait_for("serve", Duration::from_secs(30), || {
        office.join("node.sock").exists().then_some(())
    })
    .await;
    let file = births_file(work.path(), "a.json", 0, 300);
    let (o, f) = (office.clone(), file.clone());
    let registering = tokio::spawn(async move { register(&o, &f).await });
    wait_for("registration under way", Duration::from_secs(60), || {
        let st = node_run(&office, &["--json", "status"]);
        let v: serde_json::Value = serde_json::from_slice(&st.stdout).ok()?;
        (v["status"]["ops_waiting"].as_u64()? + v["status"]["hub_acked"].as_u64()? >= 20)
            .then_some(())
    })
    .await;
    let b1 = node_json(
        &office,
        &["--json", "backup", "--out", backups.to_str().unwrap()],
    )
    .await;
    let b1_head = b1["manifest"]["head_seq"].as_u64().expect("head");
    let b1_path = PathBuf::from(b1["path"].as_str().expect("path"));
    let mut regnos = registering.await.expect("registration");
    assert_eq!(regnos.len(), 300);
    assert!(b1_head >= 20, "{b1}");
    // serve pushes everything, then dies.
    wait_for("the hub holds all 300", Duration::from_secs(120), || {
        let st = node_run(&office, &["--json", "status"]);
        let v: serde_json::Value = serde_json::from_slice(&st.stdout).ok()?;
        (v["status"]["hub_acked"].as_u64()? == 300).then_some(())
    })
    .await;
    drop(serve);

    // Offline, 20 more; a second backup, ahead of the hub (which holds #300).
    let more = births_file(work.path(), "b.json", 300, 20);
    regnos.extend(register(&office, &more).await);
    let b2 = node_json(
        &office,
        &["--json", "backup", "--out", backups.to_str().unwrap()],
    )
    .await;
    assert_eq!(b2["manifest"]["head_seq"], json!(320));
    let b2_path = PathBuf::from(b2["path"].as_str().expect("path"));
    let all: BTreeSet<String> = regnos.iter().cloned().collect();
    assert_eq!(all.len(), 320, "numbers minted twice before any restore");

    // The PC is lost. The newer backup restores and pushes #301-#320, which the hub never had.
    let keys = tempfile::tempdir().expect("tempdir");
    let key = lose_pc(&office, keys.path());
    let newer = work.path().join("newer");
    let r = restore(&newer, &key, &b2_path, &bundle).await;
    assert_eq!(r["catch_up"]["report"]["fetched_own"], json!(0), "{r}");
    assert_eq!(r["catch_up"]["report"]["pushed"], json!(20), "{r}");
    assert_eq!(r["catch_up"]["registering"], json!(true), "{r}");
    assert_eq!(r["catch_up"]["lost"], json!(null), "{r}");
    assert_eq!(node_digest(&newer).await, hub_digest(&hub, &probe).await);
    drop(newer);

    // The older backup (made mid-registration, #1-#b1_head) restores, takes back
    // #b1_head+1-#320 from the hub, checked by hash chain, and registers again after #320.
    let older = work.path().join("older");
    let r = restore(&older, &key, &b1_path, &bundle).await;
    assert_eq!(
        r["catch_up"]["report"]["fetched_own"],
        json!(320 - b1_head),
        "{r}"
    );
    assert_eq!(r["catch_up"]["report"]["pushed"], json!(0), "{r}");
    assert_eq!(r["catch_up"]["log_seq"], json!(320), "{r}");
    assert_eq!(r["catch_up"]["registering"], json!(true), "{r}");
    let v = node_json(&older, &["--json", "verify"]).await;
    assert_eq!(v["ok"], json!(true), "{v}");
    let (records, sha) = node_digest(&older).await;
    assert_eq!(records, 320);
    assert_eq!((records, sha), hub_digest(&hub, &probe).await);
    // Every record is there, under the number it was given.
    for regno in [&regnos[0], &regnos[b1_head as usize], &regnos[319]] {
        let out = node(&older, &["--json", "show", regno]).await;
        assert_eq!(out.status.code(), Some(0), "{regno} lost");
    }
    // The next entry is #321 and a number never given before; the hub takes it.
    let next = register(&older, &births_file(work.path(), "c.json", 320, 1)).await;
    assert!(!all.contains(&next[0]), "{} was minted twice", next[0]);
    let out = node(&older, &["--json", "sync", "--once"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&["sync"], &out));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(s["report"]["hub_acked"], json!(321), "{s}");
    assert_eq!(node_digest(&older).await, hub_digest(&hub, &probe).await);
    let st = status(&older).await;
    assert_eq!(st["guard"]["halted"], json!(null), "{st}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recover_without_a_backup_names_exactly_the_lost_numbers() {
    let hub = Hub::start().await;
    // Another office's certificate, to ask the hub's digest and rollout.
    let probe = hub.issue("prishtine", "9");
    let bundle = hub.bundle("prishtine", "1");
    let work = tempfile::tempdir().expect("tempdir");
    let office = work.path().join("office");
    enrol_node(&office, &bundle).await;
    let first = register(&office, &births_file(work.path(), "a.json", 0, 10)).await;
    let out = node(&office, &["--json", "sync", "--once"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&["sync"], &out));

    // The agency stops births in Prishtinë; the office has not heard yet and saves three more.
    // Its next sync is refused for them, but its heartbeat says its log reaches #13.
    civreg_hub::control::ask::set_stage(
        hub.data_dir(),
        "prishtine",
        Stage::Live,
        Some(vec![RecordKind::Marriage]),
        "vjosa",
        "drill",
    )
    .expect("rollout");
    let mut client = hub.client(&probe).await;
    wait_for("the rollout to apply", Duration::from_secs(10), || {
        let r = futures_block(client.heartbeat(heartbeat_request()));
        (r.ok()?.into_inner().kinds.len() == 1).then_some(())
    })
    .await;
    let lost = register(&office, &births_file(work.path(), "b.json", 10, 3)).await;
    let out = node(&office, &["--json", "sync", "--once"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", describe(&["sync"], &out));

    // The PC dies. A new one, from the same bundle, is rebuilt from the hub.
    std::fs::remove_dir_all(&office).expect("delete");
    let b = bundle.to_str().expect("utf-8");
    let args = ["--json", "init", "--bundle", b, "--recover"];
    let out = node(&office, &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&args, &out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["catch_up"]["lost"], json!([11, 13]), "{r}");
    assert_eq!(r["catch_up"]["report"]["fetched_own"], json!(10), "{r}");
    assert_eq!(r["catch_up"]["log_seq"], json!(10), "{r}");
    let text_args = ["init", "--bundle", b, "--recover"];
    let again = work.path().join("again");
    let out = node(&again, &text_args).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("LOST: #11-#13 (3 ops)"), "{text}");
    for regno in &first {
        let out = node(&office, &["--json", "show", regno]).await;
        assert_eq!(out.status.code(), Some(0), "{regno} not recovered");
    }
    for regno in &lost {
        let out = node(&office, &["--json", "show", regno]).await;
        assert_ne!(out.status.code(), Some(0), "{regno} was never at the hub");
    }
    assert_eq!(node_digest(&office).await, hub_digest(&hub, &probe).await);
}

fn hub_bin() -> PathBuf {
    civreg_testkit::bins::hub_bin()
}

async fn hub_cmd(data_dir: &Path, key: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(hub_bin());
    cmd.arg("--data-dir")
        .arg(data_dir)
        .arg("--key-file")
        .arg(key)
        .args(args)
        .env("RUST_LOG", "warn");
    tokio::task::spawn_blocking(move || cmd.output().expect("run civreg-hub"))
        .await
        .expect("hub command")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hub_backup_online_then_restore_drill() {
    let hub = Hub::start().await;
    let probe = hub.issue("prishtine", "9");
    let work = tempfile::tempdir().expect("tempdir");
    let (p1, ist) = (work.path().join("p1"), work.path().join("ist"));
    enrol_node(&p1, &hub.bundle("prishtine", "1")).await;
    enrol_node(&ist, &hub.bundle("istog", "1")).await;
    register(&p1, &births_file(work.path(), "a.json", 0, 30)).await;
    let ist_doc = births_file(work.path(), "i.json", 100, 12);
    let text = std::fs::read_to_string(&ist_doc)
        .unwrap()
        .replace("Prishtinë", "Istog");
    std::fs::write(&ist_doc, text).unwrap();
    register(&ist, &ist_doc).await;
    for n in [&p1, &ist] {
        let out = node(n, &["--json", "sync", "--once"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", describe(&["sync"], &out));
    }
    let before = hub_digest(&hub, &probe).await;
    assert_eq!(before.0, 30);

    // Online: the running hub makes the backup (its control socket); the key file stays out.
    let key = civreg_hub::atrest::default_key_path(hub.data_dir());
    let usb = work.path().join("usb");
    let args = ["--json", "backup", "--out", usb.to_str().unwrap()];
    let out = hub_cmd(hub.data_dir(), &key, &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&args, &out));
    let b: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let files: Vec<&str> = b["manifest"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert!(files.iter().any(|f| f.starts_with("pki/")), "{files:?}");
    assert!(
        !files.contains(&"hub.key"),
        "the key file is never in a backup: {files:?}"
    );
    let backup = PathBuf::from(b["path"].as_str().expect("path"));
    let hub_key = std::fs::read_to_string(&key).unwrap();
    let body = std::fs::read(backup.join("snapshot.bin")).unwrap();
    assert!(!body
        .windows(hub_key.trim().len())
        .any(|w| w == hub_key.trim().as_bytes()));

    // The hub goes on: five more births after the backup are not in it.
    register(&p1, &births_file(work.path(), "b.json", 30, 5)).await;
    let out = node(&p1, &["--json", "sync", "--once"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&["sync"], &out));
    assert_eq!(hub_digest(&hub, &probe).await.0, 35);

    // A tampered copy is refused and writes nothing.
    let bad = work.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::copy(backup.join("manifest.json"), bad.join("manifest.json")).unwrap();
    let mut flipped = body.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x40;
    std::fs::write(bad.join("snapshot.bin"), &flipped).unwrap();
    let restored = work.path().join("restored-hub");
    let args = ["--json", "restore", "--from", bad.to_str().unwrap()];
    let out = hub_cmd(&restored, &key, &args).await;
    assert_ne!(out.status.code(), Some(0), "{}", describe(&args, &out));
    assert!(!restored.join("db").exists());

    // The drill: restored, every chain walked to its head, digests as at the backup.
    let args = ["--json", "restore", "--from", backup.to_str().unwrap()];
    let out = hub_cmd(&restored, &key, &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&args, &out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let drill = &r["restored"]["drill"];
    assert_eq!(drill["problems"], json!([]), "{r}");
    assert_eq!(drill["ops"], json!(42), "{r}");
    let digests = drill["digests"].as_array().expect("digests");
    let pr = digests
        .iter()
        .find(|d| d[0] == json!("prishtine"))
        .expect("prishtine");
    assert_eq!(
        (pr[1].as_u64().unwrap(), pr[2].as_str().unwrap().to_string()),
        before
    );
    assert!(
        digests
            .iter()
            .any(|d| d[0] == json!("istog") && d[1] == json!(12)),
        "{r}"
    );
    // The restored hub answers as the old one did (its own files came back: PKI, rollout).
    assert!(restored.join("pki").is_dir());
    let args = ["--json", "digest", "--municipality", "prishtine"];
    let out = hub_cmd(&restored, &key, &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&args, &out));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(d["sha256"].as_str().unwrap(), before.1);
}

/// Runs a future to completion from synchronous code inside the multi-threaded runtime.
fn futures_block<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}
