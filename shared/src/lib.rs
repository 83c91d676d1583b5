//! The civreg domain, in plain Rust: record model, ids, validation, name normalisation, the op
//! log's canonical encoding and hashing, and the municipality gazetteer.
//!
//! Architecture invariant: this crate depends on neither tonic nor sled. Hub and node both build
//! on it, so a rule written here (a validation, a hash, a merge) is the same rule everywhere.

pub mod annotation;
pub mod config;
pub mod control;
pub mod csvrows;
pub mod fields;
pub mod gazetteer;
pub mod hubs;
pub mod i18n;
pub mod i18n_jinja;
pub mod ids;
pub mod limits;
pub mod linkage;
pub mod merge;
pub mod model;
pub mod normalize;
pub mod op;
pub mod pnum;
pub mod query;
pub mod redact;
pub mod roster;
pub mod seal;
pub mod snapshot;
pub mod synth;
pub mod validate;
pub mod webguard;
