//! The guest half of `tests/nvmet_guest.rs`: runs as part of the `/init` of
//! a throw-away QEMU guest (it configures the kernel NVMe target and
//! connects to it, which nobody wants on their own machine).
//!
//! It exports one allocation with the `nvmet` backend through the real
//! configfs on 127.0.0.1:4420, checks that a host not named in the request is
//! refused, attaches as the named host with the attachment's own `nvme
//! connect` command, writes through the NVMe/TCP block device and reads the
//! data back (from the device and from the backing file), then releases and
//! checks that configfs is empty. The last line it prints is
//! `GUEST-RESULT: PASS` or `GUEST-RESULT: FAIL <why>`.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use storalloc_agent::{BlockSpec, NvmetBackend, NvmetConfig, NvmetDisk, NvmetPort, StorageBackend};

const ALLOWED: &str = "nqn.2014-08.org.nvmexpress:uuid:storalloc-guest-allowed";
const STRANGER: &str = "nqn.2014-08.org.nvmexpress:uuid:storalloc-guest-stranger";
const CAPACITY: u64 = 64 * 1024 * 1024;
const OFFSET: u64 = 1024 * 1024;

fn main() {
    match run() {
        Ok(()) => println!("GUEST-RESULT: PASS"),
        Err(e) => println!("GUEST-RESULT: FAIL {e}"),
    }
}

fn step(what: &str) {
    println!("guest: {what}");
}

fn sh(cmd: &str) -> Result<(bool, String), String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), text.trim().to_string()))
}

fn nvme_block_devices() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("/sys/block")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("nvme"))
                .map(|n| Path::new("/dev").join(n))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn is_block_device(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(p).is_ok_and(|m| m.file_type().is_block_device())
}

fn names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn run() -> Result<(), String> {
    let root = PathBuf::from("/sys/kernel/config/nvmet");
    let backing = PathBuf::from("/srv");
    std::fs::create_dir_all("/srv/state").map_err(|e| e.to_string())?;
    let b = NvmetBackend::new(NvmetConfig {
        hostname: "guest".into(),
        configfs_root: root.clone(),
        restore_file: Some(PathBuf::from("/srv/state/nvmet-guest.json")),
        buffered_io: true,
        disks: vec![Some(NvmetDisk {
            capacity_bytes: CAPACITY,
            backing_dir: backing.clone(),
            port: NvmetPort {
                port_id: 4420,
                transport: "tcp".into(),
                adrfam: "ipv4".into(),
                traddr: "127.0.0.1".into(),
                trsvcid: 4420,
                connect_address: "127.0.0.1".into(),
            },
        })],
    });
    step("preflight");
    b.preflight().map_err(|e| format!("preflight: {e}"))?;
    let spec = BlockSpec {
        allocation_id: 1,
        disk: 0,
        capacity_bytes: CAPACITY,
        start_unix: 0,
        end_unix: 3600,
        owner_uid: 0,
        owner_gid: 0,
        host_nqns: vec![ALLOWED.into()],
    };
    step("apply");
    let att = b.apply(&spec).map_err(|e| format!("apply: {e}"))?;
    let again = b.apply(&spec).map_err(|e| format!("apply again: {e}"))?;
    if again != att {
        return Err("a second apply changed the attachment".into());
    }
    println!("guest: attachment {}", att.connect_command);
    if att.connect_command != format!("nvme connect -t tcp -a 127.0.0.1 -s 4420 -n {}", att.nqn) {
        return Err(format!(
            "unexpected connect command {:?}",
            att.connect_command
        ));
    }

    step("forget the configfs export, as a reboot would, and restore it from the saved file");
    let c = root.display();
    let (ok, said) = sh(&format!(
        "rm {c}/ports/4420/subsystems/{n} && rm {c}/subsystems/{n}/allowed_hosts/{ALLOWED} && \
         echo 0 > {c}/subsystems/{n}/namespaces/1/enable && rmdir {c}/subsystems/{n}/namespaces/1 && \
         rmdir {c}/subsystems/{n} && rmdir {c}/hosts/{ALLOWED} && rmdir {c}/ports/4420",
        n = att.nqn
    ))?;
    if !ok {
        return Err(format!("clearing configfs: {said}"));
    }
    let held = b.list_held().map_err(|e| format!("list_held: {e}"))?;
    if !held.is_empty() {
        return Err(format!(
            "configfs was cleared but {} blocks are listed",
            held.len()
        ));
    }
    let restored = b.restore().map_err(|e| format!("restore: {e}"))?;
    let held = b.list_held().map_err(|e| format!("list_held: {e}"))?;
    if restored != 1 || held.len() != 1 || held[0].attachment != att {
        return Err(format!("restore brought back {restored}, listed {held:?}"));
    }
    println!("guest: RESTORED from the nvmetcli file");

    step("connect as a host the request did not name");
    let (ok, said) = sh(&format!("{} --hostnqn={STRANGER}", att.connect_command))?;
    std::thread::sleep(Duration::from_millis(500));
    if ok || !nvme_block_devices().is_empty() {
        return Err(format!("a stranger could connect: {said}"));
    }
    println!("guest: refused as expected: {said}");

    step("connect as the named host");
    let (ok, said) = sh(&format!("{} --hostnqn={ALLOWED}", att.connect_command))?;
    if !ok {
        return Err(format!("connect failed: {said}"));
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let dev = loop {
        if let Some(d) = nvme_block_devices()
            .into_iter()
            .find(|d| is_block_device(d))
        {
            break d;
        }
        if Instant::now() > deadline {
            return Err("no NVMe block device appeared after connect".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    println!("guest: attached as {}", dev.display());
    let sectors = std::fs::read_to_string(
        Path::new("/sys/block")
            .join(dev.file_name().unwrap())
            .join("size"),
    )
    .map_err(|e| e.to_string())?;
    let size = sectors.trim().parse::<u64>().map_err(|e| e.to_string())? * 512;
    if size != CAPACITY {
        return Err(format!(
            "the device has {size} bytes, the allocation {CAPACITY}"
        ));
    }

    step("write through NVMe/TCP and read back");
    let pattern: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 13) as u8).collect();
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&dev)
            .map_err(|e| format!("{}: {e}", dev.display()))?;
        f.seek(SeekFrom::Start(OFFSET)).map_err(|e| e.to_string())?;
        f.write_all(&pattern).map_err(|e| e.to_string())?;
        f.sync_all().map_err(|e| e.to_string())?;
    }
    let _ = std::fs::write("/proc/sys/vm/drop_caches", "3");
    let mut back = vec![0u8; pattern.len()];
    {
        let mut f = std::fs::File::open(&dev).map_err(|e| e.to_string())?;
        f.seek(SeekFrom::Start(OFFSET)).map_err(|e| e.to_string())?;
        f.read_exact(&mut back).map_err(|e| e.to_string())?;
    }
    if back != pattern {
        return Err("data read back from the device differs".into());
    }
    let file = backing.join("storalloc-1-disk0.img");
    let mut stored = vec![0u8; pattern.len()];
    {
        let mut f = std::fs::File::open(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        f.seek(SeekFrom::Start(OFFSET)).map_err(|e| e.to_string())?;
        f.read_exact(&mut stored).map_err(|e| e.to_string())?;
    }
    if stored != pattern {
        return Err("the backing file does not hold what was written".into());
    }
    println!(
        "guest: ROUND-TRIP-OK {} bytes at offset {OFFSET}",
        pattern.len()
    );

    step("disconnect and release");
    let (ok, said) = sh(&format!("nvme disconnect -n {}", att.nqn))?;
    if !ok {
        return Err(format!("disconnect failed: {said}"));
    }
    b.release(1, 0).map_err(|e| format!("release: {e}"))?;
    b.release(1, 0).map_err(|e| format!("release again: {e}"))?;
    for g in ["subsystems", "ports", "hosts"] {
        let left = names(&root.join(g));
        if !left.is_empty() {
            return Err(format!("{g} left after release: {left:?}"));
        }
    }
    if file.exists() {
        return Err("backing file left after release".into());
    }
    let saved =
        std::fs::read_to_string("/srv/state/nvmet-guest.json").map_err(|e| e.to_string())?;
    if saved.contains(&att.nqn) {
        return Err("the restore file still lists the released export".into());
    }
    Ok(())
}
