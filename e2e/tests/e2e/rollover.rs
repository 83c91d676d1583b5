//! CA rollover with an overlap period (issue 17 part B), as a drill with real processes: a
//! `civreg-hub serve` and two `civreg-node serve` offices syncing; the rollover starts; one
//! office renews onto the new CA while the other stays on the old; the hub's next certificate
//! (of the new CA) is announced, then presented; `finish` is refused while an office holds only
//! old-CA certificates; it renews; `finish`; both still sync; a certificate of the old CA is then
//! refused. And, with an in-process hub, revocation works for both CAs during the overlap.

use civreg_testkit::fleet::*;
use civreg_testkit::prelude as common;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

const LIMIT: Duration = Duration::from_secs(90);

fn hub_cli(hub_dir: &Path, args: &[&str]) -> Output {
    Command::new(hub_bin())
        .arg("--data-dir")
        .arg(hub_dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run civreg-hub {args:?}: {e}"))
}

fn hub_ok(hub_dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = hub_cli(hub_dir, &all);
    assert!(
        out.status.success(),
        "{}",
        describe(&format!("civreg-hub {all:?}"), &out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe("civreg-hub", &out)))
}

fn hub_refused(hub_dir: &Path, args: &[&str]) -> String {
    let out = hub_cli(hub_dir, args);
    assert!(
        !out.status.success(),
        "{}",
        describe(&format!("civreg-hub {args:?} should be refused"), &out)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn fingerprints(path: &Path) -> Vec<String> {
    civreg_node::hubtrust::fingerprints(&std::fs::read(path).unwrap_or_default())
}

fn full_status(node: &NodeDir) -> Value {
    let out = node.run_ok(&["--json", "status"]);
    serde_json::from_slice(&out.stdout).expect("status JSON")
}

fn office<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["rollover"]["offices"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["office"] == name))
        .unwrap_or_else(|| panic!("{name} not in {status}"))
}

struct Office {
    node: NodeDir,
    log: PathBuf,
    serve: Option<KillOnDrop>,
    births: u64,
}

impl Office {
    fn start(&mut self) {
        self.serve = Some(self.node.spawn(
            &["serve", "--interval-secs", "1", "--http-listen", "off"],
            &self.log,
        ));
    }

    /// SIGKILL and start again: the next round opens new connections.
    fn restart(&mut self) {
        if let Some(mut s) = self.serve.take() {
            sigkill(&mut s.0);
        }
        self.start();
    }

    /// Registers one more birth and waits until the hub holds it.
    fn syncs(&mut self, context: &str) {
        self.node.register_births(&birth_docs(self.births, 1));
        self.births += 1;
        let want = self.births;
        wait_until(
            &format!("{context}: birth {want} at the hub"),
            LIMIT,
            || (self.node.status()["hub_acked"].as_u64() == Some(want)).then_some(()),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_rollover_drill_with_two_offices() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub_dir = dir.path().join("hub");
    let new_root = dir.path().join("new-root-ca");
    hub_ok(&hub_dir, &["pki", "init"]);
    let hub = HubProc::start(&hub_dir, &dir.path().join("hub.log"));
    let url = hub.url();

    // Two offices, enrolled from bundles of the old CA.
    let mut offices = Vec::new();
    for (m, n) in [("prishtine", "1"), ("istog", "1")] {
        let bundle = dir.path().join(format!("bundle-{m}"));
        let b = bundle.to_str().expect("utf-8");
        hub_ok(
            &hub_dir,
            &[
                "pki",
                "issue",
                "--municipality",
                m,
                "--node-id",
                n,
                "--out",
                b,
                "--hub-url",
                &url,
            ],
        );
        let node = NodeDir {
            data_dir: dir.path().join(format!("node-{m}")),
        };
        node.run_ok(&["init", "--bundle", b]);
        node.run_ok(&["clerk", "add", CLERK]);
        let mut o = Office {
            node,
            log: dir.path().join(format!("node-{m}.log")),
            serve: None,
            births: 0,
        };
        o.start();
        o.syncs("before the rollover");
        offices.push(o);
    }
    let old_root = fingerprints(&hub_dir.join("pki/ca.pem"));
    assert_eq!(old_root.len(), 1);

    // Wrong order: nothing to finish, nothing to report.
    let e = hub_refused(&hub_dir, &["pki", "rollover", "finish"]);
    assert!(e.contains("no CA rollover is under way"), "{e}");
    assert_eq!(
        hub_ok(&hub_dir, &["pki", "rollover", "status"])["rollover"],
        Value::Null
    );

    // Start: a new root (made in new_root, to be kept offline) and a new issuing CA under it.
    let r = new_root.to_str().expect("utf-8");
    hub_ok(&hub_dir, &["pki", "rollover", "start", "--root-dir", r]);
    let e = hub_refused(&hub_dir, &["pki", "rollover", "start", "--root-dir", r]);
    assert!(e.contains("already under way"), "{e}");
    let new_root_fp = fingerprints(&new_root.join("root.pem"));
    assert_eq!(new_root_fp.len(), 1);
    assert!(!hub_dir.join("pki/rollover/root.key").exists());
    assert!(!hub_dir.join("pki/rollover/ca.key").exists());

    // Both offices learn the new root over their mTLS channel and keep the old one; the hub
    // hears that they trust it.
    for o in &offices {
        wait_until("the office trusts both roots", LIMIT, || {
            let fp = fingerprints(&o.node.data_dir.join("tls/ca.pem"));
            (fp.contains(&old_root[0]) && fp.contains(&new_root_fp[0])).then_some(())
        });
    }
    wait_until(
        "the hub knows both offices trust the new root",
        LIMIT,
        || {
            let st = hub_ok(&hub_dir, &["pki", "rollover", "status"]);
            ["prishtine/1", "istog/1"]
                .iter()
                .all(|o| office(&st, o)["trusts_new_root"] == true)
                .then_some(())
        },
    );

    // One office renews onto the new CA; the other stays on the old.
    hub_ok(&hub_dir, &["pki", "require-renewal", "prishtine/1"]);
    wait_until("prishtine/1 on the new CA", LIMIT, || {
        let st = hub_ok(&hub_dir, &["pki", "rollover", "status"]);
        (office(&st, "prishtine/1")["on_new_ca"] == true).then_some(())
    });
    let st = hub_ok(&hub_dir, &["pki", "rollover", "status"]);
    assert_eq!(office(&st, "istog/1")["on_new_ca"], false, "{st}");
    assert_eq!(st["ready"], false);

    // Finish is refused while the hub still presents its old-CA certificate.
    let e = hub_refused(&hub_dir, &["pki", "rollover", "finish"]);
    assert!(
        e.contains("still presents a certificate of the old CA"),
        "{e}"
    );

    // The hub's next certificate, of the new CA, is staged and announced to both offices...
    let e = hub_refused(&hub_dir, &["pki", "renew-hub", "--activate"]);
    assert!(e.contains("no hub certificate is staged"), "{e}");
    let staged = hub_ok(&hub_dir, &["pki", "renew-hub", "--stage"]);
    let next_sha = staged["sha256"].as_str().expect("sha256").to_string();
    for o in &offices {
        wait_until("the office knows the hub's next certificate", LIMIT, || {
            let st = full_status(&o.node);
            (st["hub_certs"]["next_sha256"] == next_sha.as_str()).then_some(())
        });
        let out = o.node.run_ok(&["status"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("hub's next certificate") && text.contains(&next_sha),
            "{text}"
        );
    }
    // ... then presented; both offices keep syncing over new connections, the one on the old
    // CA too.
    hub_ok(&hub_dir, &["pki", "renew-hub", "--activate"]);
    for o in offices.iter_mut() {
        o.restart();
        o.syncs("after the hub's certificate switched to the new CA");
        wait_until("the office sees the new hub certificate", LIMIT, || {
            let st = full_status(&o.node);
            (st["hub_certs"]["current_sha256"] == next_sha.as_str()
                && st["hub_certs"]["next_sha256"].is_null())
            .then_some(())
        });
    }

    // Finish is refused while istog/1 holds only an old-CA certificate, naming it.
    let e = hub_refused(&hub_dir, &["pki", "rollover", "finish"]);
    assert!(e.contains("istog/1") && !e.contains("prishtine/1"), "{e}");
    let istog_old_cert =
        std::fs::read(offices[1].node.data_dir.join("tls/cert.pem")).expect("cert");
    let istog_old_key = std::fs::read(offices[1].node.data_dir.join("tls/key.pem")).expect("key");

    hub_ok(&hub_dir, &["pki", "require-renewal", "istog/1"]);
    wait_until("istog/1 on the new CA", LIMIT, || {
        let st = hub_ok(&hub_dir, &["pki", "rollover", "status"]);
        (st["ready"] == true).then_some(())
    });
    let done = hub_ok(&hub_dir, &["pki", "rollover", "finish"]);
    assert!(done["retired"].as_str().is_some(), "{done}");
    assert_eq!(fingerprints(&hub_dir.join("pki/ca.pem")), new_root_fp);
    assert!(!hub_dir.join("pki/rollover").exists());
    let e = hub_refused(&hub_dir, &["pki", "rollover", "finish"]);
    assert!(e.contains("no CA rollover is under way"), "{e}");

    // Both offices drop the old root and still sync, over new connections.
    for o in offices.iter_mut() {
        wait_until("the office trusts the new root alone", LIMIT, || {
            (fingerprints(&o.node.data_dir.join("tls/ca.pem")) == new_root_fp).then_some(())
        });
        o.restart();
        o.syncs("after the rollover finished");
    }

    // A certificate of the old CA is refused now; the office's new one is admitted.
    let new_root_pem = std::fs::read(new_root.join("root.pem")).expect("root");
    let heartbeat = |cert: Vec<u8>, key: Vec<u8>| {
        let url = url.clone();
        let root = new_root_pem.clone();
        async move {
            let tls = ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(root))
                .identity(Identity::from_pem(cert, key))
                .domain_name("localhost");
            let ch = Endpoint::from_shared(url)
                .map_err(|e| e.to_string())?
                .tls_config(tls)
                .map_err(|e| e.to_string())?
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(20))
                .connect()
                .await
                .map_err(|e| common::error_chain(&e))?;
            common::heartbeat(&mut civreg_proto::v1::sync_client::SyncClient::new(ch))
                .await
                .map(|r| r.acked_seq)
                .map_err(|s| format!("{:?}: {}", s.code(), s.message()))
        }
    };
    let refused = heartbeat(istog_old_cert, istog_old_key).await;
    assert!(refused.is_err(), "the old CA's certificate was admitted");
    let tls = offices[1].node.data_dir.join("tls");
    let admitted = heartbeat(
        std::fs::read(tls.join("cert.pem")).expect("cert"),
        std::fs::read(tls.join("key.pem")).expect("key"),
    )
    .await;
    assert_eq!(admitted, Ok(offices[1].births), "{admitted:?}");
    drop(hub);
}

/// During the overlap, the hub admits certificates of both CAs, and revocation refuses either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_the_overlap_both_cas_are_admitted_and_both_can_be_revoked() {
    let hub = common::Hub::start().await;
    let old = hub.issue("istog", "1");
    let roots = tempfile::tempdir().expect("tempdir");
    hub.pki
        .start_rollover(&roots.path().join("new-root"))
        .expect("rollover started");
    let new = hub.issue("prishtine", "1");
    assert!(!hub.pki.issued_by_next(&old.entry.serial).expect("state"));
    assert!(hub.pki.issued_by_next(&new.entry.serial).expect("state"));
    for who in [&old, &new] {
        common::try_heartbeat(&hub, Some((&who.cert_pem, &who.key_pem)))
            .await
            .unwrap_or_else(|e| panic!("{} refused during the overlap: {e}", who.entry.identity));
    }
    for who in [&old, &new] {
        hub.pki.revoke(&who.entry.serial).expect("revoke");
        common::try_heartbeat(&hub, Some((&who.cert_pem, &who.key_pem)))
            .await
            .expect_err("a revoked certificate is refused");
    }
}
