//! Reading and writing the kernel's nvmet configuration tree
//! (`/sys/kernel/config/nvmet`), or a plain directory laid out the same way
//! for tests.
//!
//! The two differ in what the kernel does for us: in configfs `mkdir` of a
//! subsystem creates its attribute files and default groups, and `rmdir`
//! removes them; in a plain tree we create the groups we use and delete the
//! attribute files before `rmdir`. Everything else (attributes are files,
//! links are symlinks) is the same, so the backend code is one.

use crate::backend::BackendError;
use crate::backend_nvmet::NvmetPort;
use crate::host_os::{fs_magic, io_err, CONFIGFS_MAGIC};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Everything one export needs, from a spec or from the restore file.
pub struct Export {
    pub nqn: String,
    pub device_path: PathBuf,
    pub hosts: Vec<String>,
    pub port: NvmetPort,
    /// Open the backing file through the page cache.
    pub buffered_io: bool,
}

pub struct ConfigTree {
    root: PathBuf,
}

impl ConfigTree {
    pub fn new(root: PathBuf) -> Self {
        ConfigTree { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the root is the kernel's configfs (as opposed to a test tree).
    pub fn is_kernel(&self) -> bool {
        fs_magic(&self.root).is_ok_and(|m| m == CONFIGFS_MAGIC)
    }

    pub fn subsystem(&self, nqn: &str) -> PathBuf {
        self.root.join("subsystems").join(nqn)
    }

    pub fn namespace(&self, nqn: &str) -> PathBuf {
        self.subsystem(nqn).join("namespaces/1")
    }

    pub fn host(&self, host_nqn: &str) -> PathBuf {
        self.root.join("hosts").join(host_nqn)
    }

    pub fn port(&self, port_id: u16) -> PathBuf {
        self.root.join("ports").join(port_id.to_string())
    }

    pub fn mkdir(&self, dir: &Path) -> Result<(), BackendError> {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))
    }

    pub fn write(&self, attr: &Path, value: &str) -> Result<(), BackendError> {
        std::fs::write(attr, value).map_err(|e| io_err(attr, e))
    }

    /// An attribute's value without the kernel's trailing newline; `None`
    /// when the attribute does not exist.
    pub fn read(&self, attr: &Path) -> Result<Option<String>, BackendError> {
        match std::fs::read_to_string(attr) {
            Ok(s) => Ok(Some(s.trim_end_matches('\n').to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(attr, e)),
        }
    }

    /// `link` → `target`, unless a link of that name is there already.
    pub fn link(&self, target: &Path, link: &Path) -> Result<(), BackendError> {
        if std::fs::symlink_metadata(link).is_ok() {
            return Ok(());
        }
        if let Some(dir) = link.parent() {
            self.mkdir(dir)?;
        }
        std::os::unix::fs::symlink(target, link).map_err(|e| io_err(link, e))
    }

    pub fn unlink(&self, link: &Path) -> Result<(), BackendError> {
        match std::fs::remove_file(link) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(link, e)),
        }
    }

    /// Names in `dir` (empty when it does not exist).
    pub fn names(&self, dir: &Path) -> Result<Vec<String>, BackendError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(dir, e)),
        };
        let mut out = Vec::new();
        for e in entries {
            let e = e.map_err(|e| io_err(dir, e))?;
            out.push(e.file_name().to_string_lossy().into_owned());
        }
        out.sort();
        Ok(out)
    }

    /// Removes a configfs item whose child items (namespaces, links) are
    /// already gone. In a plain tree its attribute files and empty default
    /// groups go first, as the kernel would do.
    pub fn rmdir(&self, dir: &Path) -> Result<(), BackendError> {
        if !dir.exists() {
            return Ok(());
        }
        if !self.is_kernel() {
            for name in self.names(dir)? {
                let p = dir.join(&name);
                let meta = std::fs::symlink_metadata(&p).map_err(|e| io_err(&p, e))?;
                if meta.is_dir() {
                    self.rmdir(&p)?;
                } else {
                    std::fs::remove_file(&p).map_err(|e| io_err(&p, e))?;
                }
            }
        }
        match std::fs::remove_dir(dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(dir, e)),
        }
    }
}

/// The nvmet objects the backend builds from those primitives.
impl ConfigTree {
    /// Creates or completes an export; every step is skipped when done.
    pub fn ensure_export(&self, e: &Export) -> Result<(), BackendError> {
        for h in &e.hosts {
            self.mkdir(&self.host(h))?;
        }
        let sub = self.subsystem(&e.nqn);
        self.mkdir(&sub)?;
        // Before the subsystem is linked to any port, whatever the kernel's
        // default: only the hosts linked below may connect.
        self.write(&sub.join("attr_allow_any_host"), "0")?;
        let ns = self.namespace(&e.nqn);
        self.mkdir(&ns)?;
        if self.read(&ns.join("enable"))?.as_deref() != Some("1") {
            let path = e.device_path.display().to_string();
            self.write(&ns.join("device_path"), &path)?;
            if e.buffered_io {
                self.write(&ns.join("buffered_io"), "1")?;
            }
            self.write(&ns.join("enable"), "1")?;
        }
        let allowed = sub.join("allowed_hosts");
        self.mkdir(&allowed)?;
        for name in self.names(&allowed)? {
            if !e.hosts.contains(&name) {
                self.unlink(&allowed.join(&name))?;
            }
        }
        for h in &e.hosts {
            self.link(&self.host(h), &allowed.join(h))?;
        }
        self.ensure_port(&e.port)?;
        self.link(
            &sub,
            &self.port(e.port.port_id).join("subsystems").join(&e.nqn),
        )
    }

    /// What differs between the port in configfs and `p` (empty when it is
    /// absent or the same).
    pub fn port_mismatch(&self, p: &NvmetPort) -> Result<Vec<String>, BackendError> {
        let dir = self.port(p.port_id);
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let mut diffs = Vec::new();
        for (attr, want) in port_attrs(p) {
            let have = self.read(&dir.join(attr))?.unwrap_or_default();
            if have != want {
                diffs.push(format!("{attr} is {have:?}, not {want:?}"));
            }
        }
        Ok(diffs)
    }

    fn ensure_port(&self, p: &NvmetPort) -> Result<(), BackendError> {
        let dir = self.port(p.port_id);
        let existed = dir.exists();
        let diffs = self.port_mismatch(p)?;
        if !diffs.is_empty() {
            return Err(BackendError::Corrupt {
                path: dir.display().to_string(),
                message: format!("the port is configured differently: {}", diffs.join(", ")),
            });
        }
        if !existed {
            self.mkdir(&dir)?;
            for (attr, value) in port_attrs(p) {
                self.write(&dir.join(attr), &value)?;
            }
        }
        self.mkdir(&dir.join("subsystems"))
    }

    /// Takes an export down completely: port links, allowed hosts,
    /// namespace, subsystem, hosts no other subsystem uses, and ports of ours
    /// left without subsystems.
    pub fn remove_export(&self, nqn: &str, ours: &BTreeSet<u16>) -> Result<(), BackendError> {
        for port in self.names(&self.root().join("ports"))? {
            let pdir = self.root().join("ports").join(&port);
            let link = pdir.join("subsystems").join(nqn);
            if std::fs::symlink_metadata(&link).is_err() {
                continue;
            }
            self.unlink(&link)?;
            let ours = port.parse::<u16>().is_ok_and(|id| ours.contains(&id));
            if ours && self.names(&pdir.join("subsystems"))?.is_empty() {
                self.rmdir(&pdir)?;
            }
        }
        let sub = self.subsystem(nqn);
        if !sub.exists() {
            return Ok(());
        }
        let allowed = sub.join("allowed_hosts");
        let hosts = self.names(&allowed)?;
        for h in &hosts {
            self.unlink(&allowed.join(h))?;
        }
        let ns = self.namespace(nqn);
        if ns.exists() {
            if self.read(&ns.join("enable"))?.as_deref() == Some("1") {
                self.write(&ns.join("enable"), "0")?;
            }
            self.rmdir(&ns)?;
        }
        self.rmdir(&sub)?;
        for h in hosts {
            if !self.host_in_use(&h)? {
                self.rmdir(&self.host(&h))?;
            }
        }
        Ok(())
    }

    fn host_in_use(&self, host_nqn: &str) -> Result<bool, BackendError> {
        for s in self.names(&self.root().join("subsystems"))? {
            let link = self.subsystem(&s).join("allowed_hosts").join(host_nqn);
            if std::fs::symlink_metadata(link).is_ok() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The port's address attributes, as configfs names them.
pub fn port_attrs(p: &NvmetPort) -> [(&'static str, String); 4] {
    [
        ("addr_trtype", p.transport.clone()),
        ("addr_adrfam", p.adrfam.clone()),
        ("addr_traddr", p.traddr.clone()),
        ("addr_trsvcid", p.trsvcid.to_string()),
    ]
}
