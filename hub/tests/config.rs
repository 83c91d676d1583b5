//! The config file's `[sync]`, `[web]` and `[search]` sections reach the code that uses them:
//! a short `web.session_idle_s` ends a dashboard session, a short `sync.handshake_timeout_s`
//! drops a client that never finishes its TLS handshake; and the real binary prints the
//! sections with `--dump-config` and refuses a value out of range by its key's name.

use civreg_testkit::prelude as common;

use civreg_hub::config::{load, Config, Overrides};
use civreg_hub::pki::Pki;
use civreg_hub::{paths, serve};
use common::{http_request, make_hub_key, start_web_hub, WebSession};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

const OPERATOR: &str = "vjosa";
const PASSWORD: &str = "long-enough-secret-1";

/// The configuration a hub started with `--config FILE` (holding `text`) runs with.
fn config_from(dir: &Path, text: &str) -> Config {
    let f = dir.join("hub.toml");
    std::fs::write(&f, text).unwrap();
    load(
        Vec::new(),
        Overrides {
            config: Some(f),
            ..Default::default()
        },
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_short_session_idle_from_the_config_file_ends_a_dashboard_session() {
    let d = tempfile::tempdir().unwrap();
    let cfg = config_from(d.path(), "[web]\nsession_idle_s = 1\n");
    let (hub, web) = start_web_hub(cfg.web_settings()).await;
    civreg_hub::control::ask::add_operator(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();
    let s = WebSession::login(&web, OPERATOR, PASSWORD).await.unwrap();
    assert_eq!(s.get("/").await.status, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = s.get("/").await;
    assert_eq!(
        r.status, 303,
        "the session outlived web.session_idle_s: {r:?}"
    );
    assert_eq!(r.header("location"), Some("/login"));
    hub.stop().await;

    // The default (30 minutes) keeps it over the same wait.
    let cfg = config_from(d.path(), "");
    let (hub, web) = start_web_hub(cfg.web_settings()).await;
    civreg_hub::control::ask::add_operator(hub.data_dir(), OPERATOR, PASSWORD, false).unwrap();
    let s = WebSession::login(&web, OPERATOR, PASSWORD).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(s.get("/").await.status, 200);
    assert_eq!(http_request(&web, "GET", "/", None, None).await.status, 303);
    hub.stop().await;
}

/// Seconds until the hub closes a TCP connection that never starts its TLS handshake.
async fn silent_client_dropped_after(sync: civreg_hub::config::SyncSettings) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    Pki::init(&paths::pki_dir(dir.path()), &[]).unwrap();
    make_hub_key(dir.path());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let data = dir.path().to_path_buf();
    let task = tokio::spawn(async move {
        let opts = serve::RunOptions {
            sync,
            ..Default::default()
        };
        serve::run_with(&data, listener, opts, async {
            let _ = rx.await;
        })
        .await
    });
    let sock = civreg_hub::control::socket_path(dir.path());
    common::wait_for("the hub to start", Duration::from_secs(30), || {
        std::os::unix::net::UnixStream::connect(&sock).ok()
    })
    .await;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 64];
    // Closed (0 bytes or reset) when the hub gives up on the handshake.
    let closed = tokio::time::timeout(Duration::from_secs(30), tcp.read(&mut buf)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "the hub should close the silent connection: {closed:?}"
    );
    let took = start.elapsed();
    let _ = tx.send(());
    let _ = task.await;
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_handshake_timeout_from_the_config_is_the_one_in_force() {
    let d = tempfile::tempdir().unwrap();
    let cfg = config_from(d.path(), "[sync]\nhandshake_timeout_s = 1\n");
    assert_eq!(cfg.sync.handshake_timeout_s, 1);
    let took = silent_client_dropped_after(cfg.sync).await;
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "dropped after {took:?}, not after about 1 s"
    );
}

fn hub_bin(args: &[&str], config: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_civreg-hub"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("CIVREG_HUB_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn the_binary_dumps_the_sections_and_refuses_a_value_out_of_range_by_name() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("hub.toml");
    std::fs::write(
        &f,
        "[sync]\ngroup_max_ops = 2048\n[web]\nsession_max_s = 3600\n[search]\nindex_interval_ms = 250\n",
    )
    .unwrap();
    let out = hub_bin(&["--dump-config"], &f);
    let dump = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    for line in [
        "[sync]",
        "group_max_ops = 2048",
        "group_max_pushes = 64",
        "keepalive_interval_s = 20",
        "[web]",
        "session_max_s = 3600",
        "session_idle_s = 1800",
        "[search]",
        "index_interval_ms = 250",
    ] {
        assert!(dump.lines().any(|l| l == line), "{line} missing in\n{dump}");
    }
    // The deployment example is a valid config, and says the defaults.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/hub.example.toml");
    let out = hub_bin(&["--dump-config"], &example);
    assert!(out.status.success(), "{out:?}");
    let defaults = config_from(d.path(), "");
    let example_cfg = config_from(d.path(), &std::fs::read_to_string(&example).unwrap());
    assert_eq!(example_cfg.sync, defaults.sync);
    assert_eq!(example_cfg.web, defaults.web);
    assert_eq!(example_cfg.search, defaults.search);

    std::fs::write(&f, "[sync]\ngroup_max_ops = 0\n").unwrap();
    let out = hub_bin(&["--dump-config"], &f);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("sync.group_max_ops = 0") && err.contains("allowed 1 to"),
        "{err}"
    );
    std::fs::write(&f, "[web]\nsession_idle_s = -60\n").unwrap();
    let out = hub_bin(&["serve"], &f);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("web.session_idle_s = -60"), "{err}");
}

/// `hub_urls` of the config (issue 19): `pki issue` without `--hub-url` writes the list into
/// the bundle, `status` shows it, and a list naming a host the hub's certificate does not carry
/// is refused by `pki issue` with the `pki renew-hub` command that adds it.
#[test]
fn pki_issue_takes_the_configs_hub_urls_and_status_shows_them() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("hub");
    let data_s = data.to_str().unwrap();
    let f = d.path().join("hub.toml");
    std::fs::write(
        &f,
        "hub_urls = [\"https://hub-a.civreg.rks:7443\", \"https://hub-b.civreg.rks:7443\"]\n",
    )
    .unwrap();
    let init = hub_bin(
        &[
            "--data-dir",
            data_s,
            "pki",
            "init",
            "--hub-name",
            "hub-a.civreg.rks",
            "--hub-name",
            "hub-b.civreg.rks",
        ],
        &f,
    );
    assert!(init.status.success(), "{init:?}");
    let bundle = d.path().join("bundle");
    let issue = |config: &Path, out: &Path| {
        hub_bin(
            &[
                "--data-dir",
                data_s,
                "pki",
                "issue",
                "--municipality",
                "prishtine",
                "--node-id",
                "1",
                "--out",
                out.to_str().unwrap(),
            ],
            config,
        )
    };
    let out = issue(&f, &bundle);
    assert!(out.status.success(), "{out:?}");
    let b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("bundle.json")).unwrap()).unwrap();
    assert_eq!(
        b["hub_urls"],
        serde_json::json!([
            "https://hub-a.civreg.rks:7443",
            "https://hub-b.civreg.rks:7443"
        ]),
        "{b}"
    );
    assert_eq!(b["hub_url"], "https://hub-a.civreg.rks:7443", "{b}");
    let st = hub_bin(&["--data-dir", data_s, "status"], &f);
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(st.status.success(), "{st:?}");
    assert!(
        text.contains("hubs: https://hub-a.civreg.rks:7443, https://hub-b.civreg.rks:7443"),
        "{text}"
    );
    let st = hub_bin(&["--data-dir", data_s, "--json", "status"], &f);
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(v["hub_urls"][1], "https://hub-b.civreg.rks:7443", "{v}");

    // A third hub the certificate does not name: refused, nothing written.
    let g = d.path().join("hub-c.toml");
    std::fs::write(
        &g,
        "hub_urls = [\"https://hub-a.civreg.rks:7443\", \"https://hub-c.civreg.rks:7443\"]\n",
    )
    .unwrap();
    let refused_dir = d.path().join("bundle-c");
    let out = issue(&g, &refused_dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        err.contains("hub_urls in the config: hub address https://hub-c.civreg.rks:7443")
            && err.contains("does not name hub-c.civreg.rks")
            && err.contains(
                "civreg-hub pki renew-hub --hub-name hub-a.civreg.rks --hub-name hub-b.civreg.rks --hub-name hub-c.civreg.rks`"
            ),
        "{err}"
    );
    assert!(!refused_dir.exists());
}
