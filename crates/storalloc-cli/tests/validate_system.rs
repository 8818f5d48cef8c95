//! `storalloc system validate` on the users' real files and on broken ones.

mod validate_common;

use validate_common::{example, shared, storalloc, text};

#[test]
fn summarises_a_real_system() {
    let out = storalloc()
        .args(["system", "validate"])
        .arg(shared("systems/ault14.yml"))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("ault14.yml: OK"), "{stdout}");
    assert!(stdout.contains("hosts: 1, disks: 8"), "{stdout}");
    assert!(stdout.contains("total capacity: 64 TB"), "{stdout}");
    assert!(
        stdout.contains("aggregate write bandwidth: 12.5 GB/s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ault14: 8 disk(s), 64 TB, disks write 23.44 GB/s, network 12.5 GB/s"),
        "{stdout}"
    );
}

#[test]
fn validates_every_shared_system_in_one_call() {
    let mut files = Vec::new();
    let mut todo = vec![shared("systems")];
    while let Some(dir) = todo.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 20);
    let out = storalloc()
        .args(["system", "validate"])
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).matches(": OK\n").count(), files.len());
}

#[test]
fn reports_every_bad_file_and_still_checks_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let good = shared("systems/ault14-small.yml");
    let original = std::fs::read_to_string(&good).unwrap();
    let negative = dir.path().join("negative.yml");
    std::fs::write(
        &negative,
        original.replacen("capacity: 500", "capacity: -5", 1),
    )
    .unwrap();
    let empty = dir.path().join("nohosts.yml");
    std::fs::write(&empty, "hosts: []\n").unwrap();
    let missing = dir.path().join("missing.yml");

    let out = storalloc()
        .args(["system", "validate"])
        .arg(&negative)
        .arg(&good)
        .arg(&empty)
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(stdout.contains("ault14-small.yml: OK"), "{stdout}");
    assert!(stdout.contains("total capacity: 1.5 TB"), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "error: {}: hosts[0].disks[0].capacity: expected a positive number of GB, got -5",
            negative.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "error: {}: hosts: expected a non-empty list of hosts, got an empty list",
            empty.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("error: {}: cannot read:", missing.display())),
        "{stderr}"
    );
    assert!(stderr.contains("3 of 4 file(s) invalid"), "{stderr}");
}

#[test]
fn the_example_system_validates_without_warnings() {
    let example = example("system.yml");
    let out = storalloc()
        .args(["system", "validate"])
        .arg(&example)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("hosts: 2, disks: 4"), "{stdout}");
    assert!(!stdout.contains("warning"), "{stdout}");
}
