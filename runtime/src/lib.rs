//! What hub and node both do with the operating system, written once: files replaced
//! atomically and durably ([`fs`]), a rotated key file swapped in ([`keyswap`]), the time ([`clock`]), sled's blob files made durable
//! ([`blobs`]), and the local control socket's server ([`control`]).
//!
//! Architecture invariant: `civreg-shared` does no I/O; whatever both binaries do with files,
//! sockets or the clock lives here, so that the two never drift apart. This crate knows neither
//! tonic nor sled, nor the hub's or the node's types: the control server is generic over the
//! request it reads and the answer it sends.

pub mod backup;
pub mod blobs;
pub mod clock;
pub mod control;
pub mod fs;
pub mod keyswap;
