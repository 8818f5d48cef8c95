//! The storage backend trait: what an agent does to a disk when the
//! orchestrator says allocate or release.
//!
//! Every backend (simulate today; fs and nvmet later) owns the truth about
//! what it holds, because that truth has to survive an agent restart: a real
//! nvmet subsystem outlives the process that created it, so the simulated one
//! does too (it is kept in a JSON file in the agent's state dir). The agent
//! asks [`StorageBackend::list_held`] at start-up and announces the result in
//! `Register.held`.
//!
//! Both operations are idempotent, because the orchestrator re-sends every
//! command whose result it has not recorded: applying an allocation that is
//! already held returns the same attachment, releasing one that is not held
//! succeeds.

use serde::{Deserialize, Serialize};
use storalloc_proto::v1 as pb;

/// What the agent must create: one block of one allocation on one disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSpec {
    pub allocation_id: u64,
    pub disk: u32,
    pub capacity_bytes: u64,
    pub start_unix: i64,
    pub end_unix: i64,
    pub owner_uid: u32,
    pub owner_gid: u32,
    /// NVMe-oF host NQNs allowed to attach; empty means the backend's default
    /// policy (nvmet must not fall back to allow-any-host).
    pub host_nqns: Vec<String>,
}

impl From<&pb::AllocateCommand> for BlockSpec {
    fn from(c: &pb::AllocateCommand) -> Self {
        BlockSpec {
            allocation_id: c.allocation_id,
            disk: c.disk,
            capacity_bytes: c.capacity_bytes,
            start_unix: c.start_unix,
            end_unix: c.end_unix,
            owner_uid: c.owner_uid,
            owner_gid: c.owner_gid,
            host_nqns: c.host_nqns.clone(),
        }
    }
}

/// How a client reaches one block; mirrors `storalloc.v1.Attachment` but is
/// serialisable so backends can persist it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AttachmentInfo {
    /// `nvme` or `directory`.
    pub kind: String,
    #[serde(default)]
    pub nqn: String,
    #[serde(default)]
    pub transport: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub port: u32,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub connect_command: String,
}

impl From<AttachmentInfo> for pb::Attachment {
    fn from(a: AttachmentInfo) -> Self {
        pb::Attachment {
            r#type: a.kind,
            nqn: a.nqn,
            transport: a.transport,
            address: a.address,
            port: a.port,
            path: a.path,
            connect_command: a.connect_command,
        }
    }
}

/// One block a backend currently holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBlock {
    pub allocation_id: u64,
    pub disk: u32,
    pub capacity_bytes: u64,
    pub attachment: AttachmentInfo,
}

impl From<HeldBlock> for pb::HeldAllocation {
    fn from(h: HeldBlock) -> Self {
        pb::HeldAllocation {
            allocation_id: h.allocation_id,
            disk: h.disk,
            capacity_bytes: h.capacity_bytes,
            attachment: Some(h.attachment.into()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("disk {disk} does not exist on {host} (it has {count} disks)")]
    NoSuchDisk {
        host: String,
        disk: u32,
        count: usize,
    },
    #[error("allocation {allocation_id} on disk {disk} asks for {requested} bytes but the disk holds only {capacity}")]
    TooLarge {
        allocation_id: u64,
        disk: u32,
        requested: u64,
        capacity: u64,
    },
    #[error("allocation {allocation_id} is already held on disk {disk} with {held} bytes, not {requested}")]
    Conflict {
        allocation_id: u64,
        disk: u32,
        held: u64,
        requested: u64,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: unreadable backend state: {message}")]
    Corrupt { path: String, message: String },
    /// A system tool (btrfs, mkfs, mount, losetup, nvme) failed.
    #[error("`{command}` failed for {path}: {detail}")]
    Command {
        command: String,
        path: String,
        detail: String,
    },
    /// The command itself cannot be carried out as given.
    #[error("allocation {allocation_id}: {message}")]
    InvalidSpec { allocation_id: u64, message: String },
    /// The node cannot serve this disk as configured; found at start-up.
    #[error("host {host}, disk {disk} ({backend}): {message}")]
    Preflight {
        host: String,
        disk: u32,
        backend: &'static str,
        message: String,
    },
}

/// A way of turning an allocation into real (or simulated) storage.
///
/// Methods are synchronous: real backends write to configfs or create
/// directories, which is blocking work; the agent runs them off the async
/// runtime. Implementations must be safe to call from several threads.
pub trait StorageBackend: Send + Sync {
    /// The name used in system files (`backend: simulate`).
    fn name(&self) -> &'static str;

    /// Create the storage for `spec` and say how to attach it. Idempotent:
    /// a spec already held returns the held attachment unchanged.
    fn apply(&self, spec: &BlockSpec) -> Result<AttachmentInfo, BackendError>;

    /// Remove the storage of `allocation_id` on `disk`. Idempotent: a block
    /// that is not held is already released.
    fn release(&self, allocation_id: u64, disk: u32) -> Result<(), BackendError>;

    /// Every block this backend holds now, as it would be after a restart.
    fn list_held(&self) -> Result<Vec<HeldBlock>, BackendError>;

    /// Checks, before the agent registers, that every disk this backend
    /// serves can work (mount present, enough free space, kernel support,
    /// privileges), so a misconfigured node fails at start, not at its first
    /// allocation.
    fn preflight(&self) -> Result<(), BackendError> {
        Ok(())
    }

    /// Brings back what the backend's own records say it holds but the
    /// kernel forgot (after a reboot: loop mounts, nvmet exports). Runs once
    /// at start, after [`preflight`](Self::preflight), before `list_held`.
    /// Returns how many blocks it re-created.
    fn restore(&self) -> Result<usize, BackendError> {
        Ok(0)
    }

    /// Removes a block found at start that the orchestrator does not know.
    /// Same effect as `release`; separate so backends can log or keep more.
    fn remove_orphan(&self, held: &HeldBlock) -> Result<(), BackendError> {
        self.release(held.allocation_id, held.disk)
    }
}
