//! civreg-hub: the central hub.
//!
//! Built so far: the agency PKI (`pki`), the hub's store with verified, group-committed ingest
//! and the shared field-level merge (`store`), operators' conflict review and state digests
//! (`review`), and the mutually authenticated gRPC server (`server`) serving push, pull and
//! heartbeat; rollout stages (`rollout`); national search (`search`, `search_service`) and its
//! access log (`access`); identity matching (`matching`); the control socket (`control`); the
//! operator dashboard and `/metrics` (`web`, `metrics`, `operators`); the key file and the modes
//! of the data at rest (`atrest`); citizens' certificates: verification and cancellation
//! (`certificates`), signers and the trust list (`pki::signer`), the public `/verify` page.
//! The binary (`src/main.rs`) only parses arguments; `server::run` starts the hub in-process.

pub mod access;
pub mod atrest;
pub mod backup;
pub mod certificates;
pub mod config;
pub mod control;
pub mod duplicates;
pub mod import;
pub mod live;
pub mod matching;
pub mod metrics;
pub mod operators;
pub mod persons;
pub mod pki;
pub mod review;
pub mod review_service;
pub mod rollout;
pub mod search;
pub mod search_service;
pub mod server;
pub mod store;
pub mod web;
