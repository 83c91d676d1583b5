//! The `Sync` gRPC service and what serves it: the service itself (`service`), the group
//! committer that makes pushes durable before they are acknowledged (`committer`), and the TLS
//! acceptor whose configuration follows the CRL and the hub's certificate (`tls`).

pub mod committer;
pub mod service;
pub mod tls;
