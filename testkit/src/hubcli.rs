//! The `civreg-hub` command line as the hub's tests drive it: one command at a time against a
//! data directory (through its control socket when a hub serves it), on the binary of
//! [`crate::bins::hub_bin`], with no operator taken from the environment.

use crate::bins::hub_bin;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `civreg-hub --data-dir DIR ARGS…` (blocking; from async code use [`hub_json`]).
pub fn hub_run(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(hub_bin())
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("CIVREG_OPERATOR")
        .output()
        .expect("run civreg-hub")
}

/// Runs `civreg-hub --data-dir DIR --json ARGS…` (blocking): its exit code and the JSON
/// document it printed, whatever the exit code (a command that refuses some input still
/// answers with its whole report). Panics, saying what the command printed, when the answer
/// is not JSON.
pub fn hub_json_run(data_dir: &Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = hub_run(data_dir, &all);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "civreg-hub {args:?}: {e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), v)
}

/// Runs `civreg-hub --data-dir DIR --json ARGS…` (blocking), which must exit 0; returns its JSON
/// answer.
pub fn hub_ok_json(data_dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = hub_run(data_dir, &all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "civreg-hub {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json answer")
}

/// [`hub_json_run`] off the async runtime (the command may talk to a hub this test serves).
pub async fn hub_json(data_dir: &Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let d = data_dir.to_path_buf();
    let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        hub_json_run(&d, &refs)
    })
    .await
    .expect("hub command thread")
}

/// [`hub_ok_json`] off the async runtime.
pub async fn hub_ok_json_async(data_dir: &Path, args: &[&str]) -> serde_json::Value {
    let d = data_dir.to_path_buf();
    let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        hub_ok_json(&d, &refs)
    })
    .await
    .expect("hub command thread")
}
