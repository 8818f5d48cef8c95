//! `storalloc traces inspect` and `traces extract` on the shared real logs.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn darshan_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/darshan")
}

fn storalloc() -> Command {
    Command::cargo_bin("storalloc").expect("binary")
}

#[test]
fn inspect_json_matches_pydarshan_for_every_log() {
    let text = std::fs::read_to_string(darshan_dir().join("expected-pydarshan-3.5.0.json"))
        .expect("expected json");
    let expected: serde_json::Value = serde_json::from_str(&text).expect("json");
    let expected = expected.as_object().expect("object");
    assert_eq!(expected.len(), 15);
    for (rel, want) in expected {
        let out = storalloc()
            .args(["traces", "inspect", "--json"])
            .arg(darshan_dir().join(rel))
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{rel}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json out");
        assert_eq!(&got, want, "{rel}");
    }
}

#[test]
fn inspect_prints_a_human_summary() {
    let out = storalloc()
        .args(["traces", "inspect"])
        .arg(darshan_dir().join("release_logs/mpi-io-test-ppc64-3.1.8.darshan"))
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("# darshan log version: 3.10"), "{text}");
    assert!(text.contains("# byte order: Big"), "{text}");
    assert!(
        text.contains("total_POSIX_BYTES_WRITTEN: 67108864"),
        "{text}"
    );
    assert!(
        text.contains("# BG/Q module:") && text.contains("not decoded"),
        "{text}"
    );
}

#[test]
fn a_corrupt_log_fails_with_the_region_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = std::fs::read(darshan_dir().join("example.darshan")).expect("log");
    let cut = dir.path().join("cut.darshan");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let out = storalloc()
        .args(["traces", "inspect"])
        .arg(&cut)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cut.darshan") && err.contains("region"),
        "{err}"
    );
}

#[test]
fn extract_writes_a_trace_the_simulator_replays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("IOJobs.yml");
    storalloc()
        .args(["traces", "extract"])
        .arg(darshan_dir())
        .arg("-o")
        .arg(&trace)
        .assert()
        .success();
    let text = std::fs::read_to_string(&trace).expect("trace");
    assert_eq!(text.matches("- MPIprocs:").count(), 15, "{text}");
    assert!(text.contains("id: 4478544"), "{text}");

    let big = dir.path().join("big.yml");
    storalloc()
        .args(["traces", "extract"])
        .arg(darshan_dir())
        .args(["--min-bytes", "10GB", "-o"])
        .arg(&big)
        .assert()
        .success();
    let text = std::fs::read_to_string(&big).expect("trace");
    assert_eq!(text.matches("- MPIprocs:").count(), 3, "{text}");

    storalloc()
        .args(["simulate", "--system", "uniform:4x2:8TB", "--jobs"])
        .arg(&trace)
        .assert()
        .success();
}
