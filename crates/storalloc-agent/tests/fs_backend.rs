//! The `fs` backend on real filesystems: a btrfs image on a loop device
//! (subvolumes with qgroup limits) and a tmpfs (the loop-mounted ext4 image
//! fallback). Runs the backend conformance suite on both, then checks what a
//! user would: the limit holds for the owner, the directory is theirs alone,
//! and releasing gives the space back.
//!
//! Needs root (mount, losetup); without it every test says SKIPPED and
//! returns, or fails under STORALLOC_REQUIRE_ALL=1. CI runs as root.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use storalloc_agent::conformance::spec;
use storalloc_agent::{BackendError, FsBackend, FsDisk, StorageBackend};

const GB: u64 = 1_000_000_000;
const MB: u64 = 1_000_000;

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn sh(cmd: &str) -> std::process::Output {
    let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fs {
    /// A btrfs filesystem in a sparse image, on a loop device.
    Btrfs,
    /// A tmpfs: not btrfs, so allocations are loop-mounted ext4 images.
    Tmpfs,
}

/// A filesystem mounted in a temporary directory; unmounted (which frees its
/// loop device, `mount -o loop` sets autoclear) when dropped, after
/// unmounting whatever allocations are still mounted inside it.
struct Mounted {
    _dir: tempfile::TempDir,
    mount: PathBuf,
}

impl Mounted {
    fn new(fs: Fs) -> Mounted {
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("mnt");
        std::fs::create_dir(&mount).unwrap();
        match fs {
            Fs::Btrfs => {
                let img = dir.path().join("btrfs.img");
                std::fs::File::create(&img)
                    .unwrap()
                    .set_len(64 * GB)
                    .unwrap();
                sh(&format!("mkfs.btrfs -q -f {}", img.display()));
                sh(&format!(
                    "mount -o loop {} {}",
                    img.display(),
                    mount.display()
                ));
            }
            Fs::Tmpfs => {
                sh(&format!(
                    "mount -t tmpfs -o size=64g,mode=0755 storalloc-test {}",
                    mount.display()
                ));
            }
        }
        Mounted { _dir: dir, mount }
    }

    /// Two 20 GB disks in their own directories under the mount, one pair
    /// per state dir so each conformance case starts empty.
    fn backend(&self, state: &Path) -> FsBackend {
        let base = self.mount.join(state.file_name().unwrap());
        let disks = (0..2)
            .map(|i| {
                let mount = base.join(format!("d{i}"));
                std::fs::create_dir_all(&mount).unwrap();
                Some(FsDisk {
                    capacity_bytes: 20 * GB,
                    mount,
                })
            })
            .collect();
        let b = FsBackend::new("testhost", disks);
        b.preflight().expect("preflight");
        b
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        // Allocations a failed test left mounted, deepest first.
        let prefix = self.mount.canonicalize().unwrap_or(self.mount.clone());
        let mut inner: Vec<PathBuf> = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .map(PathBuf::from)
            .filter(|p| p.starts_with(&prefix) && *p != prefix)
            .collect();
        inner.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        for p in inner {
            unmount(&p);
        }
        unmount(&self.mount);
    }
}

/// Unmounts `p`, lazily if it is still busy, so a test never leaves a
/// mount (and its loop device) behind.
fn unmount(p: &Path) {
    let ok = Command::new("umount")
        .arg(p)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let _ = Command::new("umount").arg("-l").arg(p).status();
    }
}

macro_rules! mounted_or_skip {
    ($fs:expr) => {{
        if !is_root() {
            support::skip_or_fail("the fs backend tests need root (mount, losetup, btrfs)");
            return;
        }
        Mounted::new($fs)
    }};
}

/// The conformance factory over a fresh filesystem that lives as long as
/// the case (the macro evaluates this inside each test function).
macro_rules! fs_factory {
    ($fs:expr) => {{
        let fx = mounted_or_skip!($fs);
        move |state: &Path| fx.backend(state)
    }};
}

storalloc_agent::backend_conformance!(btrfs_conformance, fs_factory!(Fs::Btrfs));
storalloc_agent::backend_conformance!(loop_image_conformance, fs_factory!(Fs::Tmpfs));

fn free(path: &Path) -> u64 {
    let out = sh(&format!("stat -f -c '%a %S' {}", path.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(|v| v.parse::<u64>().unwrap());
    it.next().unwrap() * it.next().unwrap()
}

/// Writes `mb` MB of zeros to `file` as `uid`, returning dd's exit status
/// and what it printed.
fn write_as(uid: u32, file: &Path, mb: u64) -> (bool, String) {
    let out = Command::new("setpriv")
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
            "dd",
            "if=/dev/zero",
            &format!("of={}", file.display()),
            "bs=1M",
            &format!("count={mb}"),
            "conv=fsync",
        ])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn limit_owner_and_release(fs: Fs, full_message: &str) {
    let fx = mounted_or_skip!(fs);
    let state = tempfile::tempdir().unwrap();
    let b = fx.backend(state.path());
    let parent = fx.mount.join(state.path().file_name().unwrap()).join("d0");
    let before_any = free(&parent);
    let mut s = spec(1, 0, 1);
    s.capacity_bytes = 64 * MB;
    let att = b.apply(&s).unwrap();
    assert_eq!(att.kind, "directory");
    let dir = PathBuf::from(&att.path);
    let meta = std::fs::metadata(&dir).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (1000, 1000),
        "owned by the requester"
    );
    assert_eq!(meta.permissions().mode() & 0o777, 0o700, "private to them");

    // The owner fills it to the limit and no further.
    let (ok, said) = write_as(1000, &dir.join("fill"), 200);
    assert!(!ok, "writing 200 MB into a 64 MB allocation must fail");
    assert!(said.contains(full_message), "dd said: {said}");
    let written = std::fs::metadata(dir.join("fill")).unwrap().len();
    assert!(written <= 64 * MB, "wrote {written} bytes past the limit");
    assert!(
        written >= 32 * MB,
        "the limit should let most of 64 MB in, wrote {written}"
    );

    // Someone else cannot even look in.
    let (ok, said) = write_as(1001, &dir.join("intruder"), 1);
    assert!(
        !ok && said.contains("Permission denied"),
        "uid 1001: {said}"
    );

    let used = free(&parent);
    assert!(
        used + 30 * MB < before_any,
        "the data takes space: {before_any} -> {used}"
    );
    b.release(1, 0).unwrap();
    assert!(!dir.exists(), "release removes the directory");
    assert!(b.list_held().unwrap().is_empty());
    let after = free(&parent);
    assert!(
        after + 8 * MB >= before_any,
        "release gives the space back: {before_any} before, {after} after"
    );
    b.release(1, 0).unwrap();
}

#[test]
fn btrfs_limit_owner_and_release() {
    limit_owner_and_release(Fs::Btrfs, "Disk quota exceeded");
}

#[test]
fn loop_image_limit_owner_and_release() {
    limit_owner_and_release(Fs::Tmpfs, "No space left on device");
}

#[test]
fn btrfs_release_removes_the_subvolume_and_its_qgroup() {
    let fx = mounted_or_skip!(Fs::Btrfs);
    let state = tempfile::tempdir().unwrap();
    let b = fx.backend(state.path());
    let dir = PathBuf::from(b.apply(&spec(5, 1, 2)).unwrap().path);
    let id =
        String::from_utf8(sh(&format!("btrfs inspect-internal rootid {}", dir.display())).stdout)
            .unwrap()
            .trim()
            .to_string();
    let qgroup = format!("0/{id} ");
    let show = || {
        String::from_utf8(
            sh(&format!(
                "btrfs qgroup show -re --raw {}",
                fx.mount.display()
            ))
            .stdout,
        )
        .unwrap()
    };
    let listed = show();
    let line = listed
        .lines()
        .find(|l| l.starts_with(&qgroup))
        .expect("qgroup exists");
    assert!(
        line.contains(&(2 * GB).to_string()),
        "limit is the capacity: {line}"
    );
    b.release(5, 1).unwrap();
    assert!(!dir.exists());
    assert!(
        !show().lines().any(|l| l.starts_with(&qgroup)),
        "qgroup {id} is gone"
    );
}

#[test]
fn loop_image_release_unmounts_and_frees_the_loop_device() {
    let fx = mounted_or_skip!(Fs::Tmpfs);
    let state = tempfile::tempdir().unwrap();
    let b = fx.backend(state.path());
    let dir = PathBuf::from(b.apply(&spec(9, 0, 1)).unwrap().path);
    let loops = || String::from_utf8(sh("losetup -a").stdout).unwrap();
    let image_name = "storalloc-9-disk0.img";
    assert!(
        loops().contains(image_name),
        "a loop device serves the image"
    );
    assert!(std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .contains(dir.to_str().unwrap()));
    b.release(9, 0).unwrap();
    assert!(!loops().contains(image_name), "its loop device is detached");
    assert!(!dir.exists());
}

#[test]
fn loop_images_are_mounted_again_after_a_reboot() {
    let fx = mounted_or_skip!(Fs::Tmpfs);
    let state = tempfile::tempdir().unwrap();
    let b = fx.backend(state.path());
    let dir = PathBuf::from(b.apply(&spec(4, 0, 1)).unwrap().path);
    std::fs::write(dir.join("kept"), b"data").unwrap();
    // What a reboot does to the mount.
    sh(&format!("umount {}", dir.display()));
    assert!(!dir.join("kept").exists());
    let b = fx.backend(state.path());
    assert_eq!(b.list_held().unwrap().len(), 1, "the image is still held");
    assert_eq!(b.restore().unwrap(), 1);
    assert_eq!(std::fs::read(dir.join("kept")).unwrap(), b"data");
    assert_eq!(b.restore().unwrap(), 0, "nothing left to restore");
    b.release(4, 0).unwrap();
}

#[test]
fn preflight_refuses_a_missing_mount_and_a_disk_larger_than_the_filesystem() {
    let fx = mounted_or_skip!(Fs::Btrfs);
    let missing = FsBackend::new(
        "h",
        vec![Some(FsDisk {
            capacity_bytes: GB,
            mount: fx.mount.join("nowhere"),
        })],
    );
    let err = missing.preflight().unwrap_err();
    assert!(matches!(err, BackendError::Preflight { .. }), "{err:?}");
    assert!(err.to_string().contains("nowhere"), "{err}");
    let huge = FsBackend::new(
        "h",
        vec![Some(FsDisk {
            capacity_bytes: 1000 * GB,
            mount: fx.mount.clone(),
        })],
    );
    let err = huge.preflight().unwrap_err().to_string();
    assert!(err.contains("larger than") && err.contains("free"), "{err}");
    assert!(err.contains("disk 0"), "{err}");
}

#[test]
fn a_changed_capacity_for_a_held_directory_is_refused() {
    let fx = mounted_or_skip!(Fs::Btrfs);
    let state = tempfile::tempdir().unwrap();
    let b = fx.backend(state.path());
    b.apply(&spec(3, 0, 1)).unwrap();
    let err = b.apply(&spec(3, 0, 2)).unwrap_err();
    assert!(err.to_string().contains("already held"), "{err}");
    b.release(3, 0).unwrap();
}

#[test]
fn a_loop_image_still_in_use_is_released_anyway() {
    let fx = mounted_or_skip!(Fs::Tmpfs);
    let state = tempfile::tempdir().unwrap();
    let b = fx.backend(state.path());
    let dir = PathBuf::from(b.apply(&spec(6, 0, 1)).unwrap().path);
    let open = std::fs::File::create(dir.join("busy")).unwrap();
    b.release(6, 0).unwrap();
    assert!(
        !dir.exists(),
        "the directory is gone while a file is still open"
    );
    assert!(b.list_held().unwrap().is_empty());
    drop(open);
    // The lazy unmount completes on close and the loop device clears itself.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while String::from_utf8(sh("losetup -a").stdout)
        .unwrap()
        .contains("storalloc-6-disk0.img")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "loop device still attached"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
