//! Which host `storalloc server` serves without `--host`: the only host of a
//! one-host file, or the host named like this machine; with several hosts
//! and none of them this machine, it refuses to start (exit status 2) and
//! lists them. No orchestrator runs: the refusal comes before connecting,
//! and the picked host shows in the "cannot reach the orchestrator" line.

mod validate_common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use validate_common::{shared, text};

const BIN: &str = env!("CARGO_BIN_EXE_storalloc");

/// `storalloc server --simulate` for `system`, against a port nobody
/// listens on, keeping its state in `state`.
fn server(system: &Path, state: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["server", "--orchestrator", "127.0.0.1:1", "--simulate"])
        .arg("-s")
        .arg(system)
        .arg("--state-dir")
        .arg(state)
        .stdin(Stdio::null());
    cmd
}

#[test]
fn several_hosts_and_none_is_this_machine_is_refused_listing_them() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("agent");
    let system = shared("systems/ault14-multihosts.yml");
    let out = server(&system, &state).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for want in [
        "ault14-multihosts.yml: 3 hosts (ault14-1, ault14-2, ault14-3) and none is this machine",
        "pass --host NAME",
    ] {
        assert!(err.contains(want), "missing {want:?} in {err}");
    }
    assert!(!state.exists(), "refused before anything was created");

    // An unknown --host is bad input too.
    let out = server(&system, &state)
        .args(["--host", "ault14-9"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no host \"ault14-9\" (hosts: ault14-1, ault14-2, ault14-3)"),
        "{err}"
    );
}

/// Starts `storalloc server` on `system` against a port nobody listens on
/// and returns the host its first "cannot reach the orchestrator" line names.
fn host_served(system: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("system.yml");
    std::fs::write(&file, system).unwrap();
    let mut child = server(&file, &dir.path().join("agent"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("cannot reach the orchestrator") {
                let _ = tx.send(line);
                return;
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("the server reports that it cannot reach the orchestrator");
    line.strip_prefix("storalloc: ")
        .and_then(|l| l.split(' ').next())
        .unwrap_or_else(|| panic!("{line}"))
        .to_string()
}

fn hosts(names: &[&str]) -> String {
    let mut s = String::from("hosts:\n");
    for n in names {
        s.push_str(&format!(
            "  - hostname: {n}\n    ipv4: 127.0.0.1\n    network_bw: 1\n    disks:\n      \
             - capacity: 1\n        write_bandwidth: 1\n        read_bandwidth: 1\n"
        ));
    }
    s
}

#[test]
fn the_host_named_like_this_machine_or_the_only_host_is_served() {
    let machine = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(
        host_served(&hosts(&["storalloc-other-host", &machine])),
        machine
    );
    assert_eq!(
        host_served(&hosts(&["storalloc-elsewhere"])),
        "storalloc-elsewhere"
    );
}
