//! The `fs` backend: each allocation is a directory with a hard capacity
//! limit, owned by the requesting uid/gid with mode 0700, under the disk's
//! `mount` (system file).
//!
//! * On btrfs the directory is a subvolume with a qgroup limit on what it
//!   references; writes past it fail with EDQUOT.
//! * Anywhere else it is the mount point of a sparse ext4 image
//!   (`<mount>/.storalloc/<name>.img`) loop-mounted on the directory; writes
//!   past it fail with ENOSPC.
//!
//! The filesystem itself is the record of what is held (names are
//! `storalloc-<allocation>-disk<disk>`, the capacity is the qgroup limit or
//! the image size), so nothing is lost when the agent restarts, and after a
//! reboot [`restore`](StorageBackend::restore) mounts the images again.

use crate::backend::{AttachmentInfo, BackendError, BlockSpec, HeldBlock, StorageBackend};
use crate::host_os::{
    block_name, free_bytes, fs_magic, have_program, io_err, is_mount_point, is_root,
    parse_block_name, path_str, run, BTRFS_MAGIC,
};
use crate::loop_image::{detach_loops, make_image, partial};
use crate::served_disks::{backing_missing, check_fits, served, served_disk};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One disk served by the `fs` backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsDisk {
    pub capacity_bytes: u64,
    /// Directory the allocations are created in (the system file's `mount`).
    pub mount: PathBuf,
}

pub struct FsBackend {
    host: String,
    /// Indexed by disk number; `None` for disks another backend serves.
    disks: Vec<Option<FsDisk>>,
    /// btrfs and mount calls for one node go one at a time: they are quick,
    /// and it keeps check-then-create free of races.
    lock: Mutex<()>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Btrfs,
    LoopImage,
}

/// A btrfs subvolume's root directory always has inode number 256.
const SUBVOLUME_INO: u64 = 256;
const IMAGE_DIR: &str = ".storalloc";

impl FsBackend {
    pub fn new(host: impl Into<String>, disks: Vec<Option<FsDisk>>) -> Self {
        FsBackend {
            host: host.into(),
            disks,
            lock: Mutex::new(()),
        }
    }

    fn disk(&self, disk: u32) -> Result<&FsDisk, BackendError> {
        served_disk(&self.disks, &self.host, disk)
    }

    fn served(&self) -> impl Iterator<Item = (u32, &FsDisk)> {
        served(&self.disks)
    }

    fn kind(d: &FsDisk) -> Result<Kind, BackendError> {
        Ok(if fs_magic(&d.mount)? == BTRFS_MAGIC {
            Kind::Btrfs
        } else {
            Kind::LoopImage
        })
    }

    fn dir(d: &FsDisk, allocation_id: u64, disk: u32) -> PathBuf {
        d.mount.join(block_name(allocation_id, disk))
    }

    fn image(d: &FsDisk, allocation_id: u64, disk: u32) -> PathBuf {
        d.mount
            .join(IMAGE_DIR)
            .join(format!("{}.img", block_name(allocation_id, disk)))
    }

    fn attachment(dir: &Path) -> AttachmentInfo {
        AttachmentInfo {
            kind: "directory".into(),
            path: dir.display().to_string(),
            ..AttachmentInfo::default()
        }
    }

    fn preflight_disk(&self, d: &FsDisk) -> Result<(), String> {
        if !is_root() {
            return Err(format!(
                "the fs backend creates subvolumes and loop mounts and must run as root (running as uid {})",
                // SAFETY: geteuid cannot fail.
                unsafe { libc::geteuid() }
            ));
        }
        let meta =
            std::fs::metadata(&d.mount).map_err(|e| format!("mount {}: {e}", d.mount.display()))?;
        if !meta.is_dir() {
            return Err(format!("mount {} is not a directory", d.mount.display()));
        }
        let free = free_bytes(&d.mount).map_err(|e| e.to_string())?;
        if d.capacity_bytes > free {
            return Err(format!(
                "capacity {} bytes is larger than the {free} bytes free on the filesystem at {}",
                d.capacity_bytes,
                d.mount.display()
            ));
        }
        match Self::kind(d).map_err(|e| e.to_string())? {
            Kind::Btrfs => {
                if !have_program("btrfs") {
                    return Err("btrfs is not installed (package btrfs-progs)".into());
                }
                // Quotas are per filesystem; enabling them again is a no-op.
                run("btrfs", &["quota", "enable", path_str(&d.mount)], &d.mount)
                    .map_err(|e| e.to_string())?;
            }
            Kind::LoopImage => {
                for tool in ["mkfs.ext4", "mount", "umount", "losetup"] {
                    if !have_program(tool) {
                        return Err(format!(
                            "{tool} is not installed, and {} is not on btrfs",
                            d.mount.display()
                        ));
                    }
                }
                if !Path::new("/dev/loop-control").exists() {
                    return Err(format!(
                        "{} is not on btrfs and this kernel has no loop devices (/dev/loop-control is missing)",
                        d.mount.display()
                    ));
                }
            }
        }
        Ok(())
    }

    // ---- btrfs ----

    /// The qgroup limit on what the subvolume at `dir` references.
    fn btrfs_limit(dir: &Path) -> Result<Option<u64>, BackendError> {
        let out = run(
            "btrfs",
            &["qgroup", "show", "-re", "--raw", "-f", path_str(dir)],
            dir,
        )?;
        for line in out.lines() {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.first().is_some_and(|c| c.starts_with("0/")) && cols.len() >= 4 {
                return Ok(cols[3].parse::<u64>().ok());
            }
        }
        Ok(None)
    }

    fn is_subvolume(dir: &Path) -> bool {
        std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir() && m.ino() == SUBVOLUME_INO)
    }

    fn btrfs_apply(&self, d: &FsDisk, spec: &BlockSpec) -> Result<AttachmentInfo, BackendError> {
        let dir = Self::dir(d, spec.allocation_id, spec.disk);
        let s = path_str(&dir);
        if Self::is_subvolume(&dir) {
            match Self::btrfs_limit(&dir)? {
                Some(held) if held == spec.capacity_bytes => return Ok(Self::attachment(&dir)),
                Some(held) => {
                    return Err(BackendError::Conflict {
                        allocation_id: spec.allocation_id,
                        disk: spec.disk,
                        held,
                        requested: spec.capacity_bytes,
                    })
                }
                // An earlier apply stopped half-way: finish it below.
                None => {}
            }
        } else {
            run("btrfs", &["subvolume", "create", s], &dir)?;
        }
        let limited = run(
            "btrfs",
            &["qgroup", "limit", &spec.capacity_bytes.to_string(), s],
            &dir,
        )
        .and_then(|_| own(&dir, spec));
        if let Err(e) = limited {
            if let Err(undo) = run("btrfs", &["subvolume", "delete", s], &dir) {
                tracing::warn!(path = %dir.display(), error = %undo, "removing a half-made subvolume");
            }
            return Err(e);
        }
        Ok(Self::attachment(&dir))
    }

    fn btrfs_release(&self, d: &FsDisk, dir: &Path) -> Result<(), BackendError> {
        if !dir.exists() {
            return Ok(());
        }
        let s = path_str(dir);
        let id = run("btrfs", &["inspect-internal", "rootid", s], dir)?
            .trim()
            .to_string();
        run("btrfs", &["subvolume", "delete", "-c", s], dir)?;
        // Wait until the cleaner has dropped the subvolume: then its space is
        // free again and its qgroup can go.
        let mount = path_str(&d.mount);
        run("btrfs", &["subvolume", "sync", mount, &id], &d.mount)?;
        match run(
            "btrfs",
            &["qgroup", "destroy", &format!("0/{id}"), mount],
            &d.mount,
        ) {
            Ok(_) => {}
            // Newer kernels remove the qgroup of a dropped subvolume themselves.
            Err(BackendError::Command { detail, .. }) if detail.contains("No such file") => {}
            Err(e) => tracing::warn!(path = %dir.display(), error = %e, "qgroup left behind"),
        }
        Ok(())
    }

    // ---- loop-mounted image ----

    fn loop_apply(&self, d: &FsDisk, spec: &BlockSpec) -> Result<AttachmentInfo, BackendError> {
        let dir = Self::dir(d, spec.allocation_id, spec.disk);
        let image = Self::image(d, spec.allocation_id, spec.disk);
        let mut fresh = false;
        if backing_missing(&image, spec)? {
            make_image(&image, spec)?;
            fresh = true;
        }
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err(&dir, e)),
        }
        if !is_mount_point(&dir)? {
            run(
                "mount",
                &["-o", "loop,nodev,nosuid", path_str(&image), path_str(&dir)],
                &dir,
            )?;
        }
        if fresh {
            own(&dir, spec)?;
        }
        Ok(Self::attachment(&dir))
    }

    fn loop_release(&self, d: &FsDisk, allocation_id: u64, disk: u32) -> Result<(), BackendError> {
        let dir = Self::dir(d, allocation_id, disk);
        let image = Self::image(d, allocation_id, disk);
        if is_mount_point(&dir)? {
            match run("umount", &[path_str(&dir)], &dir) {
                Ok(_) => {}
                // The allocation has ended even if a process still has a file
                // open in it: detach now, the kernel finishes when it closes.
                Err(e) if e.to_string().contains("busy") => {
                    tracing::warn!(path = %dir.display(), error = %e, "allocation still in use; unmounting lazily");
                    run("umount", &["-l", path_str(&dir)], &dir)?;
                }
                Err(e) => return Err(e),
            }
        }
        detach_loops(&image)?;
        match std::fs::remove_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&dir, e)),
        }
        for p in [image.clone(), partial(&image)] {
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&p, e)),
            }
        }
        Ok(())
    }

    fn loop_held(&self, disk: u32, d: &FsDisk) -> Result<Vec<HeldBlock>, BackendError> {
        let images = d.mount.join(IMAGE_DIR);
        let entries = match std::fs::read_dir(&images) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&images, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_err(&images, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((id, dk)) = parse_block_name(&name, ".img") else {
                continue;
            };
            if dk != disk {
                continue;
            }
            let len = entry
                .metadata()
                .map_err(|e| io_err(&entry.path(), e))?
                .len();
            out.push(HeldBlock {
                allocation_id: id,
                disk,
                capacity_bytes: len,
                attachment: Self::attachment(&Self::dir(d, id, disk)),
            });
        }
        Ok(out)
    }

    fn btrfs_held(&self, disk: u32, d: &FsDisk) -> Result<Vec<HeldBlock>, BackendError> {
        let entries = std::fs::read_dir(&d.mount).map_err(|e| io_err(&d.mount, e))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_err(&d.mount, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((id, dk)) = parse_block_name(&name, "") else {
                continue;
            };
            let dir = entry.path();
            if dk != disk || !Self::is_subvolume(&dir) {
                continue;
            }
            let capacity = Self::btrfs_limit(&dir)?.unwrap_or_else(|| {
                tracing::warn!(path = %dir.display(), "subvolume without a qgroup limit (an apply stopped half-way)");
                0
            });
            out.push(HeldBlock {
                allocation_id: id,
                disk,
                capacity_bytes: capacity,
                attachment: Self::attachment(&dir),
            });
        }
        Ok(out)
    }
}

/// Gives the allocation's directory to its owner, private to them.
fn own(dir: &Path, spec: &BlockSpec) -> Result<(), BackendError> {
    std::os::unix::fs::chown(dir, Some(spec.owner_uid), Some(spec.owner_gid))
        .map_err(|e| io_err(dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| io_err(dir, e))
}

impl StorageBackend for FsBackend {
    fn name(&self) -> &'static str {
        "fs"
    }

    fn apply(&self, spec: &BlockSpec) -> Result<AttachmentInfo, BackendError> {
        let d = self.disk(spec.disk)?;
        check_fits(spec, d.capacity_bytes)?;
        let _guard = self.lock.lock().expect("poisoned");
        match Self::kind(d)? {
            Kind::Btrfs => self.btrfs_apply(d, spec),
            Kind::LoopImage => self.loop_apply(d, spec),
        }
    }

    fn release(&self, allocation_id: u64, disk: u32) -> Result<(), BackendError> {
        let d = self.disk(disk)?;
        let _guard = self.lock.lock().expect("poisoned");
        match Self::kind(d)? {
            Kind::Btrfs => self.btrfs_release(d, &Self::dir(d, allocation_id, disk)),
            Kind::LoopImage => self.loop_release(d, allocation_id, disk),
        }
    }

    fn list_held(&self) -> Result<Vec<HeldBlock>, BackendError> {
        let _guard = self.lock.lock().expect("poisoned");
        let mut out = Vec::new();
        for (disk, d) in self.served() {
            out.extend(match Self::kind(d)? {
                Kind::Btrfs => self.btrfs_held(disk, d)?,
                Kind::LoopImage => self.loop_held(disk, d)?,
            });
        }
        out.sort_by_key(|h| (h.allocation_id, h.disk));
        Ok(out)
    }

    fn preflight(&self) -> Result<(), BackendError> {
        for (disk, d) in self.served() {
            self.preflight_disk(d)
                .map_err(|message| BackendError::Preflight {
                    host: self.host.clone(),
                    disk,
                    backend: "fs",
                    message,
                })?;
        }
        Ok(())
    }

    fn restore(&self) -> Result<usize, BackendError> {
        let mut restored = 0;
        for (disk, d) in self.served() {
            if Self::kind(d)? != Kind::LoopImage {
                continue;
            }
            for h in self.loop_held(disk, d)? {
                let dir = Self::dir(d, h.allocation_id, disk);
                if is_mount_point(&dir)? {
                    continue;
                }
                let _guard = self.lock.lock().expect("poisoned");
                std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
                let image = Self::image(d, h.allocation_id, disk);
                run(
                    "mount",
                    &["-o", "loop,nodev,nosuid", path_str(&image), path_str(&dir)],
                    &dir,
                )?;
                tracing::info!(path = %dir.display(), "re-mounted allocation image");
                restored += 1;
            }
        }
        Ok(restored)
    }
}
