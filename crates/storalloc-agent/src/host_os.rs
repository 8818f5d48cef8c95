//! The few facts about the running system the real backends need (are we
//! root, what filesystem is under a path, how much is free, what is mounted)
//! and one way to run the system tools, so that every failure names the
//! command, the path it was about and what the tool printed.

use crate::backend::BackendError;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `statfs(2)` magic numbers of the filesystems the backends care about.
pub const BTRFS_MAGIC: i64 = 0x9123_683E;
pub const CONFIGFS_MAGIC: i64 = 0x6265_6570;

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn c_path(path: &Path) -> Result<CString, BackendError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| BackendError::Io {
        path: path.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte"),
    })
}

/// The `statfs` magic of the filesystem holding `path`.
pub fn fs_magic(path: &Path) -> Result<i64, BackendError> {
    let c = c_path(path)?;
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated string and `st` a valid out-pointer.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io_err(path, std::io::Error::last_os_error()));
    }
    #[allow(clippy::unnecessary_cast)]
    Ok(st.f_type as i64)
}

/// Bytes an unprivileged writer could still use on the filesystem of `path`.
pub fn free_bytes(path: &Path) -> Result<u64, BackendError> {
    let c = c_path(path)?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as in `fs_magic`.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io_err(path, std::io::Error::last_os_error()));
    }
    #[allow(clippy::unnecessary_cast)]
    Ok((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

pub fn io_err(path: &Path, source: std::io::Error) -> BackendError {
    BackendError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Runs `program args…` to completion; a non-zero exit (or a tool that is
/// not installed) becomes [`BackendError::Command`] naming `about`.
pub fn run(program: &str, args: &[&str], about: &Path) -> Result<String, BackendError> {
    let shown = std::iter::once(program)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    tracing::debug!(command = %shown, "running");
    let out = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| BackendError::Command {
            command: shown.clone(),
            path: about.display().to_string(),
            detail: format!("cannot start {program}: {e}"),
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let said = if stderr.is_empty() { stdout } else { stderr };
        return Err(BackendError::Command {
            command: shown,
            path: about.display().to_string(),
            detail: format!("{}: {said}", out.status),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether a program can be found on `PATH`.
pub fn have_program(program: &str) -> bool {
    let Some(paths) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&paths).any(|d| d.join(program).is_file())
}

/// The mount points in `/proc/self/mountinfo`, unescaped.
pub fn mount_points() -> Result<Vec<PathBuf>, BackendError> {
    let file = Path::new("/proc/self/mountinfo");
    let text = std::fs::read_to_string(file).map_err(|e| io_err(file, e))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_mount_path(p)))
        .collect())
}

pub fn is_mount_point(path: &Path) -> Result<bool, BackendError> {
    let Ok(canon) = path.canonicalize() else {
        return Ok(false);
    };
    Ok(mount_points()?.contains(&canon))
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mount_path(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() {
            let oct = &b[i + 1..i + 4];
            if oct.iter().all(|c| (b'0'..=b'7').contains(c)) {
                let oct = std::str::from_utf8(oct).expect("octal digits are ASCII");
                if let Ok(v) = u8::from_str_radix(oct, 8) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A path as the system tools take it on their command line.
pub fn path_str(p: &Path) -> &str {
    // Paths come from the system file (UTF-8 YAML) plus our own ASCII names.
    p.to_str().unwrap_or_default()
}

/// The block name the backends give one allocation on one disk; the real
/// backends find what they hold again by parsing it back.
pub fn block_name(allocation_id: u64, disk: u32) -> String {
    format!("storalloc-{allocation_id}-disk{disk}")
}

/// Inverse of [`block_name`] (with an optional extension stripped first).
pub fn parse_block_name(name: &str, ext: &str) -> Option<(u64, u32)> {
    let stem = name.strip_suffix(ext)?;
    let rest = stem.strip_prefix("storalloc-")?;
    let (id, disk) = rest.split_once("-disk")?;
    let id: u64 = id.parse().ok()?;
    let disk: u32 = disk.parse().ok()?;
    (block_name(id, disk) == stem).then_some((id, disk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_names_round_trip_and_reject_lookalikes() {
        assert_eq!(parse_block_name(&block_name(42, 3), ""), Some((42, 3)));
        let img = format!("{}.img", block_name(7, 0));
        assert_eq!(parse_block_name(&img, ".img"), Some((7, 0)));
        for bad in [
            "storalloc-x-disk1",
            "storalloc-1-disk",
            "storalloc-01-disk1",
            "storalloc-1-disk1.img",
            "other-1-disk1",
            "storalloc-1-disk1-disk2",
        ] {
            assert_eq!(parse_block_name(bad, ""), None, "{bad}");
        }
    }

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape_mount_path(r"/mnt/a\040b"), "/mnt/a b");
        assert_eq!(
            unescape_mount_path(r"/mnt/back\134slash"),
            r"/mnt/back\slash"
        );
        assert_eq!(unescape_mount_path(r"/plain"), "/plain");
        assert_eq!(unescape_mount_path(r"/end\04"), r"/end\04");
    }

    #[test]
    fn a_failing_command_names_itself_the_path_and_its_stderr() {
        let err = run(
            "sh",
            &["-c", "echo boom >&2; exit 3"],
            Path::new("/some/where"),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("sh -c"), "{msg}");
        assert!(msg.contains("/some/where"), "{msg}");
        assert!(msg.contains("boom"), "{msg}");
        let err = run("storalloc-no-such-tool", &[], Path::new("/x")).unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot start storalloc-no-such-tool"),
            "{err}"
        );
    }
}
