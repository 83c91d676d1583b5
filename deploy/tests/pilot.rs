//! The README's main command, run by the test suite: `deploy/pilot.sh --cut-link` on free ports
//! with the workspace's binaries reaches the state where all three pilot offices have synced,
//! cuts Istog's link, registers there while it is down, and sees it catch up when the link returns.

use std::path::{Path, PathBuf};
use std::process::Command;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn bin_dir() -> PathBuf {
    // TARGET/PROFILE/deps/pilot-HASH → TARGET/PROFILE
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

#[test]
fn the_pilot_syncs_all_three_offices_and_recovers_a_cut_link() {
    let bins = bin_dir();
    for b in ["civreg-node", "civreg-hub"] {
        assert!(
            bins.join(b).is_file(),
            "{} is missing: run the workspace's tests (cargo test --workspace), which build it",
            bins.join(b).display()
        );
    }
    let link = PathBuf::from(env!("CARGO_BIN_EXE_civreg-link"));
    let bin_dir = link.parent().expect("bin dir").to_path_buf();
    assert_eq!(bin_dir, bins);
    let data = tempfile::tempdir().expect("tempdir");
    // Two consecutive ports: the hub's and the cut-able link's.
    let port = loop {
        let p = free_port();
        if p < 65000 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            break p;
        }
    };
    // Three consecutive ports for the offices' clerk apps.
    let apps = loop {
        let p = free_port();
        if p < 65000 && (1..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", p + i)).is_ok()) {
            break p;
        }
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("pilot.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("--cut-link")
        .env("PILOT_BIN_DIR", &bins)
        .env("PILOT_DATA", data.path())
        .env("PILOT_PORT", port.to_string())
        .env("PILOT_HTTP_PORT", free_port().to_string())
        .env("PILOT_APP_PORT", apps.to_string())
        .env("PILOT_SECONDS", "1")
        .env("PILOT_CUT_SECONDS", "3")
        // The assertions read the command line's English words (its default is Albanian).
        .env("CIVREG_LANG", "en")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run deploy/pilot.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "pilot failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for m in ["istog", "mitrovice-jugut", "prishtine"] {
        assert!(
            stdout.contains(&format!("{m}: synced")),
            "{m} never synced\n{stdout}"
        );
    }
    assert!(
        stdout.contains("national answer"),
        "searches went to the hub\n{stdout}"
    );
    assert!(
        !stdout.contains("national answer (the hub's register): 0 found"),
        "every demo search finds records\n{stdout}"
    );
    assert!(stdout.contains("dashboard:  http://127.0.0.1:"), "{stdout}");
    // Every office's clerk app was answering, and its address and login are printed.
    for (i, m) in ["istog", "mitrovice-jugut", "prishtine"].iter().enumerate() {
        let line = format!(
            "clerk app of {:<16} http://127.0.0.1:{}   login: pilot",
            format!("{m}:"),
            apps + i as u16
        );
        assert!(stdout.contains(&line), "no {line:?}\n{stdout}");
    }
    // After the cut: Istog synced a second time, with what it registered offline.
    assert_eq!(stdout.matches("istog: synced").count(), 2, "{stdout}");
    let status: serde_json::Value = serde_json::from_slice(
        &Command::new(bins.join("civreg-node"))
            .arg("--data-dir")
            .arg(data.path().join("istog"))
            .args(["--json", "status"])
            .output()
            .expect("status")
            .stdout,
    )
    .expect("status JSON");
    assert_eq!(status["status"]["ops_waiting"], 0, "{status}");
    assert_eq!(status["status"]["online"], true, "{status}");
}

#[test]
fn the_pilot_stops_with_a_clear_message_when_a_port_is_taken() {
    let data = tempfile::tempdir().expect("tempdir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("pilot.sh");
    let out = Command::new("bash")
        .arg(&script)
        // Never reached: the check comes before anything is built or started.
        .env("PILOT_BIN_DIR", data.path())
        .env("PILOT_DATA", data.path())
        .env("PILOT_PORT", free_port().to_string())
        .env("PILOT_HTTP_PORT", port.to_string())
        .env("PILOT_APP_PORT", free_port().to_string())
        .output()
        .expect("run pilot.sh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "port {port} for the dashboard (PILOT_HTTP_PORT) is taken"
        )),
        "{err}"
    );
    // Nothing was started or created.
    assert!(!data.path().join("hub").exists());
    drop(taken);
}
