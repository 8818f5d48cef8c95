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

/// The first NVMe-oF TCP service id; disk N is exported on 4420+N, as in the original.
pub const NVME_BASE_PORT: u32 = 4420;

/// What the simulate backend needs to know about its node.
#[derive(Debug, Clone)]
pub struct DryRunNode {
    pub hostname: String,
    /// Address clients would attach to (the system file's `ipv4`).
    pub address: String,
    pub disk_capacities: Vec<u64>,
}

pub struct DryRunBackend {
    node: DryRunNode,
    file: Option<PathBuf>,
    held: Mutex<BTreeMap<(u64, u32), HeldBlock>>,
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    hostname: String,
    held: Vec<HeldBlock>,
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
                for h in state.held {
                    held.insert((h.allocation_id, h.disk), h);
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

    fn persist(&self, held: &BTreeMap<(u64, u32), HeldBlock>) -> Result<(), BackendError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let state = StateFile {
            hostname: self.node.hostname.clone(),
            held: held.values().cloned().collect(),
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
        let key = (spec.allocation_id, spec.disk);
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
            key,
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
        if let Some(old) = held.remove(&(allocation_id, disk)) {
            if let Err(e) = self.persist(&held) {
                held.insert((allocation_id, disk), old);
                return Err(e);
            }
        }
        Ok(())
    }

    fn list_held(&self) -> Result<Vec<HeldBlock>, BackendError> {
        Ok(self
            .held
            .lock()
            .expect("poisoned")
            .values()
            .cloned()
            .collect())
    }
}
