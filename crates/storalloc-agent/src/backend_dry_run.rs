//! The dry-run backend (`backend: simulate`, `storalloc server --simulate`, as
//! in the original): nothing touches a disk. An allocation gets an NVMe-oF attachment whose NQN is derived from
//! the node, the allocation and the disk (UUID v5), so the same allocation
//! always gets the same NQN, across restarts and re-sent commands.
//!
//! What it holds is kept in a JSON file in the agent's state dir, written
//! atomically, because simulated storage must outlive the agent process just
//! as real storage would.

use crate::atomic_file::write_atomic;
use crate::backend::{AttachmentInfo, BackendError, BlockSpec, HeldBlock, StorageBackend};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use storalloc_core::DiskIdentity;

/// The first NVMe-oF TCP service id; disk N is exported on 4420+N, as in the original.
pub const NVME_BASE_PORT: u32 = 4420;

/// What the simulate backend needs to know about its node.
#[derive(Debug, Clone)]
pub struct DryRunNode {
    pub hostname: String,
    /// Address clients would attach to (the system file's `ipv4`).
    pub address: String,
    pub disk_capacities: Vec<u64>,
    /// Each disk's identity (`DiskIdentity::assign`), so what it holds
    /// stays on the same disk when the system file reorders, adds or
    /// removes disks. Empty: disks are known by their position.
    pub disk_ids: Vec<DiskIdentity>,
}

impl DryRunNode {
    fn id_of(&self, position: u32) -> DiskIdentity {
        self.disk_ids
            .get(position as usize)
            .cloned()
            .unwrap_or(DiskIdentity::Position(position))
    }

    fn position_of(&self, id: &DiskIdentity) -> Option<u32> {
        (0..self.disk_capacities.len() as u32).find(|&p| &self.id_of(p) == id)
    }
}

pub struct DryRunBackend {
    node: DryRunNode,
    file: Option<PathBuf>,
    /// By allocation and disk identity; a block's `disk` is the position
    /// the disk had when it was created.
    held: Mutex<BTreeMap<(u64, DiskIdentity), HeldBlock>>,
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    hostname: String,
    held: Vec<StoredBlock>,
}

/// A held block as the state file keeps it. Files written before disks had
/// identities lack `disk_id`: their blocks are on the disk at `disk`.
#[derive(Serialize, Deserialize)]
struct StoredBlock {
    #[serde(flatten)]
    block: HeldBlock,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    disk_id: Option<DiskIdentity>,
}

impl DryRunBackend {
    /// A backend whose holdings live only in memory (benchmarks, demos).
    pub fn in_memory(node: DryRunNode) -> Self {
        DryRunBackend {
            node,
            file: None,
            held: Mutex::new(BTreeMap::new()),
        }
    }

    /// A backend persisted in `state_dir`, reloading what an earlier run held.
    pub fn open(state_dir: &Path, node: DryRunNode) -> Result<Self, BackendError> {
        let file = state_dir.join(format!("simulate-{}.json", sanitize(&node.hostname)));
        let mut held = BTreeMap::new();
        match std::fs::read(&file) {
            Ok(bytes) => {
                let state: StateFile =
                    serde_json::from_slice(&bytes).map_err(|e| BackendError::Corrupt {
                        path: file.display().to_string(),
                        message: e.to_string(),
                    })?;
                for StoredBlock { block, disk_id } in state.held {
                    let id = disk_id.unwrap_or_else(|| node.id_of(block.disk));
                    held.insert((block.allocation_id, id), block);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(BackendError::Io {
                    path: file.display().to_string(),
                    source,
                })
            }
        }
        Ok(DryRunBackend {
            node,
            file: Some(file),
            held: Mutex::new(held),
        })
    }

    /// The NQN of `allocation_id` on `disk` of this node.
    pub fn nqn(&self, allocation_id: u64, disk: u32) -> String {
        let name = format!("storalloc/{}/{allocation_id}/{disk}", self.node.hostname);
        let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes());
        format!("nqn.2014-08.org.nvmexpress:NVMf:uuid:{id}")
    }

    fn attachment(&self, allocation_id: u64, disk: u32) -> AttachmentInfo {
        let nqn = self.nqn(allocation_id, disk);
        let port = NVME_BASE_PORT + disk;
        let address = self.node.address.clone();
        AttachmentInfo {
            kind: "nvme".into(),
            connect_command: format!("nvme connect -t tcp -a {address} -s {port} -n {nqn}"),
            nqn,
            transport: "tcp".into(),
            address,
            port,
            path: String::new(),
        }
    }

    fn persist(&self, held: &BTreeMap<(u64, DiskIdentity), HeldBlock>) -> Result<(), BackendError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let state = StateFile {
            hostname: self.node.hostname.clone(),
            held: held
                .iter()
                .map(|((_, id), b)| StoredBlock {
                    block: b.clone(),
                    disk_id: Some(id.clone()),
                })
                .collect(),
        };
        let bytes = serde_json::to_vec_pretty(&state).expect("plain data serialises");
        write_atomic(file, &bytes).map_err(|source| BackendError::Io {
            path: file.display().to_string(),
            source,
        })
    }
}

/// Hostnames become file names; keep them to a safe alphabet.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl StorageBackend for DryRunBackend {
    fn name(&self) -> &'static str {
        "simulate"
    }

    fn apply(&self, spec: &BlockSpec) -> Result<AttachmentInfo, BackendError> {
        let capacity = *self
            .node
            .disk_capacities
            .get(spec.disk as usize)
            .ok_or_else(|| BackendError::NoSuchDisk {
                host: self.node.hostname.clone(),
                disk: spec.disk,
                count: self.node.disk_capacities.len(),
            })?;
        if spec.capacity_bytes > capacity {
            return Err(BackendError::TooLarge {
                allocation_id: spec.allocation_id,
                disk: spec.disk,
                requested: spec.capacity_bytes,
                capacity,
            });
        }
        let mut held = self.held.lock().expect("poisoned");
        let key = (spec.allocation_id, self.node.id_of(spec.disk));
        if let Some(h) = held.get(&key) {
            if h.capacity_bytes != spec.capacity_bytes {
                return Err(BackendError::Conflict {
                    allocation_id: spec.allocation_id,
                    disk: spec.disk,
                    held: h.capacity_bytes,
                    requested: spec.capacity_bytes,
                });
            }
            return Ok(h.attachment.clone());
        }
        let attachment = self.attachment(spec.allocation_id, spec.disk);
        held.insert(
            key.clone(),
            HeldBlock {
                allocation_id: spec.allocation_id,
                disk: spec.disk,
                capacity_bytes: spec.capacity_bytes,
                attachment: attachment.clone(),
            },
        );
        if let Err(e) = self.persist(&held) {
            held.remove(&key);
            return Err(e);
        }
        Ok(attachment)
    }

    fn release(&self, allocation_id: u64, disk: u32) -> Result<(), BackendError> {
        let mut held = self.held.lock().expect("poisoned");
        let key = (allocation_id, self.node.id_of(disk));
        if let Some(old) = held.remove(&key) {
            if let Err(e) = self.persist(&held) {
                held.insert(key, old);
                return Err(e);
            }
        }
        Ok(())
    }

    /// What it holds on the disks the node lists now, at their current
    /// positions; blocks on a disk no longer listed are kept, unreported,
    /// until the disk is back.
    fn list_held(&self) -> Result<Vec<HeldBlock>, BackendError> {
        Ok(self
            .held
            .lock()
            .expect("poisoned")
            .iter()
            .filter_map(|((_, id), b)| {
                let disk = self.node.position_of(id)?;
                Some(HeldBlock { disk, ..b.clone() })
            })
            .collect())
    }
}
