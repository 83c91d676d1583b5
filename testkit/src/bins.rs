//! The `civreg-node` and `civreg-hub` binaries the process tests run: always built by cargo
//! from the current code, never by a test.
//!
//! Cargo builds a package's `[[bin]]` targets before it runs that package's integration tests,
//! and tells them where each is in `CARGO_BIN_EXE_<name>` (at build time, and at run time
//! too with a recent cargo). The end-to-end crate (`e2e/`) declares two binaries compiled from the
//! shipped sources (`node/src/main.rs`, `hub/src/main.rs`): `civreg-e2e-node` and
//! `civreg-e2e-hub`; the node's own tests get `civreg-node`. These functions take whichever of
//! those the running test was given. `CIVREG_NODE_BIN` / `CIVREG_HUB_BIN` name other binaries
//! instead (e.g. an installed release).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The node binary's name in the e2e crate.
pub const NODE_BIN: &str = "civreg-e2e-node";
/// The hub binary's name in the e2e crate.
pub const HUB_BIN: &str = "civreg-e2e-hub";

/// TARGET/PROFILE, where cargo puts the binaries of the package whose test is running (the
/// test runs from TARGET/PROFILE/deps/NAME-HASH): for an older cargo, which sets
/// `CARGO_BIN_EXE_*` only while it compiles the test.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary lives in TARGET/PROFILE/deps")
        .to_path_buf()
}

/// `env_var` if set; else the first of `names` cargo gave the running test.
fn find(env_var: &str, names: &[&str]) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "{env_var}={} is not a file", p.display());
        return p;
    }
    if let Some(p) = names
        .iter()
        .find_map(|n| std::env::var_os(format!("CARGO_BIN_EXE_{n}")))
    {
        return PathBuf::from(p);
    }
    let bin = profile_dir().join(format!("{}{}", names[0], std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: the tests that run it are in the end-to-end crate, whose binary it is \
         (`cargo test -p civreg-e2e`), or set {env_var}",
        bin.display()
    );
    bin
}

/// The `civreg-node` binary under test (`CIVREG_NODE_BIN` overrides).
pub fn node_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| find("CIVREG_NODE_BIN", &[NODE_BIN, "civreg-node"]))
        .clone()
}

/// The `civreg-hub` binary under test (`CIVREG_HUB_BIN` overrides).
pub fn hub_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| find("CIVREG_HUB_BIN", &[HUB_BIN, "civreg-hub"]))
        .clone()
}
