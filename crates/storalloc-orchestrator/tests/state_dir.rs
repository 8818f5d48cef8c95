//! The state directory's protections, tried for real: another local user
//! cannot read the database, and a filesystem too small for the state is
//! refused at start rather than filled.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use storalloc_orchestrator::{SqliteStore, StoreError};
use support::skip_or_fail;

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn another_local_user_cannot_read_the_state() {
    if !is_root() {
        return skip_or_fail("reading as another user needs root (runuser)");
    }
    // A parent every user may enter, as /var/lib is: only the state
    // directory's own modes stand between other users and the database.
    let parent = tempfile::tempdir().unwrap();
    std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = parent.path().join("state");
    drop(SqliteStore::open(&dir).unwrap());
    let db = dir.join("state.sqlite3");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&db), 0o600);
    let out = Command::new("runuser")
        .args(["-u", "nobody", "--", "cat"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success(), "nobody read the state database");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Permission denied"), "{err}");
    let out = Command::new("runuser")
        .args(["-u", "nobody", "--", "ls"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success(), "nobody listed the state directory");
}

#[test]
fn a_state_filesystem_too_small_is_refused_at_start() {
    if !is_root() {
        return skip_or_fail("mounting a small tmpfs needs root");
    }
    let dir = tempfile::tempdir().unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(dir.path())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return skip_or_fail("cannot mount a tmpfs");
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(dir.path().to_path_buf());
    let state = dir.path().join("state");
    match SqliteStore::open(&state) {
        Err(e @ StoreError::NoSpace { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&state.display().to_string()), "{msg}");
            assert!(msg.contains("needs at least 16777216"), "{msg}");
        }
        Err(e) => panic!("expected NoSpace, got {e}"),
        Ok(_) => panic!("a 4 MiB filesystem was accepted"),
    }
    assert!(
        !state.join("state.sqlite3").exists(),
        "nothing was written on the small filesystem"
    );
}
