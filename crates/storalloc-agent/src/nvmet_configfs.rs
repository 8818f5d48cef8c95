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
use crate::host_os::{fs_magic, io_err, CONFIGFS_MAGIC};
use std::path::{Path, PathBuf};

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
