//! `storalloc simulate` and `storalloc traces synth` end to end.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

fn storalloc() -> Command {
    Command::cargo_bin("storalloc").unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const SYSTEM: &str = "systems/infra8TB/multi_node_multi_disk.yml";

#[test]
fn all_strategies_write_per_strategy_outputs_and_json() {
    let out = tempfile::tempdir().unwrap();
    let assert = storalloc()
        .args(["simulate", "--system", s(&data(SYSTEM)), "--jobs"])
        .arg(data("traces/theta2022_week4.yaml"))
        .args([
            "--strategy",
            "all",
            "--block-size",
            "200",
            "--retry",
            "--json",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6);
    for r in runs {
        assert_eq!(r["requests"], 211);
        let total = r["accepted"].as_u64().unwrap() + r["refused"].as_u64().unwrap();
        assert_eq!(total, 211);
        let dir = out.path().join(r["strategy"].as_str().unwrap());
        let yml = std::fs::read_to_string(dir.join("output.yml")).unwrap();
        assert!(yml.contains("split_threshold_gb: 200\n"), "{yml}");
        assert!(yml.contains("retries_allowed: true\n"));
        for f in ["usage.csv", "disks.csv", "nodes.csv", "report.html"] {
            assert!(dir.join(f).is_file(), "{f}");
        }
    }
    assert_eq!(json["jobs_read"], 211);
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains("worst_case/report.html"));
    // The charts are drawn by the inlined storalloc-charts from this data.
    assert!(html.contains("window.StorallocCharts"));
    assert!(html.contains("<script type=\"application/json\" id=\"report-data\">{\"runs\":[{"));
    let csv = std::fs::read_to_string(out.path().join("comparison.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);
}

#[test]
fn the_table_is_printed_and_the_config_supplies_the_strategy() {
    let assert = storalloc()
        .args(["simulate", "--system", s(&data(SYSTEM)), "--jobs"])
        .arg(data("traces/theta2022_week6.yaml"))
        .arg("--config")
        .arg(data("configs/split_200G_retry/config_worst_case.yml"))
        .assert()
        .success();
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(out.starts_with("strategy"), "{out}");
    assert!(
        out.lines().nth(1).unwrap().starts_with("worst_case "),
        "{out}"
    );
    // 34 jobs of week 6 have no I/O and are reported, not replayed.
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(err.contains("34 no_io"), "{err}");
}

#[test]
fn an_unknown_strategy_lists_the_valid_ones() {
    let assert = storalloc()
        .args(["simulate", "--system", s(&data(SYSTEM)), "--jobs"])
        .arg(data("traces/theta2022_week4.yaml"))
        .args(["--strategy", "fastest"])
        .assert()
        .failure();
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    for name in [
        "fastest",
        "random_alloc",
        "round_robin",
        "worst_fit",
        "worst_case",
        "all",
    ] {
        assert!(err.contains(name), "{name} missing from {err}");
    }
}

#[test]
fn a_malformed_trace_names_the_job_and_field_unless_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("bad.yaml");
    std::fs::write(
        &trace,
        "jobs:\n- id: 1\n  startTime: '2022-01-01 00:00:00'\n  endTime: '2022-01-01 01:00:00'\n  readBytes: 10000000000\n  writtenBytes: 0\n\
- id: abc\n  startTime: '2022-01-01 00:00:00'\n  endTime: '2021-01-01 01:00:00'\n  readBytes: 1\n  writtenBytes: 0\n",
    )
    .unwrap();
    let assert = storalloc()
        .args([
            "simulate",
            "--system",
            s(&data(SYSTEM)),
            "--jobs",
            s(&trace),
        ])
        .assert()
        .failure();
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("bad.yaml")
            && err.contains("job #1")
            && err.contains("id abc")
            && err.contains("endTime"),
        "{err}"
    );
    let assert = storalloc()
        .args([
            "simulate",
            "--system",
            s(&data(SYSTEM)),
            "--jobs",
            s(&trace),
            "--skip-invalid",
            "--json",
        ])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(json["jobs_skipped_invalid"], 1);
    assert_eq!(json["skip_reasons"]["endTime: end before start"], 1);
    assert_eq!(json["runs"][0]["requests"], 1);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(err.contains("skipped 1 invalid job"), "{err}");
}

#[test]
fn synth_is_deterministic_and_replayable() {
    let dir = tempfile::tempdir().unwrap();
    let like = data("traces/theta2022_week4.yaml");
    let gen = |seed: &str, name: &str| {
        let p = dir.path().join(name);
        storalloc()
            .args([
                "traces",
                "synth",
                "--like",
                s(&like),
                "--jobs",
                "500",
                "--seed",
                seed,
                "-o",
                s(&p),
            ])
            .assert()
            .success();
        std::fs::read(p).unwrap()
    };
    let a = gen("1", "a.yaml");
    assert_eq!(a, gen("1", "b.yaml"));
    assert_ne!(a, gen("2", "c.yaml"));
    let run = || {
        let out = dir.path().join("out");
        storalloc()
            .args([
                "simulate",
                "--system",
                "uniform:4x2:2TB",
                "--jobs",
                s(&dir.path().join("a.yaml")),
            ])
            .args([
                "--strategy",
                "random_alloc",
                "--seed",
                "3",
                "--json",
                "--out",
                s(&out),
            ])
            .assert()
            .success();
        std::fs::read(out.join("output.yml")).unwrap()
    };
    let first = run();
    assert_eq!(first, run(), "output.yml must be byte-identical");
    let text = String::from_utf8(first).unwrap();
    assert!(text.contains("jobs_read: 500\n"), "{text}");
    assert!(text.contains("total_capacity_gb: 16000\n"), "{text}");
}
