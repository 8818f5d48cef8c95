//! `storalloc bench retention`, run as a user would: the JSON it prints,
//! and that finished allocations leave memory after the retention period.

const BIN: &str = env!("CARGO_BIN_EXE_storalloc");

fn bench(args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN)
        .args(["bench", "retention"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn finished_allocations_in_memory_are_bounded_by_the_retention_window() {
    let out = bench(&[
        "--finished",
        "2000",
        "--checkpoints",
        "1000,2000",
        "--retention",
        "60",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["retention_s"], 60);
    assert_eq!(v["finished"], 2000);
    let cps = v["checkpoints"].as_array().unwrap();
    assert_eq!(
        cps.iter()
            .map(|c| c["finished"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1000, 2000]
    );
    for c in cps {
        for key in ["rss_kib", "api_state_bytes", "db_bytes"] {
            assert!(c[key].as_u64().unwrap() > 0, "{key}: {c}");
        }
        for key in ["status_p50_ms", "finished_per_s"] {
            assert!(c[key].as_f64().unwrap() > 0.0, "{key}: {c}");
        }
    }
    // Rounds of 1,000 one-hour allocations: at 2,000 finished, the first
    // round ended an hour ago, past the 60 s retention, so it is in the
    // history table and only the last round's are still in memory.
    let last = &cps[1];
    let in_memory = last["finished_in_memory"].as_u64().unwrap();
    let in_history = last["in_history"].as_u64().unwrap();
    assert_eq!(in_memory, 1000, "{last}");
    assert_eq!(in_history, 1000, "{last}");
    // The next round is running; nothing else is in memory.
    assert_eq!(last["live_in_memory"], 1000, "{last}");
    assert_eq!(cps[0]["in_history"], 0, "nothing is past retention yet");
}

#[test]
fn a_checkpoint_beyond_the_total_is_refused_with_its_value() {
    let out = bench(&["--finished", "2000", "--checkpoints", "1000,5000"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--checkpoints: 5000 is not between 1 and --finished (2000)"),
        "{err}"
    );
}
