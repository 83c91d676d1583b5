//! The node's config file through the real binary: `--config` / `CIVREG_NODE_CONFIG` choose the
//! data directory a command works in, `CIVREG_NODE_*` and flags win over the file,
//! `--dump-config` prints the layers' result (also without a command), and mistakes (an unknown
//! key, a value out of range, an unknown variable) stop the node with the key's name.

use std::path::Path;
use std::process::{Command, Output};

fn node(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_civreg-node"));
    c.args(args);
    // Whatever the environment of the test run says, only what the test sets.
    for (k, _) in std::env::vars() {
        if k.starts_with("CIVREG_") {
            c.env_remove(k);
        }
    }
    // The English words, unless the test says otherwise.
    c.env("CIVREG_LANG", "en");
    for (k, v) in vars {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn write(path: &Path, s: &str) -> String {
    std::fs::write(path, s).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn the_config_file_chooses_the_data_dir_and_the_layers_apply_in_order() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("from-file");
    let f = write(
        &d.path().join("node.toml"),
        &format!(
            "version = 1\ndata_dir = {:?}\n[sync]\ninterval_s = 30\n[backup]\nkeep = 3\n",
            data.to_str().unwrap()
        ),
    );
    // A real command works in the file's data directory.
    let out = node(
        &[
            "--config",
            &f,
            "init",
            "--municipality",
            "prishtine",
            "--node-id",
            "1",
        ],
        &[],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(data.join("node.key").exists(), "{:?}", text(&out));
    let (_, err) = text(&node(&["--config", &f, "status"], &[]));
    assert!(!err.contains("not initialised"), "{err}");

    // --dump-config, with no command, through CIVREG_NODE_CONFIG.
    let out = node(&["--dump-config"], &[("CIVREG_NODE_CONFIG", &f)]);
    let (dump, err) = text(&out);
    assert!(out.status.success(), "{err}");
    for line in ["[sync]", "interval_s = 30", "[backup]", "keep = 3"] {
        assert!(dump.lines().any(|l| l == line), "{line} in\n{dump}");
    }
    assert!(dump.contains(data.to_str().unwrap()), "{dump}");
    // The environment over the file, a flag over both.
    let vars = [
        ("CIVREG_NODE_CONFIG", f.as_str()),
        ("CIVREG_NODE_SYNC_INTERVAL_S", "60"),
        ("CIVREG_NODE_BACKUP_DIR", "/media/usb"),
    ];
    let (dump, _) = text(&node(&["serve", "--dump-config"], &vars));
    assert!(dump.contains("interval_s = 60"), "{dump}");
    assert!(dump.contains("dir = \"/media/usb\""), "{dump}");
    let (dump, _) = text(&node(
        &[
            "serve",
            "--interval-secs",
            "7",
            "--data-dir",
            "/x",
            "--dump-config",
        ],
        &vars,
    ));
    assert!(dump.contains("interval_s = 7"), "{dump}");
    assert!(dump.contains("data_dir = \"/x\""), "{dump}");
    // The older variable is still read, as a flag.
    let (dump, _) = text(&node(
        &["--dump-config"],
        &[
            ("CIVREG_NODE_CONFIG", f.as_str()),
            ("CIVREG_DATA_DIR", "/older"),
        ],
    ));
    assert!(dump.contains("data_dir = \"/older\""), "{dump}");

    // The deployment example is a valid config with the defaults.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/node.example.toml");
    let out = node(
        &["--config", example.to_str().unwrap(), "--dump-config"],
        &[],
    );
    let (dump, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        dump.contains("interval_s = 5") && dump.contains("keep = 7"),
        "{dump}"
    );

    // Without --dump-config a command is still required.
    let out = node(&["--config", &f], &[]);
    assert!(!out.status.success());
}

#[test]
fn mistakes_stop_the_node_with_the_key_named() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("node.toml");
    let cases = [
        ("[sync]\ninterval_s = 0\n", "sync.interval_s = 0"),
        ("[backup]\nkeep = -2\n", "backup.keep = -2"),
        ("[backup]\nkepe = 2\n", "kepe"),
        ("data_dri = \"/x\"\n", "data_dri"),
    ];
    for (file, named) in cases {
        let f = write(&p, file);
        let out = node(&["--config", &f, "status"], &[]);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{file}: {err}");
        assert!(err.contains(named), "{file}: {err}");
    }
    let out = node(&["status"], &[("CIVREG_NODE_SYNC_INTERVALL", "5")]);
    let (_, err) = text(&out);
    assert!(!out.status.success());
    assert!(err.contains("CIVREG_NODE_SYNC_INTERVALL"), "{err}");
    let out = node(&["serve"], &[("CIVREG_NODE_SYNC_INTERVAL_S", "-1")]);
    let (_, err) = text(&out);
    assert!(!out.status.success());
    assert!(err.contains("sync.interval_s = -1"), "{err}");
}
