//! The `civreg-node` command line as the hub's tests drive it: one command at a time, as clerk
//! `ana`, on the binary of [`crate::bins::node_bin`].

use crate::bins::node_bin;
use std::path::Path;
use std::process::{Command, Output};

pub const CLERK: &str = "ana";
pub const CLERK_PASSWORD: &str = "correct-horse-9";

/// Runs `civreg-node --data-dir DIR ARGS…` as clerk `ana` (blocking; call from
/// `spawn_blocking`).
pub fn node_run(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(node_bin())
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("CIVREG_CLERK", CLERK)
        .env("CIVREG_CLERK_PASSWORD", CLERK_PASSWORD)
        .env("CIVREG_NEW_CLERK_PASSWORD", CLERK_PASSWORD)
        // The tests read the English words.
        .env("CIVREG_LANG", "en")
        .env_remove("CIVREG_DATA_DIR")
        .env_remove("CIVREG_KEY_FILE")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run civreg-node")
}

/// Runs the node binary off the async runtime.
pub async fn node(data_dir: &Path, args: &[&str]) -> Output {
    let d = data_dir.to_path_buf();
    let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        node_run(&d, &refs)
    })
    .await
    .expect("node command thread")
}

/// Describes a finished node command for assertion messages.
pub fn describe(args: &[&str], out: &Output) -> String {
    format!(
        "civreg-node {} -> {:?}\nstdout: {}\nstderr: {}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a node command that must exit 0 and print one JSON document; returns it.
pub async fn node_json(data_dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = node(data_dir, args).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(args, &out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(args, &out)))
}

/// Every JSON line a node command printed.
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Initialises a node from a bundle and adds clerk `ana`.
pub async fn enrol_node(data_dir: &Path, bundle: &Path) {
    let b = bundle.to_str().expect("utf-8 path");
    node_json(data_dir, &["--json", "init", "--bundle", b]).await;
    node_json(data_dir, &["--json", "clerk", "add", CLERK]).await;
}
