//! Registration at the edges, with the real binaries on loopback: a node far
//! past tonic's 4 MiB default message registers, and a registration the
//! orchestrator refuses for good stops `storalloc server` with what to fix
//! instead of retrying forever.

mod live_support;

use live_support::{output_text, Live, BIN, SMALL_SYSTEM};
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Disks on the one host of the big system: the size of a real system file
/// that used to be retried forever on "message length too large".
const BIG_DISKS: usize = 51_400;

/// One host with `disks` disks, each described in full (about 11 MB).
fn big_system(disks: usize) -> String {
    let mut y = String::from(
        "hosts:\n  - hostname: big1\n    ipv4: 127.0.0.1\n    network_bw: 100\n    disks:\n",
    );
    for i in 0..disks {
        writeln!(
            y,
            "      - {{vendor: STORALLOC-TEST-VENDOR, model: SIMULATED-NVME-MODEL-1, \
             serial: SERIAL-{i:08}, capacity: 1000, write_bandwidth: 2.93, \
             read_bandwidth: 3.13, block_device: /dev/disk/by-id/nvme-sim-{i:08}, \
             medium: nvme, tier: capacity}}"
        )
        .unwrap();
    }
    y
}

#[test]
fn a_node_with_51400_disks_registers() {
    let text = big_system(BIG_DISKS);
    assert!(text.len() > 10_000_000, "{} bytes", text.len());
    let mut live = Live::new(&text, false);
    live.start_orchestrator();
    live.start_server();
    let registered = |s: &serde_json::Value| {
        s["nodes"].as_array().is_some_and(|ns| {
            ns.iter().any(|n| {
                n["state"] == "up" && n["disks"].as_array().map(Vec::len) == Some(BIG_DISKS)
            })
        })
    };
    // Polled by hand: a server that gave up must fail the test at once.
    let deadline = Instant::now() + Duration::from_secs(300);
    let s = loop {
        if let Some(st) = live.servers[0].child.try_wait().unwrap() {
            panic!("the server exited ({st}):\n{}", live.servers[0].log_text());
        }
        let s = live.status();
        if registered(&s) {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "not registered after 300 s:\n{}",
            live.servers[0].log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let node = &s["nodes"][0];
    assert_eq!(node["hostname"], "big1", "{node:#}");
    let disks = node["disks"].as_array().unwrap();
    let capacity: u64 = disks
        .iter()
        .map(|d| d["capacity_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(capacity, BIG_DISKS as u64 * 1_000_000_000_000);
    // The server is still there, registered rather than retrying.
    let server = &mut live.servers[0];
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "{}",
        server.log_text()
    );
    assert!(
        server.log_text().contains("registered as node"),
        "{}",
        server.log_text()
    );
}

fn write_secret(path: &Path, secret: &str) {
    std::fs::write(path, format!("{secret}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn a_refused_registration_stops_the_server_with_what_to_fix() {
    let mut live = Live::new(SMALL_SYSTEM, false);
    let dir = live.dir.path().to_path_buf();
    let secret = dir.join("agent.secret");
    write_secret(&secret, "the-orchestrator-cluster-secret-0123456789");
    let base = std::fs::read_to_string(&live.config).unwrap();
    std::fs::write(
        &live.config,
        format!("{base}agent_secret_file: {}\n", secret.display()),
    )
    .unwrap();
    live.start_orchestrator();
    let ep = storalloc_client::read_endpoints(&live.state_dir()).unwrap();

    // The server's config names another cluster's secret: every proof it
    // sends is refused, so retrying cannot help.
    let wrong = dir.join("wrong.secret");
    write_secret(&wrong, "another-cluster-secret-9876543210-abcdef");
    let wrong_cfg = dir.join("wrong-config.yml");
    std::fs::write(
        &wrong_cfg,
        format!("agent_secret_file: {}\n", wrong.display()),
    )
    .unwrap();
    let started = Instant::now();
    let mut server = Command::new(BIN)
        .args(["server", "-c", wrong_cfg.to_str().unwrap()])
        .args(["--orchestrator", &ep.server.to_string()])
        .args([
            "-s",
            live.system.to_str().unwrap(),
            "--simulate",
            "--state-dir",
        ])
        .arg(dir.join("agent"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Backoff retries would go on forever; a refusal ends at once.
    let deadline = started + Duration::from_secs(30);
    while server.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = server.kill();
            let out = server.wait_with_output().unwrap();
            panic!("the server still runs after 30 s:\n{}", output_text(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = server.wait_with_output().unwrap();
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(
            "live1: the orchestrator refused this node's registration (Unauthenticated): agent register:"
        ),
        "{text}"
    );
    assert!(text.contains("agent_secret_file"), "{text}");
    assert!(text.contains("restart `storalloc server`"), "{text}");
    assert_eq!(
        text.matches("cannot reach the orchestrator").count(),
        0,
        "a refusal is not an outage: {text}"
    );
}
