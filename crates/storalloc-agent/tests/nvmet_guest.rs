//! End to end through the real kernel: boots a QEMU guest (TCG, no KVM
//! needed) whose initramfs holds busybox, the nvmet/nvme-tcp modules,
//! nvme-cli and the `nvmet_guest` example; the example exports an
//! allocation with the `nvmet` backend, attaches it over NVMe/TCP on
//! 127.0.0.1:4420 and round-trips data (see examples/nvmet_guest.rs). This
//! test builds the initramfs, boots, and parses the serial console.
//!
//! Off unless `STORALLOC_GUEST_TESTS=1` (CI sets it); needs the packages
//! qemu-system-x86 linux-image-amd64 busybox-static nvme-cli kmod cpio.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::skip_or_fail;

const TIMEOUT: Duration = Duration::from_secs(150);

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn which(program: &str) -> PathBuf {
    let p = sh(&format!("command -v {program} || true"));
    let p = p.trim();
    assert!(!p.is_empty(), "{program} is not installed");
    PathBuf::from(p)
}

/// The example binary, next to this test. `cargo test` builds examples but
/// `cargo test --test nvmet_guest` does not, so ask cargo for it (a no-op
/// when it is fresh).
fn guest_program() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let target_dir = profile_dir.parent().unwrap();
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "-p",
            "storalloc-agent",
            "--example",
            "nvmet_guest",
            "--target-dir",
        ])
        .arg(target_dir)
        .status()
        .unwrap();
    assert!(status.success(), "building the nvmet_guest example");
    profile_dir.join("examples/nvmet_guest")
}

/// A kernel in /boot with its modules, the newest first.
fn kernel() -> (String, PathBuf) {
    let mut versions: Vec<String> = std::fs::read_dir("/lib/modules")
        .expect("/lib/modules (install linux-image-amd64)")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|k| Path::new(&format!("/boot/vmlinuz-{k}")).exists())
        .collect();
    versions.sort();
    let k = versions
        .pop()
        .expect("a /boot/vmlinuz-<K> with /lib/modules/<K> (install linux-image-amd64)");
    let vmlinuz = PathBuf::from(format!("/boot/vmlinuz-{k}"));
    (k, vmlinuz)
}

/// Copies `file` to the same absolute path under `root`, following links.
fn copy_into(root: &Path, file: &Path) {
    let dest = root.join(file.strip_prefix("/").unwrap());
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(file, &dest).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
}

/// A program and the shared libraries `ldd` says it needs.
fn copy_with_libs(root: &Path, program: &Path, as_path: &str) {
    let dest = root.join(as_path.trim_start_matches('/'));
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(program, &dest).unwrap();
    let _ = Command::new("strip").arg(&dest).status();
    for line in sh(&format!("ldd {} || true", program.display())).lines() {
        let path = match line.split_once("=>") {
            Some((_, rhs)) => rhs.split_whitespace().next().unwrap_or(""),
            None => line.split_whitespace().next().unwrap_or(""),
        };
        if path.starts_with('/') {
            copy_into(root, Path::new(path));
        }
    }
}

const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /modorder); do insmod /mods/$m || echo "insmod $m failed"; done
mount -t configfs none /sys/kernel/config
ip link set lo up
mkdir -p /srv && mount -t tmpfs -o size=256m srv /srv
echo GUEST-BOOTED
/nvmet_guest
poweroff -f
"#;

fn build_initramfs(dir: &Path, k: &str) -> PathBuf {
    let root = dir.join("root");
    for d in [
        "bin", "sbin", "proc", "sys", "dev", "tmp", "mods", "etc", "run",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy(which("busybox"), root.join("bin/busybox")).unwrap();
    let deps = sh(&format!(
        "for m in nvmet-tcp nvme-tcp; do modprobe -S {k} --show-depends $m; done"
    ));
    let mut order = Vec::new();
    for line in deps.lines() {
        let mut w = line.split_whitespace();
        if w.next() != Some("insmod") {
            continue;
        }
        let ko = PathBuf::from(w.next().unwrap());
        let name = ko.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.ends_with(".ko"),
            "{name}: compressed modules are not supported by busybox insmod"
        );
        if !order.contains(&name) {
            std::fs::copy(&ko, root.join("mods").join(&name)).unwrap();
            order.push(name);
        }
    }
    std::fs::write(root.join("modorder"), order.join("\n")).unwrap();
    copy_with_libs(&root, &which("nvme"), "/usr/sbin/nvme");
    copy_with_libs(&root, &guest_program(), "/nvmet_guest");
    let init = root.join("init");
    std::fs::write(&init, INIT).unwrap();
    sh(&format!("chmod 0755 {}", init.display()));
    let initrd = dir.join("initrd.gz");
    sh(&format!(
        "cd {} && find . | cpio -o -H newc --quiet | gzip -1 > {}",
        root.display(),
        initrd.display()
    ));
    initrd
}

#[test]
fn an_allocation_exported_by_the_nvmet_backend_round_trips_over_nvme_tcp_in_a_guest() {
    if std::env::var("STORALLOC_GUEST_TESTS").as_deref() != Ok("1") {
        skip_or_fail(
            "set STORALLOC_GUEST_TESTS=1 to boot a QEMU guest for the NVMe/TCP test \
             (needs qemu-system-x86 linux-image-amd64 busybox-static nvme-cli kmod cpio)",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (k, vmlinuz) = kernel();
    let initrd = build_initramfs(dir.path(), &k);
    let mut qemu = Command::new(which("qemu-system-x86_64"))
        .args(["-accel", "tcg", "-cpu", "max", "-m", "768", "-smp", "1"])
        .args(["-nographic", "-no-reboot", "-nic", "none", "-kernel"])
        .arg(&vmlinuz)
        .arg("-initrd")
        .arg(&initrd)
        .args(["-append", "console=ttyS0 quiet panic=-1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting qemu-system-x86_64");
    let mut stdout = qemu.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    });
    let start = Instant::now();
    let timed_out = loop {
        if qemu.try_wait().unwrap().is_some() {
            break false;
        }
        if start.elapsed() > TIMEOUT {
            let _ = qemu.kill();
            let _ = qemu.wait();
            break true;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let console = reader.join().unwrap();
    let mut stderr = String::new();
    let _ = qemu.stderr.take().unwrap().read_to_string(&mut stderr);
    let result = console
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("GUEST-RESULT: "))
        .map(str::to_string);
    let report = format!(
        "after {:?} (timed out: {timed_out})\n--- serial console ---\n{console}\n--- qemu stderr ---\n{stderr}",
        start.elapsed()
    );
    // Shown with --nocapture, and by libtest when an assertion below fails.
    eprintln!("{report}");
    assert!(
        console.contains("GUEST-BOOTED"),
        "the guest did not boot {report}"
    );
    assert_eq!(result.as_deref(), Some("PASS"), "guest result {report}");
    assert!(console.contains("ROUND-TRIP-OK"), "{report}");
    assert!(console.contains("refused as expected"), "{report}");
    assert!(
        console.contains("RESTORED from the nvmetcli file"),
        "{report}"
    );
}
