//! `storalloc config validate` on the users' real files and on broken ones.

mod validate_common;

use validate_common::{example, shared, storalloc, text};

#[test]
fn summarises_a_real_config_with_its_duplicate_key() {
    let file = shared("configs/split_200G_retry/config_rr.yml");
    let out = storalloc()
        .args(["config", "validate"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for want in [
        "config_rr.yml: OK",
        "strategy: round_robin",
        "split: requests above 200 GB are split into 200 GB blocks",
        "retry: on",
        "orchestrator: localhost (127.0.0.1), clients on 127.0.0.1:35010, agents on 127.0.0.1:35020",
        "res_catalog: duplicate key",
        "orchestrator_fe_ipc: not used (storalloc uses gRPC over TCP); ignored",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }
}

#[test]
fn never_split_and_no_retry() {
    let out = storalloc()
        .args(["config", "validate"])
        .arg(shared("configs/split_100T/config_worst_case.yml"))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("strategy: worst_case"), "{stdout}");
    assert!(stdout.contains("split: requests above 100 TB"), "{stdout}");
    assert!(stdout.contains("retry: off"), "{stdout}");
}

#[test]
fn bad_strategy_fails_and_other_files_are_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "sched_strategy: fastest\n").unwrap();
    let broken = dir.path().join("broken.yml");
    std::fs::write(&broken, "client_port: [35010\n").unwrap();
    let good = example("config.yml");
    let out = storalloc()
        .args(["config", "validate"])
        .arg(&bad)
        .arg(&good)
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(stdout.contains("config.yml: OK"), "{stdout}");
    assert!(stdout.contains("strategy: worst_fit"), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "error: {}: sched_strategy: unknown strategy \"fastest\": valid strategies are random_alloc, round_robin, worst_fit, worst_case, best_fit, earliest_start",
            bad.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("error: {}: invalid YAML:", broken.display())),
        "{stderr}"
    );
    assert!(stderr.contains("2 of 3 file(s) invalid"), "{stderr}");
}

#[test]
fn validate_needs_a_file() {
    let out = storalloc().args(["config", "validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
