//! The storalloc storage-server agent.
//!
//! One agent runs per storage node. It registers the node (from the system
//! file) with the orchestrator, announces what it already holds, keeps a
//! heartbeat, and executes the orchestrator's Allocate/Release commands
//! through a [`StorageBackend`] chosen per disk.

pub mod agent;
mod atomic_file;
pub mod backend;
pub mod backoff;
pub mod conformance;
pub mod disks;
pub mod node;
pub mod simulate;

pub use agent::{run, AgentError, AgentEvent, AgentOptions};
pub use backend::{AttachmentInfo, BackendError, BlockSpec, HeldBlock, StorageBackend};
pub use backoff::Backoff;
pub use disks::{DiskBackends, SetupError};
pub use simulate::{SimulateBackend, SimulatedNode};
