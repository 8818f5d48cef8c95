//! `storalloc server`'s storage options: bad values are refused before
//! anything starts, and the nvmet settings reach the target's configuration
//! tree (a plain directory laid out like `/sys/kernel/config/nvmet`, so no
//! root or kernel module is needed), and orphans wait for `--orphan-grace`.

mod live_support;
use live_support::*;

use std::path::Path;

fn server_refuses(live: &Live, extra: &[&str], names: &[&str]) {
    let mut cmd = assert_cmd::Command::cargo_bin("storalloc").unwrap();
    cmd.args(["server", "-s", live.system.to_str().unwrap(), "--simulate"])
        .args(["--orchestrator", "127.0.0.1:1"])
        .args(extra);
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
    for n in names {
        assert!(err.contains(n), "{extra:?}: the message names {n}: {err}");
    }
    // Refused while parsing: nothing was created.
    assert!(!live.agent_dir().exists());
}

#[test]
fn bad_storage_options_are_refused_naming_flag_and_value() {
    let live = Live::new(SMALL_SYSTEM, false);
    server_refuses(
        &live,
        &["--nvmet-transport", "fc"],
        &["--nvmet-transport", "'fc'", "tcp", "rdma"],
    );
    server_refuses(
        &live,
        &["--nvmet-listen", "storage-1.example"],
        &[
            "--nvmet-listen",
            "storage-1.example",
            "not an IPv4 or IPv6 address",
        ],
    );
    server_refuses(
        &live,
        &["--nvmet-port-base", "0"],
        &["--nvmet-port-base", "'0'"],
    );
    server_refuses(
        &live,
        &["--orphan-grace", "a while"],
        &["--orphan-grace", "a while", "invalid duration"],
    );
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .trim_end()
        .to_string()
}

#[test]
fn nvmet_flags_reach_the_exported_ports() {
    let mut live = Live::new("", false);
    let configfs = live.dir.path().join("configfs/nvmet");
    for g in ["subsystems", "ports", "hosts"] {
        std::fs::create_dir_all(configfs.join(g)).unwrap();
    }
    let backing = live.dir.path().join("backing");
    std::fs::create_dir_all(&backing).unwrap();
    let system = format!(
        "hosts:\n  - hostname: nv1\n    ipv4: 127.0.0.1\n    network_bw: 12.5\n    disks:\n\
         \x20     - capacity: 1 GB\n        write_bandwidth: 2.0\n        read_bandwidth: 3.0\n\
         \x20       backend: nvmet\n        mount: {}\n",
        backing.display()
    );
    std::fs::write(&live.system, system).unwrap();
    live.start_orchestrator();

    let configfs_arg = configfs.to_str().unwrap().to_string();
    spawn_server(
        &mut live,
        "nvmet",
        &[
            "--nvmet-configfs",
            &configfs_arg,
            "--nvmet-transport",
            "rdma",
            "--nvmet-listen",
            "127.0.0.2",
            "--nvmet-port-base",
            "5100",
            "--nvmet-buffered-io=false",
        ],
    );
    live.wait_nodes_up(1);

    let (code, json, all) = live.client(&["-s", "500MB", "-t", "1:00:00"]);
    assert_eq!(code, 0, "{all}\n{}", live.servers[0].log_text());
    let a = json.unwrap();
    let att = &a["placements"][0]["attachment"];
    assert_eq!(att["type"], "nvme", "{a:#}");
    assert_eq!(att["port"], 5100, "{a:#}");
    // Clients are told the host's ipv4, not the listen address.
    let connect = att["connect_command"].as_str().unwrap();
    assert!(
        connect.contains("-t rdma -a 127.0.0.1 -s 5100"),
        "{connect}"
    );

    let port = configfs.join("ports/5100");
    assert_eq!(read(&port.join("addr_trtype")), "rdma");
    assert_eq!(read(&port.join("addr_traddr")), "127.0.0.2");
    assert_eq!(read(&port.join("addr_trsvcid")), "5100");
    let nqn = att["nqn"].as_str().unwrap();
    let ns = configfs.join("subsystems").join(nqn).join("namespaces/1");
    assert!(read(&ns.join("device_path")).starts_with(backing.to_str().unwrap()));
    // Direct I/O is the kernel's default: `buffered_io` is not written to 1.
    assert!(!ns.join("buffered_io").exists());
}

/// The server's log without terminal colours.
fn plain_log(live: &Live) -> String {
    let raw = live.servers[0].log_text();
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `storalloc server` for the first host with `extra` flags, logging at info.
fn spawn_server(live: &mut Live, name: &str, extra: &[&str]) {
    let endpoints = live.endpoints_arg();
    let system = live.system.to_str().unwrap().to_string();
    let agent = live.agent_dir().to_str().unwrap().to_string();
    let mut args = vec!["server", "--endpoints", &endpoints, "-s", &system];
    args.extend(["--state-dir", &agent]);
    args.extend(extra);
    live.push_server(name, &args);
}

#[test]
fn orphans_wait_for_the_grace_period_and_each_removal_is_logged() {
    let mut live = Live::running(SMALL_SYSTEM, false);
    let (id, nqn) = live.granted(&["-s", "100", "-t", "1:00:00"]);
    let held = live.agent_dir().join("simulate-live1.json");
    assert!(read(&held).contains(&nqn));
    // An orchestrator that never heard of the allocation: it is an orphan.
    live.servers.pop().unwrap().kill();
    live.kill_orchestrator();
    std::fs::remove_dir_all(live.state_dir()).unwrap();
    live.start_orchestrator();

    spawn_server(
        &mut live,
        "patient",
        &["--orphan-grace", "1h", "--simulate"],
    );
    live.wait_nodes_up(1);
    let named = format!("allocation={id}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !plain_log(&live).contains("removed after the grace period") {
        assert!(std::time::Instant::now() < deadline, "{}", plain_log(&live));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let log = plain_log(&live);
    assert!(log.contains(&named), "{log}");
    // Several heartbeats (1 s apart) later, within the hour: still there.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(read(&held).contains(&nqn), "{}", plain_log(&live));
    assert!(!plain_log(&live).contains("removing orphan"));
    live.servers.pop().unwrap().kill();

    spawn_server(&mut live, "prompt", &["--orphan-grace", "0", "--simulate"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while read(&held).contains(&nqn) {
        assert!(
            std::time::Instant::now() < deadline,
            "orphan not removed: {}",
            plain_log(&live)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let log = plain_log(&live);
    let line = log
        .lines()
        .find(|l| l.contains("removing orphan storage"))
        .unwrap_or_else(|| panic!("no removal logged: {log}"));
    assert!(line.contains("WARN"), "{line}");
    for field in [named.as_str(), "disk=", "backend=simulate", "age="] {
        assert!(line.contains(field), "{field}: {line}");
    }
}
