//! The storalloc storage-server agent.
//!
//! One agent runs per storage node. It registers the node (from the system
//! file) with the orchestrator, announces what it already holds, keeps a
//! heartbeat, and executes the orchestrator's Allocate/Release commands
//! through a [`StorageBackend`] chosen per disk.

pub mod agent;
mod atomic_file;
pub mod backend;
pub mod backend_dry_run;
pub mod backend_fs;
pub mod backend_nvmet;
pub mod backoff;
pub mod conformance;
pub mod disks;
mod host_os;
mod loop_image;
pub mod node;
mod nvmet_configfs;
pub mod nvmet_json;
pub mod orphans;
pub mod real_backends;
pub mod refusal;
mod served_disks;

pub use agent::{run, run_secure, run_signed, AgentError, AgentEvent, AgentOptions};
pub use backend::{AttachmentInfo, BackendError, BlockSpec, HeldBlock, StorageBackend};
pub use backend_dry_run::{DryRunBackend, DryRunNode};
pub use backend_fs::{FsBackend, FsDisk};
pub use backend_nvmet::{allocation_nqn, NvmetBackend, NvmetConfig, NvmetDisk, NvmetPort};
pub use backoff::Backoff;
pub use disks::{DiskBackends, SetupError};
pub use orphans::PendingOrphans;
pub use real_backends::BackendSettings;
pub use refusal::Refusal;
