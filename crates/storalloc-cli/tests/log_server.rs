//! `storalloc log-server` gathers the logs of an orchestrator (forwarding
//! because its config says `log_forward: true`) and a storage server
//! (forwarding because of `--log-server`) into one view, each line tagged
//! with its component.

mod live_support;

use live_support::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `storalloc log-server` on `listen`, its stdout piped to the test.
fn log_server(live: &Live, listen: &str) -> Proc {
    let child = Command::new(BIN)
        .args(["log-server", "--listen", listen])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Proc {
        child,
        name: "log-server".into(),
        log: live.dir.path().join("none"),
    }
}

#[test]
fn the_log_server_shows_tagged_lines_from_orchestrator_and_server() {
    let mut live = Live::new(SMALL_SYSTEM, false);
    let mut logsrv = log_server(&live, "127.0.0.1:0");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    {
        let out = logsrv.child.stdout.take().unwrap();
        let lines = lines.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(l);
            }
        });
    }
    let wait_for = |what: &str, f: &dyn Fn(&str) -> bool| -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(l) = lines.lock().unwrap().iter().find(|l| f(l)) {
                return l.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no line {what}; got:\n{}",
                lines.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let first = wait_for("announcing the address", &|l| l.contains("listening on"));
    let addr = first.rsplit(' ').next().unwrap().to_string();
    let (host, port) = addr.rsplit_once(':').unwrap();

    let mut cfg = std::fs::read_to_string(&live.config).unwrap();
    cfg.push_str(&format!(
        "log_forward: true\nlog_server_addr: {host}\nlog_server_port: {port}\n"
    ));
    std::fs::write(&live.config, cfg).unwrap();
    live.start_orchestrator();
    let server_log = live.dir.path().join("server.log");
    let child = Command::new(BIN)
        .args(["--log-server", &addr, "server", "--endpoints"])
        .arg(live.state_dir())
        .arg("-s")
        .arg(&live.system)
        .args(["--simulate", "--state-dir"])
        .arg(live.agent_dir())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&server_log).unwrap())
        .spawn()
        .unwrap();
    live.servers.push(Proc {
        child,
        name: "server".into(),
        log: server_log,
    });
    live.wait_nodes_up(1);

    let orch = wait_for("from the orchestrator", &|l| {
        l.contains(" orchestrator[") && l.contains("orchestrator listening")
    });
    assert!(orch.contains("INFO"), "{orch}");
    assert!(orch.contains("client=127.0.0.1:"), "fields shown: {orch}");
    let pid = live.orchestrator.as_ref().unwrap().child.id();
    assert!(
        orch.contains(&format!(":{pid}]")),
        "tagged with the pid: {orch}"
    );
    let srv_pid = live.servers[0].child.id();
    wait_for("from the server", &|l| {
        l.contains(" server[") && l.contains(&format!(":{srv_pid}]"))
    });
    logsrv.kill();
}

#[test]
fn a_component_started_before_the_log_server_reconnects_to_it() {
    let mut live = Live::new(SMALL_SYSTEM, false);
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut cfg = std::fs::read_to_string(&live.config).unwrap();
    cfg.push_str(&format!("log_forward: true\nlog_server_port: {port}\n"));
    std::fs::write(&live.config, cfg).unwrap();
    // Nothing listens yet: the orchestrator starts anyway, and its first
    // lines wait for the server.
    live.start_orchestrator();
    let mut logsrv = log_server(&live, &addr);
    let out = logsrv.child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    // The sender reconnects (backoff up to 5 s): the early lines and the
    // later ones (a node registering) arrive.
    live.start_server();
    live.wait_nodes_up(1);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l)
                if l.contains(" orchestrator[")
                    && (l.contains("new node") || l.contains("node registered")) =>
            {
                seen.push(l);
                break;
            }
            Ok(l) => seen.push(l),
            Err(_) => panic!(
                "no orchestrator line after reconnecting; got:\n{}",
                seen.join("\n")
            ),
        }
    }
    assert!(
        seen.iter()
            .any(|l| l.contains(" orchestrator[") && l.contains("orchestrator listening")),
        "the line logged before the log server started arrives: {seen:?}"
    );
    logsrv.kill();
}

#[test]
fn the_log_server_needs_an_address() {
    let out = Command::new(BIN).arg("log-server").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--listen"), "{err}");
}
