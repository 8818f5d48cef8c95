//! Helpers shared by the simulator's tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use storalloc_core::{Bytes, SchedulerConfig, StrategyKind, System};
use storalloc_sim::{replay, RunOptions, RunOutput, Workload};
use storalloc_traces::{MappingOptions, ReadOptions};

pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

pub const T0: i64 = 1_640_995_200; // 2022-01-01 00:00:00 UTC

/// One job line of a trace: start offset and duration in seconds, read and
/// written GB.
pub struct J(pub i64, pub i64, pub u64, pub u64);

pub fn trace_text(jobs: &[J]) -> String {
    let mut s = String::from("jobs:\n");
    for (i, J(start, dur, read, written)) in jobs.iter().enumerate() {
        s.push_str(&format!(
            "- id: {}\n  startTime: '{}'\n  endTime: '{}'\n  readBytes: {}\n  writtenBytes: {}\n",
            i + 1,
            T0 + start,
            T0 + start + dur,
            read * Bytes::GB,
            written * Bytes::GB
        ));
    }
    s
}

pub fn workload(jobs: &[J]) -> Workload {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("trace.yaml");
    std::fs::write(&p, trace_text(jobs)).unwrap();
    Workload::load(&p, ReadOptions::default(), MappingOptions::default()).unwrap()
}

pub fn one_disk(gb: u64) -> System {
    System::uniform(1, 1, Bytes::from_gb(gb))
}

pub fn config(kind: StrategyKind, block_gb: Option<u64>, retry: bool) -> SchedulerConfig {
    SchedulerConfig {
        strategy: kind,
        block_size: block_gb.map(Bytes::from_gb),
        allow_retry: retry,
        seed: 7,
    }
}

/// Runs with invariants checked after every step.
pub fn run_checked(
    system: &System,
    cfg: &SchedulerConfig,
    w: &Workload,
    out: Option<&Path>,
) -> RunOutput {
    replay(
        system,
        cfg,
        w,
        out,
        RunOptions {
            check_invariants: true,
            ..RunOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", cfg.strategy))
}

/// Skips a test whose component (root, munged, chromium, a QEMU guest…) is
/// missing here, saying why. With `STORALLOC_REQUIRE_ALL=1` (CI sets it)
/// fails it instead, so that a missing component cannot pass unnoticed.
/// Returns only when skipping is allowed.
#[allow(dead_code)]
pub fn skip_or_fail(reason: &str) {
    if std::env::var("STORALLOC_REQUIRE_ALL").is_ok_and(|v| !v.is_empty() && v != "0") {
        panic!("not skipped: {reason} (STORALLOC_REQUIRE_ALL=1 forbids skipping)");
    }
    eprintln!("SKIPPED: {reason}");
}
