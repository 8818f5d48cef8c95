//! The `storalloc.v1` gRPC API. See `proto/storalloc/v1/*.proto` and
//! docs/api.md for the compatibility rules.

pub mod v1 {
    #![allow(clippy::large_enum_variant, clippy::doc_lazy_continuation)]
    tonic::include_proto!("storalloc.v1");
}

/// The orchestrator's stored records (schema 2); not an API.
pub mod store {
    pub mod v2 {
        tonic::include_proto!("storalloc.store.v2");
    }
}

/// JSON views of the messages, shared by the CLI's `--json` output and the
/// orchestrator's dashboard.
pub mod json;
