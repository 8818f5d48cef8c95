//! `storalloc sim-client` replays a trace against the real orchestrator and
//! server binaries, as the original's interactive simulation mode did.

mod live_support;
use live_support::*;

/// Four jobs an hour apart in trace time; with `--speedup 3600` they are
/// sent a second apart. The system has two 1000 GB disks: the 1500 GB job
/// fits nowhere, the job without I/O gives no request. The two granted jobs
/// last 36 h of trace time, 36 s of replay: still live when status is read.
const TRACE: &str = "\
jobs:
- id: 1
  startTime: '2022-01-01 00:00:00'
  endTime: '2022-01-02 12:00:00'
  readBytes: 0
  writtenBytes: 600000000000
- id: 2
  startTime: '2022-01-01 01:00:00'
  endTime: '2022-01-02 13:00:00'
  readBytes: 700000000000
  writtenBytes: 100
- id: big
  startTime: '2022-01-01 02:00:00'
  endTime: '2022-01-01 03:00:00'
  readBytes: 1500000000000
  writtenBytes: 0
- id: 4
  startTime: '2022-01-01 02:30:00'
  endTime: '2022-01-01 03:00:00'
  readBytes: 0
  writtenBytes: 0
";

#[test]
fn sim_client_replays_a_trace_and_summarises_the_outcome() {
    let live = Live::running(SMALL_SYSTEM, false);
    let trace = live.dir.path().join("jobs.yml");
    std::fs::write(&trace, TRACE).unwrap();

    let out = live.run(&[
        "sim-client",
        "-j",
        trace.to_str().unwrap(),
        "--speedup",
        "3600",
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "sim-client failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(s["jobs_read"], 4, "{s:#}");
    assert_eq!(s["jobs_without_request"]["no_io"], 1, "{s:#}");
    assert_eq!(s["submitted"], 3, "{s:#}");
    assert_eq!(s["granted"], 2, "{s:#}");
    assert_eq!(s["refused"], 1, "{s:#}");
    assert_eq!(s["errors"], 0, "{s:#}");
    assert_eq!(s["granted_gb"], 1300.0, "{s:#}");

    // The orchestrator holds exactly what the replay was granted, on
    // different disks (each is 1000 GB), with no disk over capacity.
    let status = live.status();
    assert_eq!(used_bytes(&status), 1_300_000_000_000);
    assert_invariants(&status);
}

#[test]
fn sim_client_rejects_a_bad_speedup_before_sending_anything() {
    let live = Live::new(SMALL_SYSTEM, false);
    let trace = live.dir.path().join("jobs.yml");
    std::fs::write(&trace, TRACE).unwrap();
    let out = std::process::Command::new(BIN)
        .args([
            "sim-client",
            "--orchestrator",
            "127.0.0.1:1",
            "-j",
            trace.to_str().unwrap(),
            "--speedup",
            "0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--speedup"), "{err}");
}
