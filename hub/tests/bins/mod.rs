//! Finding the workspace's binaries from an integration test of the hub (shared by the test
//! support modules).

use std::path::{Path, PathBuf};
use std::process::Command;

/// TARGET/PROFILE, where cargo puts the workspace's binaries (this test runs from
/// TARGET/PROFILE/deps/faults-HASH).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary lives in TARGET/PROFILE/deps")
        .to_path_buf()
}

pub fn find_bin(name: &str, env_var: &str, built_by_cargo: Option<&str>) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "{env_var}={} is not a file", p.display());
        return p;
    }
    let bin = profile_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if bin.is_file() {
        return bin;
    }
    if let Some(p) = built_by_cargo {
        let p = PathBuf::from(p);
        if p.is_file() {
            return p;
        }
    }
    // `cargo test -p civreg-hub` alone does not build the node: build it once, in the same
    // target dir, with cargo's own environment variables for this test removed so build
    // scripts do not see a changed environment.
    let target_dir = profile_dir().parent().expect("target dir").to_path_buf();
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.args(["build", "-p", name, "--bin", name])
        .arg("--target-dir")
        .arg(&target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_BIN_NAME",
            ]
            .contains(&k.as_str())
        {
            cmd.env_remove(&k);
        }
    }
    let ok = cmd.status().map(|s| s.success()).unwrap_or(false);
    assert!(
        ok && bin.is_file(),
        "{} is missing and could not be built: run `cargo build -p {name}` or set {env_var}",
        bin.display()
    );
    bin
}
