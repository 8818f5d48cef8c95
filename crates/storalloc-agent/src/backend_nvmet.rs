//! The `nvmet` backend: each allocation is exported over NVMe-oF by the
//! kernel target (nvmet), configured through configfs.
//!
//! Per allocation: a sparse backing file of exactly the capacity in the
//! disk's `mount` directory (`storalloc-<allocation>-disk<disk>.img`), a
//! subsystem of its own named `nqn.2014-08.org.nvmexpress:NVMf:uuid:<uuid>`
//! (UUID v5 of node, allocation and disk, so re-sent commands and restarts
//! find the same one) with namespace 1 on that file, linked to the disk's
//! port. Unlike the original, the subsystem never allows any host: only the
//! request's host NQNs are linked under `allowed_hosts`, and with none,
//! nobody can attach until a later apply names them.
//!
//! configfs is the record of what is held. After every change the backend
//! writes its exports as `nvmetcli save` would, so they can be restored after
//! a reboot ([`restore`](StorageBackend::restore) at start, or
//! `nvmetcli restore FILE`).

use crate::atomic_file::write_atomic;
use crate::backend::{AttachmentInfo, BackendError, BlockSpec, HeldBlock, StorageBackend};
use crate::host_os::{block_name, free_bytes, io_err, is_root, parse_block_name, run};
use crate::nvmet_configfs::{port_attrs, ConfigTree, Export};
use crate::nvmet_json::{HostJson, NamespaceJson, NvmetcliConfig, PortJson, SubsystemJson};
use crate::served_disks::{backing_missing, check_fits, served, served_disk};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The default configfs root of the kernel target.
pub const KERNEL_NVMET_ROOT: &str = "/sys/kernel/config/nvmet";

/// The NQN of `allocation_id` on `disk` of node `hostname` (same derivation
/// as the simulate backend, so switching backends keeps NQNs).
pub fn allocation_nqn(hostname: &str, allocation_id: u64, disk: u32) -> String {
    let name = format!("storalloc/{hostname}/{allocation_id}/{disk}");
    let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes());
    format!("nqn.2014-08.org.nvmexpress:NVMf:uuid:{id}")
}

/// One nvmet port: where the node listens for one disk's exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvmetPort {
    /// configfs port id (`ports/<id>`).
    pub port_id: u16,
    /// `tcp` or `rdma`.
    pub transport: String,
    /// `ipv4` or `ipv6`.
    pub adrfam: String,
    /// Address the target listens on.
    pub traddr: String,
    /// Service id (TCP port), 4420 + disk by default.
    pub trsvcid: u32,
    /// Address clients connect to (differs from `traddr` when that is a
    /// wildcard such as 0.0.0.0).
    pub connect_address: String,
}

/// One disk served by the `nvmet` backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvmetDisk {
    pub capacity_bytes: u64,
    /// Where the backing files go (the system file's `mount`).
    pub backing_dir: PathBuf,
    pub port: NvmetPort,
}

#[derive(Debug, Clone)]
pub struct NvmetConfig {
    pub hostname: String,
    /// The nvmet configfs directory ([`KERNEL_NVMET_ROOT`], or a test tree).
    pub configfs_root: PathBuf,
    /// The nvmetcli-format file of this backend's exports; `None` keeps none.
    pub restore_file: Option<PathBuf>,
    /// Open backing files through the page cache (`buffered_io`); needed
    /// when they sit on tmpfs, which refuses O_DIRECT.
    pub buffered_io: bool,
    /// Indexed by disk number; `None` for disks another backend serves.
    pub disks: Vec<Option<NvmetDisk>>,
}

pub struct NvmetBackend {
    cfg: NvmetConfig,
    tree: ConfigTree,
    lock: Mutex<()>,
}

impl NvmetBackend {
    pub fn new(cfg: NvmetConfig) -> Self {
        NvmetBackend {
            tree: ConfigTree::new(cfg.configfs_root.clone()),
            cfg,
            lock: Mutex::new(()),
        }
    }

    pub fn config(&self) -> &NvmetConfig {
        &self.cfg
    }

    fn disk(&self, disk: u32) -> Result<&NvmetDisk, BackendError> {
        served_disk(&self.cfg.disks, &self.cfg.hostname, disk)
    }

    fn served(&self) -> impl Iterator<Item = (u32, &NvmetDisk)> {
        served(&self.cfg.disks)
    }

    /// The configfs ports this backend's disks export on.
    fn our_ports(&self) -> BTreeSet<u16> {
        self.served().map(|(_, d)| d.port.port_id).collect()
    }

    fn backing(d: &NvmetDisk, allocation_id: u64, disk: u32) -> PathBuf {
        d.backing_dir
            .join(format!("{}.img", block_name(allocation_id, disk)))
    }

    fn attachment(nqn: &str, port: &NvmetPort) -> AttachmentInfo {
        AttachmentInfo {
            kind: "nvme".into(),
            connect_command: format!(
                "nvme connect -t {} -a {} -s {} -n {nqn}",
                port.transport, port.connect_address, port.trsvcid
            ),
            nqn: nqn.to_string(),
            transport: port.transport.clone(),
            address: port.connect_address.clone(),
            port: port.trsvcid,
            path: String::new(),
        }
    }

    /// The exports in configfs that are this node's allocations:
    /// `(allocation, disk, nqn, backing file)`.
    fn our_subsystems(&self) -> Result<Vec<(u64, u32, String, PathBuf)>, BackendError> {
        let t = &self.tree;
        let mut out = Vec::new();
        for nqn in t.names(&t.root().join("subsystems"))? {
            let Some(path) = t.read(&t.namespace(&nqn).join("device_path"))? else {
                continue;
            };
            let path = PathBuf::from(path);
            let Some((id, disk)) = backing_block(&path) else {
                continue;
            };
            let Ok(d) = self.disk(disk) else {
                continue;
            };
            if Self::backing(d, id, disk) != path
                || allocation_nqn(&self.cfg.hostname, id, disk) != nqn
            {
                continue;
            }
            out.push((id, disk, nqn, path));
        }
        Ok(out)
    }

    /// Writes this backend's exports as `nvmetcli save` would.
    fn save(&self) -> Result<(), BackendError> {
        let Some(file) = &self.cfg.restore_file else {
            return Ok(());
        };
        let t = &self.tree;
        let mut cfg = NvmetcliConfig::default();
        let mut hosts = BTreeSet::new();
        let mut ports: BTreeMap<u16, PortJson> = BTreeMap::new();
        for (_, disk, nqn, path) in self.our_subsystems()? {
            let allowed = t.names(&t.subsystem(&nqn).join("allowed_hosts"))?;
            hosts.extend(allowed.iter().cloned());
            let port = &self.disk(disk)?.port;
            let entry = ports.entry(port.port_id).or_insert_with(|| PortJson {
                addr: port_attrs(port)
                    .into_iter()
                    .map(|(k, v)| (k.trim_start_matches("addr_").to_string(), v))
                    .chain([("treq".to_string(), "not specified".to_string())])
                    .collect(),
                portid: port.port_id,
                referrals: Vec::new(),
                subsystems: Vec::new(),
            });
            entry.subsystems.push(nqn.clone());
            cfg.subsystems.push(SubsystemJson {
                allowed_hosts: allowed,
                attr: BTreeMap::from([("allow_any_host".to_string(), "0".to_string())]),
                namespaces: vec![NamespaceJson {
                    device: BTreeMap::from([("path".to_string(), path.display().to_string())]),
                    enable: 1,
                    nsid: 1,
                }],
                nqn,
            });
        }
        cfg.hosts = hosts.into_iter().map(|nqn| HostJson { nqn }).collect();
        cfg.ports = ports.into_values().collect();
        let bytes = serde_json::to_vec_pretty(&cfg).expect("plain data serialises");
        write_atomic(file, &bytes).map_err(|e| io_err(file, e))
    }

    fn load_restore_file(&self) -> Result<Option<NvmetcliConfig>, BackendError> {
        let Some(file) = &self.cfg.restore_file else {
            return Ok(None);
        };
        match std::fs::read(file) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| BackendError::Corrupt {
                        path: file.display().to_string(),
                        message: e.to_string(),
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(file, e)),
        }
    }

    fn preflight_common(&self) -> Result<(), String> {
        let root = self.tree.root();
        let kernel = self.tree.is_kernel();
        if kernel && !is_root() {
            return Err(format!(
                "configuring nvmet through {} needs root (running as uid {})",
                root.display(),
                // SAFETY: geteuid cannot fail.
                unsafe { libc::geteuid() }
            ));
        }
        for group in ["subsystems", "ports", "hosts"] {
            if !root.join(group).is_dir() {
                return Err(format!(
                    "{} is missing: the kernel NVMe target is not available (load it with `modprobe nvmet`, \
                     and mount configfs with `mount -t configfs none /sys/kernel/config`)",
                    root.join(group).display()
                ));
            }
        }
        Ok(())
    }

    fn preflight_disk(&self, d: &NvmetDisk) -> Result<(), String> {
        let p = &d.port;
        if !matches!(p.transport.as_str(), "tcp" | "rdma") {
            return Err(format!(
                "nvmet transport {:?} is not tcp or rdma",
                p.transport
            ));
        }
        if !matches!(p.adrfam.as_str(), "ipv4" | "ipv6") {
            return Err(format!(
                "nvmet address family {:?} is not ipv4 or ipv6",
                p.adrfam
            ));
        }
        if p.traddr.is_empty() || p.connect_address.is_empty() {
            return Err("no address to export on: give the node an ipv4 in the system file".into());
        }
        if self.tree.is_kernel() {
            let module = format!("nvmet_{}", p.transport);
            if !Path::new("/sys/module").join(&module).exists() {
                run(
                    "modprobe",
                    &[&module.replace('_', "-")],
                    Path::new("/sys/module"),
                )
                .map_err(|e| format!("the nvmet {} transport is not loaded: {e}", p.transport))?;
            }
        }
        let meta = std::fs::metadata(&d.backing_dir)
            .map_err(|e| format!("mount {}: {e}", d.backing_dir.display()))?;
        if !meta.is_dir() {
            return Err(format!(
                "mount {} is not a directory",
                d.backing_dir.display()
            ));
        }
        let free = free_bytes(&d.backing_dir).map_err(|e| e.to_string())?;
        if d.capacity_bytes > free {
            return Err(format!(
                "capacity {} bytes is larger than the {free} bytes free on the filesystem at {}",
                d.capacity_bytes,
                d.backing_dir.display()
            ));
        }
        let diffs = self.tree.port_mismatch(p).map_err(|e| e.to_string())?;
        if !diffs.is_empty() {
            return Err(format!(
                "nvmet port {} exists and is configured differently: {}",
                p.port_id,
                diffs.join(", ")
            ));
        }
        Ok(())
    }
}

/// The allocation and disk a backing file is for, from its name (the
/// inverse of [`NvmetBackend::backing`]'s file name).
fn backing_block(path: &Path) -> Option<(u64, u32)> {
    let name = path.file_name()?.to_string_lossy();
    parse_block_name(&name, ".img")
}

fn valid_host_nqn(allocation_id: u64, h: &str) -> Result<(), BackendError> {
    if h.is_empty()
        || h.len() > 223
        || h.contains('/')
        || h.starts_with('.')
        || h.chars().any(char::is_whitespace)
    {
        return Err(BackendError::InvalidSpec {
            allocation_id,
            message: format!("host NQN {h:?} is not a valid NQN"),
        });
    }
    Ok(())
}

impl StorageBackend for NvmetBackend {
    fn name(&self) -> &'static str {
        "nvmet"
    }

    fn apply(&self, spec: &BlockSpec) -> Result<AttachmentInfo, BackendError> {
        let d = self.disk(spec.disk)?;
        check_fits(spec, d.capacity_bytes)?;
        for h in &spec.host_nqns {
            valid_host_nqn(spec.allocation_id, h)?;
        }
        let _guard = self.lock.lock().expect("poisoned");
        let nqn = allocation_nqn(&self.cfg.hostname, spec.allocation_id, spec.disk);
        let backing = Self::backing(d, spec.allocation_id, spec.disk);
        if backing_missing(&backing, spec)? {
            let f = std::fs::File::create(&backing).map_err(|e| io_err(&backing, e))?;
            f.set_len(spec.capacity_bytes)
                .map_err(|e| io_err(&backing, e))?;
        }
        let mut hosts = spec.host_nqns.clone();
        hosts.sort();
        hosts.dedup();
        let export = Export {
            nqn: nqn.clone(),
            device_path: backing,
            hosts,
            port: d.port.clone(),
            buffered_io: self.cfg.buffered_io,
        };
        self.tree.ensure_export(&export)?;
        self.save()?;
        Ok(Self::attachment(&nqn, &d.port))
    }

    fn release(&self, allocation_id: u64, disk: u32) -> Result<(), BackendError> {
        let d = self.disk(disk)?;
        let _guard = self.lock.lock().expect("poisoned");
        self.tree.remove_export(
            &allocation_nqn(&self.cfg.hostname, allocation_id, disk),
            &self.our_ports(),
        )?;
        let backing = Self::backing(d, allocation_id, disk);
        match std::fs::remove_file(&backing) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&backing, e)),
        }
        self.save()
    }

    fn list_held(&self) -> Result<Vec<HeldBlock>, BackendError> {
        let _guard = self.lock.lock().expect("poisoned");
        let mut out = Vec::new();
        for (id, disk, nqn, path) in self.our_subsystems()? {
            let capacity = match std::fs::metadata(&path) {
                Ok(m) => m.len(),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "exported backing file is gone");
                    0
                }
            };
            out.push(HeldBlock {
                allocation_id: id,
                disk,
                capacity_bytes: capacity,
                attachment: Self::attachment(&nqn, &self.disk(disk)?.port),
            });
        }
        out.sort_by_key(|h| (h.allocation_id, h.disk));
        Ok(out)
    }

    fn preflight(&self) -> Result<(), BackendError> {
        let fail = |disk: u32, message: String| BackendError::Preflight {
            host: self.cfg.hostname.clone(),
            disk,
            backend: "nvmet",
            message,
        };
        let Some((first, _)) = self.served().next() else {
            return Ok(());
        };
        self.preflight_common().map_err(|m| fail(first, m))?;
        for (disk, d) in self.served() {
            self.preflight_disk(d).map_err(|m| fail(disk, m))?;
        }
        Ok(())
    }

    fn restore(&self) -> Result<usize, BackendError> {
        let Some(saved) = self.load_restore_file()? else {
            return Ok(0);
        };
        let _guard = self.lock.lock().expect("poisoned");
        let mut restored = 0;
        for s in &saved.subsystems {
            if self.tree.subsystem(&s.nqn).exists() {
                continue;
            }
            let Some(path) = s.namespaces.first().and_then(|n| n.device.get("path")) else {
                continue;
            };
            let path = PathBuf::from(path);
            let Some((id, disk)) = backing_block(&path) else {
                continue;
            };
            // Only what this node's configuration still exports is restored,
            // on the port the configuration gives now.
            let Ok(d) = self.disk(disk) else {
                tracing::warn!(nqn = %s.nqn, disk, "saved export for a disk this backend no longer serves; not restored");
                continue;
            };
            if let Some(bad) = s
                .allowed_hosts
                .iter()
                .find(|h| valid_host_nqn(id, h).is_err())
            {
                tracing::warn!(nqn = %s.nqn, host = %bad, "saved export names an invalid host NQN; not restored");
                continue;
            }
            if allocation_nqn(&self.cfg.hostname, id, disk) != s.nqn || !path.exists() {
                tracing::warn!(nqn = %s.nqn, path = %path.display(), "saved export does not match this node or lost its backing file; not restored");
                continue;
            }
            self.tree.ensure_export(&Export {
                nqn: s.nqn.clone(),
                device_path: path,
                hosts: s.allowed_hosts.clone(),
                port: d.port.clone(),
                buffered_io: self.cfg.buffered_io,
            })?;
            tracing::info!(nqn = %s.nqn, allocation = id, disk, "restored nvmet export");
            restored += 1;
        }
        if restored > 0 {
            self.save()?;
        }
        Ok(restored)
    }
}
