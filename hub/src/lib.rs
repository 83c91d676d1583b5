//! civreg-hub: the central hub.
//!
//! Not built yet: sync (push/pull over mutual TLS), reconciliation, integrated search and the
//! operator dashboard are open work (README, "Not finished"). What exists is the crate, its thin
//! binary, and the wire format it will serve (`civreg_proto::v1`), so that the workspace, CI and
//! the protocol definitions are in place.

/// What the hub can do in this build, said plainly.
pub const STATUS: &str = "civreg-hub is a skeleton in this build: sync, reconciliation, \
search and the operator dashboard are not implemented yet. Nodes work fully offline meanwhile.";

/// The gRPC services the hub will serve, as compiled from `proto/civreg/v1`.
pub fn planned_services() -> Vec<&'static str> {
    vec![civreg_proto::v1::sync_server::SERVICE_NAME]
}
