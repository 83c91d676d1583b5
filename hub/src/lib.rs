//! civreg-hub: the central hub.
//!
//! Built so far: the agency PKI (`pki`), the hub's store with verified, group-committed ingest
//! (`store`), and the mutually authenticated gRPC server (`server`) serving push, pull and
//! heartbeat. Not built yet: reconciliation, national search, the dashboard (README, "Not finished").
//! The binary (`src/main.rs`) only parses arguments; `server::run` starts the hub in-process.

pub mod config;
pub mod control;
pub mod pki;
pub mod server;
pub mod store;
