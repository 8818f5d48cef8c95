//! A file that does not exist: every command says which one and why, once
//! (error chains used to repeat the io error). No orchestrator is needed:
//! each command fails on the file before it would connect.

mod validate_common;

use validate_common::{example, storalloc, text};

const MISSING: &str = "/nonexistent-storalloc-test/input.yml";
const CAUSE: &str = "No such file or directory";

/// `storalloc ARGS` fails, naming `MISSING` and the cause exactly once each.
fn says_once(args: &[&str]) {
    let out = storalloc().args(args).output().unwrap();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{args:?}: {all}");
    assert_eq!(
        all.matches(MISSING).count(),
        1,
        "{args:?}: path once: {all}"
    );
    assert_eq!(all.matches(CAUSE).count(), 1, "{args:?}: cause once: {all}");
}

#[test]
fn a_missing_file_is_named_with_its_cause_once() {
    let config = example("config.yml");
    let system = example("system.yml");
    let (config, system) = (config.to_str().unwrap(), system.to_str().unwrap());
    says_once(&["client", "-c", MISSING, "-s", "1", "-t", "1:00:00"]);
    says_once(&["status", "-c", MISSING]);
    says_once(&["orchestrator", "-c", MISSING]);
    says_once(&["server", "-c", config, "-s", MISSING, "--simulate"]);
    says_once(&["config", "validate", MISSING]);
    says_once(&["system", "validate", MISSING]);
    says_once(&["simulate", "--system", MISSING, "--jobs", MISSING]);
    says_once(&["simulate", "--system", system, "--jobs", MISSING]);
    says_once(&[
        "simulate", "--system", system, "--jobs", system, "--config", MISSING,
    ]);
    says_once(&["sim-client", "-c", config, "--jobs", MISSING]);
}
