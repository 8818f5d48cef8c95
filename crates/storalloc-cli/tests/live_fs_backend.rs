//! The whole stack with real storage: a client asks the orchestrator for
//! 100 MB, a real (not simulated) server creates a quota-limited directory on
//! a btrfs filesystem on a loop device, the user can write up to the size and
//! no further, and cancelling gives the space back.
//!
//! Needs root (loop devices, mount, btrfs quotas); says SKIPPED otherwise
//! (and fails under STORALLOC_REQUIRE_ALL=1).
//! CI runs as root with btrfs-progs installed by `.ci/run`.

mod live_support;
use live_support::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A btrfs filesystem in an image file, loop-mounted; unmounted on drop.
struct BtrfsMount {
    mnt: PathBuf,
}

impl BtrfsMount {
    fn new(dir: &Path) -> BtrfsMount {
        let img = dir.join("btrfs.img");
        let mnt = dir.join("mnt");
        std::fs::create_dir_all(&mnt).unwrap();
        run("truncate", &["-s", "1536M", img.to_str().unwrap()]);
        run("mkfs.btrfs", &["-q", "-f", img.to_str().unwrap()]);
        run(
            "mount",
            &["-o", "loop", img.to_str().unwrap(), mnt.to_str().unwrap()],
        );
        BtrfsMount { mnt }
    }
}

impl Drop for BtrfsMount {
    fn drop(&mut self) {
        // Lazy, so a process still holding a file cannot leave the loop device behind.
        let _ = Command::new("umount").arg("-l").arg(&self.mnt).status();
    }
}

fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn skip_reason() -> Option<&'static str> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root (loop devices, mount, btrfs quotas)");
    }
    if Command::new("mkfs.btrfs")
        .arg("--version")
        .output()
        .is_err()
    {
        return Some("mkfs.btrfs is not installed (apt-get install btrfs-progs)");
    }
    None
}

/// Writes `mb` MB of zeros into `path` with dd; true if every byte was written.
fn write_mb(path: &Path, mb: u64) -> (bool, String) {
    let out = Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", path.display()))
        .args(["bs=1M", &format!("count={mb}"), "conv=fsync"])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn a_client_gets_a_quota_limited_directory_it_can_fill_up_to_its_size() {
    if let Some(why) = skip_reason() {
        skip_or_fail(why);
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let fs = BtrfsMount::new(base.path());
    let system = format!(
        "hosts:\n  - hostname: fs1\n    ipv4: 127.0.0.1\n    network_bw: 12.5\n    disks:\n\
         \x20     - capacity: 1\n        write_bandwidth: 2.93\n        read_bandwidth: 3.13\n\
         \x20       backend: fs\n        mount: {}\n",
        fs.mnt.display()
    );
    let mut live = Live::new(&system, false);
    live.start_orchestrator();
    let log = live.dir.path().join("server.log");
    let f = std::fs::File::create(&log).unwrap();
    let child = Command::new(BIN)
        .args(["server", "--endpoints", &live.endpoints_arg()])
        .args(["-s", live.system.to_str().unwrap()])
        .args(["--state-dir", live.agent_dir().to_str().unwrap()])
        .env("RUST_LOG", "info")
        .stdout(f.try_clone().unwrap())
        .stderr(f)
        .spawn()
        .unwrap();
    live.servers.push(Proc {
        child,
        name: "server".into(),
        log,
    });
    live.wait_nodes_up(1);

    // 100 MB (decimal), the original CLI's units: a bare number is GB.
    let (code, json, all) = live.client(&["-s", "0.1", "-t", "1:00:00"]);
    assert_eq!(code, 0, "{all}");
    let a = json.unwrap();
    assert_eq!(a["state"], "allocated", "{a:#}");
    let id = a["id"].as_u64().unwrap();
    let att = &a["placements"][0]["attachment"];
    assert_eq!(att["type"], "directory", "{a:#}");
    let dir = PathBuf::from(att["path"].as_str().unwrap());
    assert!(
        dir.starts_with(&fs.mnt),
        "{dir:?} is not under {:?}",
        fs.mnt
    );
    let meta = std::fs::metadata(&dir).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);

    // Up to its size: 60 MB fit; another 60 MB go past 100 MB and fail.
    let (ok, err) = write_mb(&dir.join("a"), 60);
    assert!(ok, "60 MB into a 100 MB allocation failed: {err}");
    let (ok, err) = write_mb(&dir.join("b"), 60);
    assert!(!ok, "120 MB fit into a 100 MB allocation");
    assert!(
        err.contains("Disk quota exceeded") || err.contains("No space left"),
        "unexpected dd error: {err}"
    );

    // Cancelling releases the directory on the server.
    let out = live.run(&["cancel", &id.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while dir.exists() {
        assert!(
            Instant::now() < deadline,
            "{dir:?} still exists 20 s after cancel; server log:\n{}",
            live.servers[0].log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(live);
}
