//! civreg-hub: the central hub. `ARCHITECTURE.md` has the code map; in short:
//! - `serve`: the composition root, the only module that knows every service;
//! - `sync` (push, pull, heartbeat, renew, chain; the group committer; TLS), `search`, `review`:
//!   the gRPC services, over `grpc` (caller identity, one error-to-status mapping) and `status`
//!   (node liveness);
//! - `store`: the hub's database and its write rules; `linkage`: matching, persons, duplicates,
//!   import; `certificates`, `pki`, `rollout`, `operators`, `access`, `atrest`, `backup`;
//! - `web`: the operator dashboard and `/verify`; `control`: the control socket.
//!
//! - `cli`: the command line, one file per command group (nothing else in the library imports
//!   it); the binary (`src/main.rs`) only calls `cli::main`, and `serve::run` starts the hub
//!   in-process.

pub mod access;
pub mod atrest;
pub mod audit;
pub mod backup;
pub mod certificates;
pub mod clerks;
pub mod cli;
pub mod config;
pub mod control;
pub mod grpc;
pub mod hub_list;
pub mod linkage;
pub mod live;
pub mod metrics;
pub mod migrate;
pub mod operators;
pub mod paths;
pub mod pki;
pub mod review;
pub mod rollout;
pub mod rotate;
pub mod search;
pub mod serve;
pub mod status;
pub mod store;
pub mod sync;
pub mod unvoid;
pub mod web;
