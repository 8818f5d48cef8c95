//! Which backend serves each disk of the node, chosen from the system file's
//! per-disk `backend` (or `--simulate` for all), and the async wrappers that
//! run backend calls off the runtime's worker threads.

use crate::backend::{AttachmentInfo, BackendError, BlockSpec, HeldBlock, StorageBackend};
use crate::backend_dry_run::{DryRunBackend, DryRunNode};
use crate::real_backends::{self, BackendSettings};
use std::path::Path;
use std::sync::Arc;
use storalloc_core::Node;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("host {host}, disk {disk}: storage backend {backend:?} is not known (known: simulate, fs, nvmet); fix the system file or run the server with --simulate")]
    UnknownBackend {
        host: String,
        disk: usize,
        backend: String,
    },
    #[error(transparent)]
    Backend(#[from] BackendError),
}

#[derive(Clone)]
pub struct DiskBackends {
    host: String,
    per_disk: Vec<Arc<dyn StorageBackend>>,
}

impl DiskBackends {
    /// One backend per disk. `simulate` forces the simulate backend for every
    /// disk; otherwise each disk's `backend` field decides (default `nvmet`,
    /// what the original did without `--simulate`). Holdings persist in
    /// `state_dir` when given.
    pub fn for_node(
        node: &Node,
        simulate: bool,
        state_dir: Option<&Path>,
    ) -> Result<DiskBackends, SetupError> {
        Self::for_node_with(node, simulate, state_dir, &BackendSettings::default())
    }

    /// As [`for_node`](Self::for_node), with explicit settings for the real
    /// backends (`fs`, `nvmet`). Their start-up checks run in
    /// [`preflight_and_restore`](Self::preflight_and_restore).
    pub fn for_node_with(
        node: &Node,
        simulate: bool,
        state_dir: Option<&Path>,
        settings: &BackendSettings,
    ) -> Result<DiskBackends, SetupError> {
        let chosen = |i: usize| -> &str {
            if simulate {
                "simulate"
            } else {
                node.disks[i].backend.as_deref().unwrap_or("nvmet")
            }
        };
        let of_kind =
            |k: &str| -> Vec<usize> { (0..node.disks.len()).filter(|&i| chosen(i) == k).collect() };
        let (fs_disks, nvmet_disks) = (of_kind("fs"), of_kind("nvmet"));
        let fs: Option<Arc<dyn StorageBackend>> = if fs_disks.is_empty() {
            None
        } else {
            Some(Arc::new(real_backends::fs_for(node, &fs_disks)?))
        };
        let nvmet: Option<Arc<dyn StorageBackend>> = if nvmet_disks.is_empty() {
            None
        } else {
            Some(Arc::new(real_backends::nvmet_for(
                node,
                &nvmet_disks,
                settings,
                state_dir,
            )?))
        };
        let sim_node = DryRunNode {
            hostname: node.hostname.clone(),
            address: node_address(node),
            disk_capacities: node.disks.iter().map(|d| d.capacity.get()).collect(),
            disk_ids: storalloc_core::DiskIdentity::assign(
                node.disks
                    .iter()
                    .map(|d| (d.serial.as_str(), d.block_device.as_str())),
            ),
        };
        let mut sim: Option<Arc<dyn StorageBackend>> = None;
        let mut per_disk = Vec::with_capacity(node.disks.len());
        for (i, disk) in node.disks.iter().enumerate() {
            let name = if simulate {
                "simulate"
            } else {
                disk.backend.as_deref().unwrap_or("nvmet")
            };
            match name {
                "simulate" => {
                    if sim.is_none() {
                        let b = match state_dir {
                            Some(dir) => DryRunBackend::open(dir, sim_node.clone())?,
                            None => DryRunBackend::in_memory(sim_node.clone()),
                        };
                        sim = Some(Arc::new(b));
                    }
                    per_disk.push(sim.clone().expect("set above"));
                }
                "fs" => per_disk.push(fs.clone().expect("built for every fs disk")),
                "nvmet" => per_disk.push(nvmet.clone().expect("built for every nvmet disk")),
                other => {
                    return Err(SetupError::UnknownBackend {
                        host: node.hostname.clone(),
                        disk: i,
                        backend: other.to_string(),
                    })
                }
            }
        }
        Ok(DiskBackends {
            host: node.hostname.clone(),
            per_disk,
        })
    }

    /// Explicit backends, disk by disk (tests and future backends).
    pub fn new(host: impl Into<String>, per_disk: Vec<Arc<dyn StorageBackend>>) -> Self {
        DiskBackends {
            host: host.into(),
            per_disk,
        }
    }

    fn backend(&self, disk: u32) -> Result<Arc<dyn StorageBackend>, BackendError> {
        self.per_disk
            .get(disk as usize)
            .cloned()
            .ok_or_else(|| BackendError::NoSuchDisk {
                host: self.host.clone(),
                disk,
                count: self.per_disk.len(),
            })
    }

    pub async fn apply(&self, spec: BlockSpec) -> Result<AttachmentInfo, BackendError> {
        let b = self.backend(spec.disk)?;
        blocking(move || b.apply(&spec)).await
    }

    pub async fn release(&self, allocation_id: u64, disk: u32) -> Result<(), BackendError> {
        let b = self.backend(disk)?;
        blocking(move || b.release(allocation_id, disk)).await
    }

    /// Each backend once, though it may serve several disks.
    fn distinct(&self) -> Vec<&Arc<dyn StorageBackend>> {
        let mut seen: Vec<&Arc<dyn StorageBackend>> = Vec::new();
        for b in &self.per_disk {
            if !seen.iter().any(|s| Arc::ptr_eq(s, b)) {
                seen.push(b);
            }
        }
        seen
    }

    /// Everything held, over the distinct backends of this node.
    pub fn list_held(&self) -> Result<Vec<HeldBlock>, BackendError> {
        let mut out = Vec::new();
        for b in self.distinct() {
            out.extend(b.list_held()?);
        }
        out.sort_by_key(|h| (h.allocation_id, h.disk));
        Ok(out)
    }

    /// Start-up, before the first registration: every backend checks it can
    /// work, then re-creates what its records hold but the kernel forgot.
    /// Returns how many blocks were re-created.
    pub async fn preflight_and_restore(&self) -> Result<usize, BackendError> {
        let mut restored = 0;
        for b in self.distinct() {
            let b = b.clone();
            restored += blocking(move || {
                b.preflight()?;
                b.restore()
            })
            .await?;
        }
        Ok(restored)
    }

    /// The name of the backend serving `disk` (for logs), if the disk exists.
    pub fn backend_name(&self, disk: u32) -> Option<&'static str> {
        self.per_disk.get(disk as usize).map(|b| b.name())
    }

    /// Removes a held block the orchestrator does not know.
    pub async fn remove_orphan(&self, held: HeldBlock) -> Result<(), BackendError> {
        let b = self.backend(held.disk)?;
        blocking(move || b.remove_orphan(&held)).await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BackendError> + Send + 'static,
) -> Result<T, BackendError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(BackendError::Io {
            path: String::from("<backend task>"),
            source: std::io::Error::other(e.to_string()),
        }),
    }
}

/// Where clients reach the node: its `ipv4`, or its hostname if none is given.
pub fn node_address(node: &Node) -> String {
    if node.ipv4.trim().is_empty() {
        node.hostname.clone()
    } else {
        node.ipv4.trim().to_string()
    }
}
