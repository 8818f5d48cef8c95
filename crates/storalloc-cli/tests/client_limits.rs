//! `storalloc client` checks every flag against the orchestrator's limits
//! (storalloc_core::request) before anything is sent: exit code 2 and a
//! message naming the flag and the value. No orchestrator runs here, and
//! none is named, so a check that let the request through would fail with
//! another message and exit code 1.

mod validate_common;

use validate_common::{storalloc, text};

/// `storalloc client ARGS` must exit 2 with every one of `want` on stderr.
fn refused(args: &[&str], want: &[&str]) {
    let out = storalloc().arg("client").args(args).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
    for w in want {
        assert!(err.contains(w), "{args:?}: missing {w:?} in {err}");
    }
}

#[test]
fn a_duration_beyond_ten_years_is_refused_naming_the_flag() {
    refused(
        &["-s", "10", "-t", "99999999:00:00"],
        &[
            "-t/--time: \"99999999:00:00\"",
            "longer than the limit of 3650-00:00:00 (3650 days)",
        ],
    );
    refused(
        &["-s", "10", "-t", "3651d"],
        &["-t/--time: \"3651d\"", "3650 days"],
    );
}

#[test]
fn a_start_before_1970_or_after_2200_is_refused() {
    refused(
        &["-s", "10", "-t", "1:00:00", "--start-time", "-1"],
        &["--start-time: \"-1\" is before 1970-01-01 00:00:00"],
    );
    refused(
        &[
            "-s",
            "10",
            "-t",
            "1:00:00",
            "--start-time",
            "9999-12-31 00:00:00",
        ],
        &[
            "--start-time: \"9999-12-31 00:00:00\"",
            "later than the latest accepted start, 2200-01-01 00:00:00",
        ],
    );
}

#[test]
fn a_huge_max_delay_is_refused() {
    refused(
        &["-s", "10", "-t", "1:00:00", "--max-delay", "99999999999d"],
        &[
            "--max-delay: \"99999999999d\"",
            "longer than the limit of 3650-00:00:00",
        ],
    );
}

#[test]
fn requests_at_the_limits_pass_the_checks() {
    // Accepted flags get as far as looking for the orchestrator, which
    // nobody named: exit 1 with that message, not 2.
    let out = storalloc()
        .args(["client", "-s", "10", "-t", "3650d", "--max-delay", "3650d"])
        .args(["--start-time", "2200-01-01 00:00:00"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("say where the orchestrator is"), "{err}");
}
