//! The original three-terminal scenario and the everyday paths, against the
//! real binaries on loopback: grant with an NQN, refusal, expiry, cancel,
//! and bad input that must change nothing.

mod live_support;
use live_support::*;

#[test]
fn three_terminals_orchestrator_server_client_gets_an_nvme_attachment() {
    let system = std::fs::read_to_string(shared_system("ault14.yml")).unwrap();
    let live = Live::running(&system, false);

    // Text output, as a user sees it.
    let out = live.run(&[
        "client",
        "-c",
        live.config.to_str().unwrap(),
        "-s",
        "200",
        "-t",
        "1:00:00",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "client failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Pending job allocation"), "{text}");
    assert!(text.contains("Granted job allocation"), "{text}");
    assert!(text.contains("'type': 'nvme'"), "{text}");
    assert!(
        text.contains("'nqn': 'nqn.2014-08.org.nvmexpress:NVMf:uuid:"),
        "{text}"
    );
    assert!(
        text.contains("nvme connect -t tcp -a 148.187.104.85 -s 44"),
        "{text}"
    );

    // JSON output, and the server's side agrees.
    let (code, json, all) = live.client(&["-s", "200", "-t", "1:00:00"]);
    assert_eq!(code, 0, "{all}");
    let a = json.unwrap();
    assert_eq!(a["state"], "allocated");
    let att = &a["placements"][0]["attachment"];
    assert_eq!(att["type"], "nvme");
    let port = att["port"].as_u64().unwrap();
    let disk = a["placements"][0]["disk"].as_u64().unwrap();
    assert_eq!(port, 4420 + disk);
    let s = live.status();
    assert_eq!(used_bytes(&s), 400_000_000_000);
    assert_invariants(&s);
    let held = std::fs::read_to_string(live.agent_dir().join("simulate-ault14.json")).unwrap();
    assert!(
        held.contains(att["nqn"].as_str().unwrap()),
        "agent state: {held}"
    );
}

#[test]
fn a_request_larger_than_the_system_is_refused_with_the_reason() {
    let live = Live::running(SMALL_SYSTEM, false);
    let out = live.run(&["client", "-s", "5000", "-t", "1:00:00"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success(), "refusal must not exit 0: {text}");
    let line = text
        .lines()
        .find(|l| l.contains("Refused:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.trim_end().len() > "storalloc: Refused:".len() + 3,
        "the reason is given: {line}"
    );
    let s = live.status();
    assert_eq!(used_bytes(&s), 0);
}

#[test]
fn bad_input_is_rejected_before_anything_is_sent() {
    let mut live = Live::new(SMALL_SYSTEM, false);
    live.start_orchestrator();
    let cases: [(&[&str], &str); 6] = [
        (&["-s", "0", "-t", "1:00:00"], "size"),
        (&["-s", "-5", "-t", "1:00:00"], "size"),
        (&["-s", "ten", "-t", "1:00:00"], "size"),
        (&["-s", "10", "-t", "soon"], "time"),
        (&["-s", "10", "-t", "0"], "time"),
        (
            &["-s", "10", "-t", "1:00:00", "--start-time", "tomorrow-ish"],
            "start-time",
        ),
    ];
    for (args, field) in cases {
        let mut all = vec!["client"];
        all.extend_from_slice(args);
        let out = live.run(&all);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(field),
            "{args:?}: message names {field}: {err}"
        );
    }
    // An unknown allocation id: a clear message, and nothing changes.
    let out = live.run(&["cancel", "424242"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("424242"), "{err}");
    let out = live.run(&["cancel", "not-a-number"]);
    assert_eq!(out.status.code(), Some(2));
    let s = live.status();
    assert!(s["allocations"].as_array().unwrap().is_empty(), "{s:#}");
}

#[test]
fn a_short_allocation_ends_and_its_capacity_comes_back() {
    let live = Live::running(SMALL_SYSTEM, false);
    let (id, nqn) = live.granted(&["-s", "300", "-t", "0:03"]);
    let held = live.agent_dir().join("simulate-live1.json");
    assert!(std::fs::read_to_string(&held).unwrap().contains(&nqn));
    let s = live.wait_status("the allocation to end", 20, |s| {
        used_bytes(s) == 0
            && allocation(s, id)
                .map(|a| a["state"] == "ended")
                .unwrap_or(true)
    });
    assert_invariants(&s);
    // The server released the storage.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_to_string(&held).unwrap().contains(&nqn) {
        assert!(
            std::time::Instant::now() < deadline,
            "the agent still holds {nqn}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn cancel_releases_the_storage() {
    let live = Live::running(SMALL_SYSTEM, false);
    let (code, json, all) = live.client(&["-s", "250", "-t", "1:00:00"]);
    assert_eq!(code, 0, "{all}");
    let id = json.unwrap()["id"].as_u64().unwrap();
    assert_eq!(used_bytes(&live.status()), 250_000_000_000);
    let out = live.run(&["cancel", &id.to_string()]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("CANCELLED"), "{text}");
    let s = live.wait_status("capacity back", 10, |s| used_bytes(s) == 0);
    if let Some(a) = allocation(&s, id) {
        assert_eq!(a["state"], "cancelled");
    }
    // Text status names nodes and disks with used and free space.
    let out = live.run(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("live1") && text.contains("free 1 TB"),
        "{text}"
    );
}

#[test]
fn hosts_are_picked_by_name_or_all_served_by_one_process() {
    let system = std::fs::read_to_string(shared_system("ault14-multihosts.yml")).unwrap();
    let mut live = Live::new(&system, false);
    live.start_orchestrator();
    let state = live.endpoints_arg();
    let sys = live.system.to_str().unwrap().to_string();
    let out = live.run(&["server", "-s", &sys, "--simulate", "--host", "nope"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(
        err.contains("\"nope\"") && err.contains("ault14-2"),
        "names the hosts: {err}"
    );

    let agent = live.agent_dir();
    live.push_server(
        "all",
        &[
            "server",
            "--endpoints",
            &state,
            "-s",
            &sys,
            "--simulate",
            "--all-hosts",
            "--state-dir",
            agent.to_str().unwrap(),
        ],
    );
    let s = live.wait_nodes_up(3);
    let mut names: Vec<String> = s["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["hostname"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["ault14-1", "ault14-2", "ault14-3"]);
    // SIGTERM stops every agent of the process cleanly.
    let mut p = live.servers.pop().unwrap();
    p.terminate();
    assert!(
        p.child.try_wait().unwrap().is_some_and(|st| st.success()),
        "{}",
        p.log_text()
    );
}

#[test]
fn demo_runs_the_whole_system_in_one_process() {
    let out = std::process::Command::new(BIN)
        .arg("demo")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.matches("Granted job allocation").count(), 3, "{text}");
    assert_eq!(text.matches("Refused:").count(), 1, "{text}");
    assert!(
        text.contains("nvme connect -t tcp -a 127.0.0.1 -s 442"),
        "{text}"
    );
    assert!(
        text.contains("done: 3 of 4 requests granted and attached"),
        "{text}"
    );
}

#[test]
fn bench_runs_small_and_reports_its_figures() {
    let out = std::process::Command::new(BIN)
        .args([
            "bench",
            "--nodes",
            "3",
            "--disks-per-node",
            "2",
            "--clients",
            "4",
            "--requests",
            "40",
        ])
        .args(["--wait-allocated", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["granted"], 40);
    assert_eq!(v["refused"], 0);
    assert!(v["grants_per_s"].as_f64().unwrap() > 0.0);
    assert!(v["p99_ms"].as_f64().unwrap() >= v["p50_ms"].as_f64().unwrap());
    assert!(
        v["all_allocated_s"].is_number(),
        "every grant confirmed: {v}"
    );
}

#[test]
fn a_reservation_for_later_is_granted_without_waiting_and_holds_no_storage_yet() {
    let live = Live::running(SMALL_SYSTEM, false);
    let (code, json, all) = live.client(&[
        "-s",
        "100",
        "-t",
        "1:00:00",
        "--start-time",
        "2099-01-01 10:00:00",
    ]);
    assert_eq!(code, 0, "{all}");
    let a = json.unwrap();
    assert_eq!(a["state"], "granted");
    assert_eq!(a["start_unix"], 4_070_944_800i64);
    assert!(a["placements"][0]["attachment"].is_null());
    let s = live.status();
    assert_eq!(used_bytes(&s), 0, "not in use before its start: {s:#}");
}
