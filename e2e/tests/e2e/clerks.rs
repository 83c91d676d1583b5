//! Clerk accounts kept at the hub (issue 17): an office's clerks are added, one's password is
//! changed and one is removed through a running `serve`; a sync takes the roster to the hub;
//! `serve` is killed with SIGKILL and the data directory deleted (the PC is gone). Then
//! `init --bundle B --recover` gives the accounts back: each clerk signs in with their own,
//! newest password, an old password and the removed clerk do not, and the report says how many
//! came back. The hub kept hashes only: no password is in clear anywhere in its data directory.

use civreg_testkit::prelude as common;

use common::*;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// `civreg-node --data-dir DIR ARGS…` signed in as `clerk` with `password`; a new password (for
/// `clerk add` and `clerk password`) from `new_password`.
async fn as_clerk(
    data_dir: &Path,
    clerk: &str,
    password: &str,
    new_password: &str,
    args: &[&str],
) -> Output {
    let mut cmd = Command::new(node_bin());
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("CIVREG_CLERK", clerk)
        .env("CIVREG_CLERK_PASSWORD", password)
        .env("CIVREG_NEW_CLERK_PASSWORD", new_password)
        .env("CIVREG_LANG", "en")
        .env_remove("CIVREG_DATA_DIR")
        .env_remove("CIVREG_KEY_FILE")
        .env("RUST_LOG", "warn");
    tokio::task::spawn_blocking(move || cmd.output().expect("run civreg-node"))
        .await
        .expect("node command thread")
}

/// `civreg-node serve` on `data_dir`, killed (SIGKILL) when dropped.
struct Serve(Child);

impl Serve {
    fn start(data_dir: &Path) -> Serve {
        let child = Command::new(node_bin())
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--interval-secs", "3600", "--http-listen", "off"])
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

/// Every file under `dir` that holds `needle`.
fn files_holding(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    found.push(p.display().to_string());
                }
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recover_gives_back_the_clerk_accounts_with_their_newest_passwords() {
    let hub = Hub::start().await;
    let bundle = hub.bundle("prishtine", "1");
    let work = tempfile::tempdir().expect("tempdir");
    let office = work.path().join("office");
    enrol_node(&office, &bundle).await;
    let regno = {
        let file = work.path().join("birth.json");
        std::fs::write(
            &file,
            serde_json::json!({
                "child": {"given_name": "Arben", "surname": "Gashi", "sex": "male", "date_of_birth": "2020-03-14"},
                "place_of_birth": "Prishtinë",
                "mother": {"given_name": "Drita", "surname": "Gashi", "maiden_surname": "Berisha"}
            })
            .to_string(),
        )
        .expect("write");
        let v = node_json(
            &office,
            &[
                "--json",
                "register",
                "birth",
                "--file",
                file.to_str().unwrap(),
            ],
        )
        .await;
        v["regno"].as_str().expect("regno").to_string()
    };

    // The office works through serve: two clerks added (and a third), one password changed,
    // the third removed; then a sync.
    let serve = Serve::start(&office);
    wait_for("serve", Duration::from_secs(30), || {
        office.join("node.sock").exists().then_some(())
    })
    .await;
    let ana = (CLERK, CLERK_PASSWORD);
    for (args, new_pw) in [
        (vec!["--json", "clerk", "add", "drita"], "drita-first-pw"),
        (vec!["--json", "clerk", "add", "besnik"], "besnik-pw-123"),
        (vec!["--json", "clerk", "add", "vjosa"], "vjosa-pw-1234"),
        (
            vec!["--json", "clerk", "password", "drita"],
            "drita-second-pw",
        ),
        (vec!["--json", "clerk", "remove", "vjosa"], ""),
    ] {
        let out = as_clerk(&office, ana.0, ana.1, new_pw, &args).await;
        assert_eq!(out.status.code(), Some(0), "{}", describe(&args, &out));
    }
    let out = node(&office, &["--json", "sync", "--once"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&["sync"], &out));

    // The PC dies.
    drop(serve);
    std::fs::remove_dir_all(&office).expect("delete the data dir");

    // Someone first sets the new PC up as a new office (`init --bundle` without `--recover`)
    // and adds a clerk: it finds itself behind its own log at the hub and stops, and its
    // roster does not replace the office's at the hub.
    let wrong = work.path().join("wrong");
    enrol_node(&wrong, &bundle).await;
    let out = node(&wrong, &["--json", "sync", "--once"]).await;
    assert_ne!(out.status.code(), Some(0), "{}", describe(&["sync"], &out));

    // A new PC, from the same bundle, rebuilt from the hub.
    let b = bundle.to_str().expect("utf-8");
    let args = ["--json", "init", "--bundle", b, "--recover"];
    let out = node(&office, &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&args, &out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["clerks"]["restored"]["restored"], 3, "{r}");
    assert_eq!(r["clerks"]["count"], 3, "{r}");
    assert_eq!(r["clerks"]["pending"], false, "{r}");
    let again = work.path().join("again");
    let text_args = ["init", "--bundle", b, "--recover"];
    let out = node(&again, &text_args).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("clerk accounts restored from the hub: 3"),
        "{}",
        describe(&text_args, &out)
    );
    assert!(text.contains("were not restored"), "{text}");

    // Each clerk signs in with their own, newest password; an old password and the removed
    // clerk do not.
    // (`export` needs a signed-in clerk.)
    let show = ["export"];
    for (clerk, pw, ok) in [
        ("ana", CLERK_PASSWORD, true),
        ("drita", "drita-second-pw", true),
        ("besnik", "besnik-pw-123", true),
        ("drita", "drita-first-pw", false),
        ("vjosa", "vjosa-pw-1234", false),
    ] {
        let out = as_clerk(&office, clerk, pw, "", &show).await;
        if ok {
            assert_eq!(
                out.status.code(),
                Some(0),
                "{clerk}: {}",
                describe(&show, &out)
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains(&regno));
        } else {
            assert_ne!(out.status.code(), Some(0), "{clerk} with {pw} signed in");
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("unknown clerk or wrong password"),
                "{clerk}: {}",
                describe(&show, &out)
            );
        }
    }
    let names = node_json(&office, &["--json", "clerk", "list"]).await;
    assert_eq!(names, serde_json::json!(["ana", "besnik", "drita"]));

    // The hub kept hashes, never a password.
    let (dir, store) = hub.stop().await;
    let held = civreg_hub::clerks::held(&store, "prishtine", "1")
        .expect("read")
        .expect("held");
    assert_eq!(held.roster.clerks.len(), 3);
    assert!(held.roster.clerks.iter().all(|c| c
        .password_hash
        .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")));
    drop(store);
    for pw in ["drita-second-pw", "besnik-pw-123", CLERK_PASSWORD] {
        assert_eq!(
            files_holding(dir.path(), pw.as_bytes()),
            Vec::<String>::new()
        );
    }
}
