//! civreg's test kit: what the tests of the hub, the node and the end-to-end crate share, and
//! the op builders the benchmarks use. A dev-dependency only; never shipped.
//!
//! - [`wait`]: polling against a deadline (async [`wait::wait_for`], sync [`wait::wait_until`]).
//! - [`bins`]: the `civreg-node` / `civreg-hub` binaries under test (built by cargo for the
//!   e2e crate; no test builds anything).
//! - [`process`]: killing, reaping and logging child processes.
//! - [`proxy`]: a TCP proxy that can cut, delay and freeze a link.
//! - [`fleet`]: hub and node processes in throwaway directories.
//! - [`hub`]: a hub in this process, raw gRPC clients, dashboard sessions.
//! - [`node`]: a node in a temporary directory, driven through its binary.
//! - [`hubcli`]: the hub's command line (`civreg-hub --json …`), one command at a time.
//! - [`nodecli`]: the node's command line, one command at a time.
//! - [`ops`]: sealed ops and valid records.
//! - [`postgres`]: a throwaway PostgreSQL cluster (Debian's package), a database per test.
//! - [`http`]: an HTTP client on hyper.
//! - [`browser`]: headless Chromium through chromedriver.
//! - [`rng`]: seeded random sources.
//!
//! [`prelude`] gathers what most hub tests use (`use civreg_testkit::prelude::*`).

pub mod bins;
pub mod browser;
pub mod fleet;
pub mod http;
pub mod hub;
pub mod hubcli;
pub mod node;
pub mod nodecli;
pub mod ops;
pub mod postgres;
pub mod process;
pub mod proxy;
pub mod rng;
pub mod wait;

/// The hub tests' common imports: the in-process hub, op builders, the HTTP client, the node's
/// and the hub's command lines and async polling.
pub mod prelude {
    pub use crate::bins::{hub_bin, node_bin};
    pub use crate::http::*;
    pub use crate::hub::*;
    pub use crate::hubcli::*;
    pub use crate::nodecli::*;
    pub use crate::ops::*;
    pub use crate::rng::XorShift;
    pub use crate::wait::wait_for;
}
