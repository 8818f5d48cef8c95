//! Building the real backends (`fs`, `nvmet`) for the disks of a node from
//! the system file and the agent's settings.

use crate::backend::BackendError;
use crate::backend_fs::{FsBackend, FsDisk};
use crate::backend_nvmet::{NvmetBackend, NvmetConfig, NvmetDisk, NvmetPort, KERNEL_NVMET_ROOT};
use crate::disks::node_address;
use std::path::{Path, PathBuf};
use storalloc_core::Node;

/// Agent-wide settings of the real backends. The defaults reproduce the
/// original: NVMe/TCP on the node's `ipv4`, service id 4420 + disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendSettings {
    /// The nvmet configfs directory.
    pub nvmet_root: PathBuf,
    /// `tcp` or `rdma`.
    pub nvmet_transport: String,
    /// Address the target listens on; default the node's address.
    pub nvmet_listen: Option<String>,
    /// Disk N is exported on service id (and configfs port id) base + N.
    pub nvmet_port_base: u32,
    /// Backing files through the page cache (needed on tmpfs).
    pub nvmet_buffered_io: bool,
}

impl Default for BackendSettings {
    fn default() -> Self {
        BackendSettings {
            nvmet_root: PathBuf::from(KERNEL_NVMET_ROOT),
            nvmet_transport: "tcp".into(),
            nvmet_listen: None,
            nvmet_port_base: 4420,
            nvmet_buffered_io: true,
        }
    }
}

/// The disk's `mount`, or a preflight error saying it is needed.
fn mount_of(node: &Node, disk: usize, backend: &'static str) -> Result<PathBuf, BackendError> {
    node.disks[disk]
        .mount
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| BackendError::Preflight {
            host: node.hostname.clone(),
            disk: disk as u32,
            backend,
            message: format!(
                "the system file gives this disk no `mount`: the {backend} backend needs the directory it creates {} in",
                if backend == "fs" { "allocations" } else { "backing files" }
            ),
        })
}

/// The `fs` backend for the disks at `indices` of `node`.
pub fn fs_for(node: &Node, indices: &[usize]) -> Result<FsBackend, BackendError> {
    let mut disks = vec![None; node.disks.len()];
    for &i in indices {
        disks[i] = Some(FsDisk {
            capacity_bytes: node.disks[i].capacity.get(),
            mount: mount_of(node, i, "fs")?,
        });
    }
    Ok(FsBackend::new(node.hostname.clone(), disks))
}

/// The `nvmet` backend for the disks at `indices` of `node`; its restore
/// file goes in `state_dir`.
pub fn nvmet_for(
    node: &Node,
    indices: &[usize],
    settings: &BackendSettings,
    state_dir: Option<&Path>,
) -> Result<NvmetBackend, BackendError> {
    let connect = node_address(node);
    let listen = settings
        .nvmet_listen
        .clone()
        .unwrap_or_else(|| connect.clone());
    let mut disks = vec![None; node.disks.len()];
    for &i in indices {
        let trsvcid = settings.nvmet_port_base + i as u32;
        let port_id = u16::try_from(trsvcid).map_err(|_| BackendError::Preflight {
            host: node.hostname.clone(),
            disk: i as u32,
            backend: "nvmet",
            message: format!("service id {trsvcid} is not a valid port number"),
        })?;
        disks[i] = Some(NvmetDisk {
            capacity_bytes: node.disks[i].capacity.get(),
            backing_dir: mount_of(node, i, "nvmet")?,
            port: NvmetPort {
                port_id,
                transport: settings.nvmet_transport.clone(),
                adrfam: if listen.contains(':') { "ipv6" } else { "ipv4" }.into(),
                traddr: listen.clone(),
                trsvcid,
                connect_address: connect.clone(),
            },
        });
    }
    Ok(NvmetBackend::new(NvmetConfig {
        hostname: node.hostname.clone(),
        configfs_root: settings.nvmet_root.clone(),
        restore_file: state_dir
            .map(|d| d.join(format!("nvmet-{}.json", file_safe(&node.hostname)))),
        buffered_io: settings.nvmet_buffered_io,
        disks,
    }))
}

fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
