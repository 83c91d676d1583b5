//! The civreg wire format. Only this crate knows protobuf; everything else works with
//! `civreg_shared` types, converted and validated at this boundary.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    tonic::include_proto!("civreg.v1");
}
