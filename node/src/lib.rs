//! civreg-node: a municipal office's register, offline-capable, on an embedded sled database.
//!
//! The binary (`src/main.rs`) only parses arguments, layers them over the config file
//! ([`config`]) and calls [`cli::run`]; everything else is
//! here so tests and benchmarks drive the same code.

pub mod appcert;
pub mod aside;
pub mod backup;
pub mod cli;
pub mod clitext;
pub mod config;
pub mod control;
pub mod crypto;
pub mod enrol;
pub mod guard;
pub mod hublist;
pub mod hubtrust;
pub mod import;
pub mod index;
pub mod node;
pub mod recovery;
pub mod renew;
pub mod rotate;
pub mod session;
pub mod store;
pub mod sync;
pub mod web;
pub mod worker;
