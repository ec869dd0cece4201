//! The gRPC API of supervisord-rs (`package supervisor.v1`), generated from
//! `proto/supervisor.proto`, plus conversions from `shared` types.

#[allow(unreachable_pub, clippy::all, missing_docs)]
pub mod v1 {
    tonic::include_proto!("supervisor.v1");
}

/// The encoded descriptors, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/supervisor_descriptor.bin"));

/// Metadata keys of a fault carried in a gRPC status.
pub const FAULT_CODE_KEY: &str = "supervisor-fault-code";
pub const FAULT_NAME_KEY: &str = "supervisor-fault-name";

mod convert;
pub use convert::{fault_from_status, status_from_fault};
