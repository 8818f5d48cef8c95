//! The engine behind the `storalloc.v1` gRPC services.

mod admin;
mod agent;
pub(crate) mod client;
pub mod convert;
mod handle;
mod secure;
mod server;
pub mod wire;

pub use client::{status_to_proto, GID_HEADER, UID_HEADER};
pub use handle::{EngineHandle, LiveEngine};
pub use secure::Security;
pub use server::{
    read_endpoints, Endpoints, Orchestrator, OrchestratorError, OrchestratorOptions, ENDPOINTS_FILE,
};
