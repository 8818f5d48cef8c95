//! Crashes: the orchestrator killed (SIGKILL) during a burst of requests and
//! restarted on the same state dir, and a storage server killed and started
//! again. Nothing may be lost or allocated twice.

mod live_support;
use live_support::*;
use std::collections::HashSet;
use std::time::Duration;

#[test]
fn orchestrator_killed_during_a_burst_loses_and_duplicates_nothing() {
    let mut live = Live::running(SMALL_SYSTEM, true);

    // Half the clients start while the orchestrator is up; it is killed as
    // soon as the first grant is durable; the other half start while it is
    // down. Every client retries with its own unchanged request id.
    const CLIENTS: usize = 16;
    let config = live.config.to_str().unwrap().to_string();
    let spawn_client = |i: usize| {
        std::process::Command::new(BIN)
            .args([
                "client",
                "-c",
                &config,
                "-s",
                &format!("{}", 10 + i),
                "-t",
                "1:00:00",
                "--json",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut clients: Vec<_> = (0..CLIENTS / 2).map(spawn_client).collect();
    live.wait_status("a first grant", 20, |s| {
        !s["allocations"].as_array().unwrap().is_empty()
    });
    live.kill_orchestrator();
    clients.extend((CLIENTS / 2..CLIENTS).map(spawn_client));
    std::thread::sleep(Duration::from_millis(300));
    live.start_orchestrator();

    let mut ids = HashSet::new();
    let mut request_ids = HashSet::new();
    for c in clients {
        let out = c.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "a client failed across the restart: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let a: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        assert_eq!(a["state"], "allocated", "{a}");
        assert!(
            ids.insert(a["id"].as_u64().unwrap()),
            "two clients got the same allocation: {a}"
        );
        assert!(request_ids.insert(a["request_id"].as_str().unwrap().to_string()));
    }
    let s = live.wait_nodes_up(1);
    assert_invariants(&s);
    let live_allocs: Vec<_> = s["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["state"] == "allocated" || a["state"] == "granted")
        .collect();
    assert_eq!(
        live_allocs.len(),
        CLIENTS,
        "one allocation per client: {s:#}"
    );
    let seen: HashSet<_> = live_allocs
        .iter()
        .map(|a| a["request_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, request_ids);
    let want: u64 = (0..CLIENTS as u64).map(|i| (10 + i) * 1_000_000_000).sum();
    assert_eq!(used_bytes(&s), want);
}

#[test]
fn a_storage_server_killed_and_restarted_keeps_its_allocations() {
    let mut live = Live::running(SMALL_SYSTEM, false);
    let (id, nqn) = live.granted(&["-s", "100", "-t", "1:00:00"]);

    let mut server = live.servers.pop().unwrap();
    server.kill();
    live.start_server();
    let s = live.wait_status("the server back with its allocation", 20, |s| {
        s["nodes"][0]["state"] == "up"
            && allocation(s, id)
                .map(|a| a["state"] == "allocated")
                .unwrap_or(false)
            && live.servers[0].log_text().contains("holding 1 block")
    });
    assert_invariants(&s);
    assert_eq!(used_bytes(&s), 100_000_000_000);
    let log = live.servers[0].log_text();
    assert!(
        log.contains("holding 1 block"),
        "the restarted server announced what it holds: {log}"
    );
    let held = std::fs::read_to_string(live.agent_dir().join("simulate-live1.json")).unwrap();
    assert!(
        held.contains(&nqn),
        "the allocation was not released as an orphan: {held}"
    );
    // And it still serves new requests.
    let (code, json, all) = live.client(&["-s", "50", "-t", "1:00:00"]);
    assert_eq!(code, 0, "{all}");
    assert_eq!(json.unwrap()["state"], "allocated");
}
