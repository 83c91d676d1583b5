//! `verify` catches each kind of tampering with the stored log and records, at the exact op; and
//! nothing personal is stored in clear.
//!
//! Each test builds a node with the real binary (6 registrations and one amendment: ops 1 to 7),
//! then, with no civreg-node process running, opens the database directly, tampers with it as an
//! outsider (raw bytes) or an insider (with the key file), and runs `civreg-node verify`.

use civreg_testkit::node as common;

use civreg_node::crypto::Crypto;
use civreg_node::store::{Batch, SledStore, Store, Tree};
use civreg_shared::op::Op;
use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const OPS: u64 = 7;

/// A node with six births and an amendment of the second: ops 1..=7. Returns it and the
/// registration numbers, in order.
fn node_with_log() -> (TestNode, Vec<String>) {
    let node = TestNode::new();
    let people = [
        ("Arben", "Gashi", "1968-03-14"),
        ("Besnik", "Berisha", "1970-06-01"),
        ("Agon", "Hoxha", "1972-05-09"),
        ("Dren", "Krasniqi", "1980-01-23"),
        ("Ilir", "Morina", "1985-10-02"),
        ("Valon", "Shala", "1990-07-07"),
    ];
    let regnos: Vec<String> = people
        .iter()
        .map(|(g, s, d)| node.register("birth", &birth(g, s, d)))
        .collect();
    let changes = node.dir.path().join("changes.json");
    std::fs::write(&changes, r#"{"child.given_name": "Besim"}"#).expect("write changes");
    node.run(&[
        "amend",
        &regnos[1],
        "--file",
        changes.to_str().expect("utf-8"),
        "--reason",
        "misread",
    ])
    .ok();
    let (code, v) = node.verify();
    assert_eq!(code, 0, "untampered: {v}");
    assert_eq!(v["ops_checked"], json!(OPS), "{v}");
    (node, regnos)
}

/// The database opened directly, as someone with access to the disk (and, for `crypto`, the key).
struct Raw {
    store: SledStore,
    crypto: Crypto,
}

impl Raw {
    fn open(node: &TestNode) -> Raw {
        Raw {
            store: SledStore::open(&node.db()).expect("open the database directly"),
            crypto: Crypto::load(&node.key()).expect("load the key"),
        }
    }

    fn get(&self, tree: Tree, key: &[u8]) -> Vec<u8> {
        self.store.get(tree, key).expect("read").unwrap_or_else(|| {
            panic!(
                "no entry {} in {}",
                String::from_utf8_lossy(key),
                tree.name()
            )
        })
    }

    fn put(&self, tree: Tree, key: &[u8], value: Vec<u8>) {
        let mut b = Batch::default();
        b.put(tree, key.to_vec(), value);
        self.store.commit(b).expect("write");
    }

    fn delete(&self, tree: Tree, key: &[u8]) {
        let mut b = Batch::default();
        b.delete(tree, key.to_vec());
        self.store.commit(b).expect("delete");
    }

    fn sealed_op(&self, seq: u64) -> Vec<u8> {
        self.get(Tree::Ops, &seq.to_be_bytes())
    }

    fn op(&self, seq: u64) -> Op {
        let plain = self
            .crypto
            .open("ops", &seq.to_be_bytes(), &self.sealed_op(seq))
            .expect("decrypt op");
        serde_json::from_slice(&plain).expect("op parses")
    }

    /// Encrypts `op` and stores it under `seq`, as the node would.
    fn put_op(&self, seq: u64, op: &Op) {
        let key = seq.to_be_bytes();
        let sealed = self
            .crypto
            .seal("ops", &key, &serde_json::to_vec(op).expect("op serialises"));
        self.put(Tree::Ops, &key, sealed);
    }

    fn state(&self, regno: &str) -> Value {
        let plain = self
            .crypto
            .open(
                "records",
                regno.as_bytes(),
                &self.get(Tree::Records, regno.as_bytes()),
            )
            .expect("decrypt record");
        serde_json::from_slice(&plain).expect("record parses")
    }

    fn put_state(&self, regno: &str, state: &Value) {
        let sealed = self.crypto.seal(
            "records",
            regno.as_bytes(),
            &serde_json::to_vec(state).expect("serialise"),
        );
        self.put(Tree::Records, regno.as_bytes(), sealed);
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        // Durable before the binary opens it; the lock goes with the handle.
        let _ = self.store.flush();
    }
}

fn tamper(node: &TestNode, f: impl FnOnce(&Raw)) {
    let raw = Raw::open(node);
    f(&raw);
    drop(raw);
    // sled's background threads may hold the database file (and its lock) for a moment after
    // the handle is dropped: wait until another process can open it.
    wait_for(
        "the database to be released by this process",
        Duration::from_secs(20),
        || {
            let o = node.run(&["clerk", "list"]);
            assert!(
                o.code == 0 || o.stderr.contains("in use"),
                "clerk list: {}",
                o.stderr
            );
            (o.code == 0).then_some(())
        },
    );
}

/// `verify` fails, exits non-zero, and reports `seq` as the first bad op with `words` in the
/// message. Returns the report.
fn assert_reported(node: &TestNode, seq: Option<u64>, words: &[&str]) -> Value {
    let (code, v) = node.verify();
    assert_ne!(code, 0, "verify must fail: {v}");
    assert_eq!(v["ok"], json!(false), "{v}");
    assert_eq!(v["problem"]["seq"], json!(seq), "the first bad op: {v}");
    let msg = v["problem"]["message"].as_str().expect("message");
    for w in words {
        assert!(msg.contains(w), "{w:?} not in {msg:?}");
    }
    if let Some(s) = seq {
        let text = node.run(&["verify"]);
        assert_ne!(text.code, 0);
        assert!(
            text.stdout.contains("TAMPERED OR DAMAGED"),
            "{}",
            text.stdout
        );
        assert!(
            text.stdout.contains(&format!("first bad op #{s}")),
            "{}",
            text.stdout
        );
    }
    v
}

#[test]
fn an_untampered_node_verifies() {
    let (node, regnos) = node_with_log();
    // Opening and closing the database directly changes nothing.
    tamper(&node, |raw| {
        assert_eq!(raw.op(7).record_id, regnos[1]);
        assert_eq!(raw.op(3).record_id, regnos[2]);
    });
    let (code, v) = node.verify();
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        v,
        json!({"ok": true, "ops_checked": OPS, "records_checked": 6, "problem": null})
    );
    let text = node.run(&["verify"]).ok().stdout;
    assert!(
        text.contains("ok: 7 ops in an unbroken chain, 6 records match the log"),
        "{text}"
    );
}

#[test]
fn a_flipped_byte_in_a_stored_op_is_reported_at_that_op() {
    let (node, _) = node_with_log();
    tamper(&node, |raw| {
        let mut sealed = raw.sealed_op(3);
        let i = sealed.len() / 2;
        sealed[i] ^= 0x01;
        raw.put(Tree::Ops, &3u64.to_be_bytes(), sealed);
    });
    let v = assert_reported(&node, Some(3), &["op #3", "decrypted"]);
    assert_eq!(v["ops_checked"], json!(2), "ops 1 and 2 verified: {v}");
}

#[test]
fn a_deleted_op_is_reported_as_missing() {
    let (node, _) = node_with_log();
    tamper(&node, |raw| raw.delete(Tree::Ops, &4u64.to_be_bytes()));
    assert_reported(&node, Some(4), &["op #4 is missing"]);
}

#[test]
fn two_swapped_ops_are_reported_at_the_first() {
    let (node, _) = node_with_log();
    tamper(&node, |raw| {
        let (a, b) = (raw.sealed_op(2), raw.sealed_op(3));
        raw.put(Tree::Ops, &2u64.to_be_bytes(), b);
        raw.put(Tree::Ops, &3u64.to_be_bytes(), a);
    });
    assert_reported(&node, Some(2), &["op #2"]);
}

#[test]
fn two_swapped_ops_re_encrypted_under_their_new_keys_are_reported_at_the_first() {
    // An insider with the key makes the swapped values decrypt: the ops' own ids give it away.
    let (node, _) = node_with_log();
    tamper(&node, |raw| {
        let (a, b) = (raw.op(2), raw.op(3));
        raw.put_op(2, &b);
        raw.put_op(3, &a);
    });
    assert_reported(&node, Some(2), &["out of order"]);
}

#[test]
fn an_op_edited_with_the_key_is_reported_at_that_op() {
    let (node, regnos) = node_with_log();
    tamper(&node, |raw| {
        let mut op = raw.op(3);
        assert_eq!(op.record_id, regnos[2]);
        let c = op
            .changes
            .iter_mut()
            .find(|c| c.path == "child.given_name")
            .expect("given name in the create op");
        assert_eq!(c.value, json!("Agon"));
        c.value = json!("Forged");
        raw.put_op(3, &op);
    });
    let v = assert_reported(&node, Some(3), &["op #3", "hash"]);
    assert_eq!(v["ops_checked"], json!(2), "{v}");
}

#[test]
fn an_op_edited_and_re_hashed_with_the_key_breaks_the_next_link() {
    let (node, _) = node_with_log();
    tamper(&node, |raw| {
        let mut op = raw.op(3);
        let c = op
            .changes
            .iter_mut()
            .find(|c| c.path == "child.given_name")
            .expect("given name in the create op");
        c.value = json!("Forged");
        let op = op.seal();
        assert!(op.check().is_ok(), "the forged op is consistent on its own");
        raw.put_op(3, &op);
    });
    let v = assert_reported(&node, Some(4), &["op #4", "does not follow op #3"]);
    assert_eq!(v["ops_checked"], json!(3), "op 3 itself looks fine: {v}");
}

#[test]
fn a_truncated_log_is_reported() {
    let (node, _) = node_with_log();
    tamper(&node, |raw| raw.delete(Tree::Ops, &OPS.to_be_bytes()));
    let v = assert_reported(&node, Some(OPS), &["missing", "#7"]);
    assert_eq!(v["ops_checked"], json!(OPS - 1), "{v}");

    // Also when the last ops go together with the records they made.
    let (node, regnos) = node_with_log();
    tamper(&node, |raw| {
        for seq in 6..=OPS {
            raw.delete(Tree::Ops, &seq.to_be_bytes());
        }
        raw.delete(Tree::Records, regnos[5].as_bytes());
    });
    assert_reported(&node, Some(6), &["missing"]);
}

#[test]
fn a_record_state_edited_with_the_key_does_not_match_its_ops() {
    let (node, regnos) = node_with_log();
    let target = &regnos[3];
    tamper(&node, |raw| {
        let mut st = raw.state(target);
        assert_eq!(st["fields"]["child.given_name"], json!("Dren"));
        st["fields"]["child.given_name"] = json!("Forged");
        raw.put_state(target, &st);
    });
    // The op log itself is intact: the problem is the record, named by its number.
    let v = assert_reported(&node, None, &[target.as_str(), "does not match"]);
    assert_eq!(v["ops_checked"], json!(OPS), "{v}");

    // The same for the amended record, rolled back to its first version by hand.
    let (node, regnos) = node_with_log();
    let target = &regnos[1];
    tamper(&node, |raw| {
        let mut st = raw.state(target);
        assert_eq!(st["fields"]["child.given_name"], json!("Besim"));
        st["fields"]["child.given_name"] = json!("Besnik");
        st["ops"].as_array_mut().expect("ops").pop();
        raw.put_state(target, &st);
    });
    assert_reported(&node, None, &[target.as_str(), "does not match"]);
}

#[test]
fn a_deleted_record_state_is_reported() {
    let (node, regnos) = node_with_log();
    tamper(&node, |raw| raw.delete(Tree::Records, regnos[2].as_bytes()));
    assert_reported(&node, None, &[regnos[2].as_str(), "missing"]);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack.len() >= needle.len()
        && haystack
            .windows(needle.len())
            .any(|w| w[0] == needle[0] && w == needle)
}

/// Every file under `dir`, recursively, with its bytes.
fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let bytes = std::fs::read(&p).expect("read file");
                out.push((p, bytes));
            }
        }
    }
    out
}

#[test]
fn nothing_personal_is_stored_in_clear() {
    let node = TestNode::new();
    let j1 = jmbg("1975-02-11", 91, 520);
    let j2 = jmbg("1961-04-18", 92, 37);
    let kosovo = "7340519283";
    let mut a = birth("Qëndresa", "Gjinovcishtaj", "1975-02-11");
    a["child"]["sex"] = json!("female");
    a["child"]["personal_numbers"] = json!({ "jmbg": j1, "kosovo": kosovo });
    a["notes"] = json!("Adoption file kept in archive room Zetaborg");
    a["register"] = json!({"book": "Librorum-Obscura", "year": 1975, "page": 17, "entry": 4});
    a["father"] = json!({"given_name": "Ndue", "surname": "Mirditakaj"});
    let ra = node.register("birth", &a);
    let mut b = birth("Љубомир", "Стефановићева", "1961-04-18");
    b["child"]["personal_numbers"] = json!({ "jmbg": j2 });
    b["notes"] = json!("Напомена о тајном усвојењу Квазимодо");
    let rb = node.register("birth", &b);
    // An amendment and a void put more values and a reason into the log.
    let changes = node.dir.path().join("changes.json");
    std::fs::write(&changes, r#"{"mother.maiden_surname": "Xhakovicaj"}"#).expect("write");
    node.run(&[
        "amend",
        &ra,
        "--file",
        changes.to_str().expect("utf-8"),
        "--reason",
        "typo",
    ])
    .ok();
    node.run(&["void", &rb, "--reason", "suspected Quirinovska forgery"])
        .ok();
    // Search builds its index; it must not land on disk either.
    assert_eq!(node.search(&["Gjinovcishtaj"]), vec![ra.clone()]);
    let (code, _) = node.verify();
    assert_eq!(code, 0);

    let needles: Vec<String> = [
        "Qëndresa",
        "qendresa",
        "Gjinovcishtaj",
        "gjinovcishtaj",
        "Mirditakaj",
        "Xhakovicaj",
        "Љубомир",
        "Стефановићева",
        "Stefanovićeva",
        "stefanoviceva",
        "Zetaborg",
        "Adoption file kept",
        "Квазимодо",
        "Librorum-Obscura",
        "Quirinovska",
        kosovo,
        &j1,
        &j2,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();

    let all = files(&node.db());
    assert!(!all.is_empty(), "the database has files");
    // A positive control: what is stored in clear (the node's identity) is found this way.
    assert!(
        all.iter()
            .any(|(_, b)| contains(b, b"\"municipality\":\"prishtine\"")),
        "the search would find clear text"
    );
    for (path, bytes) in &all {
        for n in &needles {
            assert!(
                !contains(bytes, n.as_bytes()),
                "{n:?} is stored in clear in {}",
                path.display()
            );
        }
    }

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&node.key()), 0o600, "the key file is private");
        assert_eq!(mode(&node.data_dir), 0o700, "the data dir is private");
    }
}
