//! Each way a system file can be wrong, with the exact message a user sees.

use storalloc_config::parse_system;
use storalloc_core::{Bytes, Medium};

const GOOD: &str = "\
hosts:
  - hostname: ault14
    ipv4: 148.187.104.85
    network_bw: 12.5
    disks:
      - vendor: INTEL
        capacity: 8000
        write_bandwidth: 2.93
        read_bandwidth: 3.13
        block_device: /dev/nvme0n1
      - capacity: 1.5
        write_bandwidth: 2.93
        read_bandwidth: 3.13
  - hostname: ault15
    network_bw: 25
    disks:
      - capacity: 400
        write_bandwidth: 1
        read_bandwidth: 2
";

/// `GOOD` with the first line containing `from` changed to contain `to`.
fn with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    GOOD.replacen(from, to, 1)
}

fn error(text: &str) -> String {
    match parse_system(text, "ault14.yml") {
        Ok(s) => panic!("accepted: {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_base_text_is_valid() {
    let s = parse_system(GOOD, "ault14.yml").unwrap().system;
    assert_eq!(s.nodes.len(), 2);
    assert_eq!(s.nodes[0].disks[1].capacity, Bytes(1_500_000_000));
    assert_eq!(s.total_capacity(), Bytes(8_401_500_000_000));
}

#[test]
fn negative_capacity() {
    let text = with("capacity: 400", "capacity: -5");
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[1].disks[0].capacity: expected a positive number of GB, got -5"
    );
}

#[test]
fn zero_nan_and_text_capacities() {
    for (value, shown) in [
        ("0", "0"),
        ("0.0", "0.0"),
        (".nan", ".nan"),
        (".inf", ".inf"),
        ("-1.5", "-1.5"),
        ("lots", "\"lots\""),
        ("\"8000 XB\"", "\"8000 XB\""),
        ("[1, 2]", "a list"),
        ("", "nothing (null)"),
        ("0.0000000001", "0.0000000001"),
    ] {
        let text = with("capacity: 8000", &format!("capacity: {value}"));
        assert_eq!(
            error(&text),
            format!(
                "ault14.yml: hosts[0].disks[0].capacity: expected a positive number of GB, got {shown}"
            )
        );
    }
}

#[test]
fn capacities_with_units_and_fractions_are_exact() {
    let text = with("capacity: 8000", "capacity: 7.68 TB");
    let s = parse_system(&text, "x.yml").unwrap().system;
    assert_eq!(s.nodes[0].disks[0].capacity, Bytes(7_680_000_000_000));
}

#[test]
fn bad_bandwidths() {
    let text = with("write_bandwidth: 1", "write_bandwidth: 0");
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[1].disks[0].write_bandwidth: expected a positive number of GB/s, got 0"
    );
    let text = with("read_bandwidth: 3.13", "read_bandwidth: fast");
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[0].disks[0].read_bandwidth: expected a positive number of GB/s, got \"fast\""
    );
    let text = with("network_bw: 25", "network_bw: -.inf");
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[1].network_bw: expected a positive number of GB/s, got -.inf"
    );
}

#[test]
fn missing_fields() {
    let text = with("        write_bandwidth: 1\n", "");
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[1].disks[0].write_bandwidth: missing; expected a positive number of GB/s"
    );
    let text = with("    network_bw: 12.5\n", "");
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[0].network_bw: missing; expected a positive number of GB/s"
    );
}

#[test]
fn duplicate_hostnames() {
    let text = with("hostname: ault15", "hostname: ault14");
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[1].hostname: duplicate hostname \"ault14\" (also hosts[0].hostname)"
    );
}

#[test]
fn a_host_without_disks() {
    let text = GOOD.replace(
        "    disks:\n      - capacity: 400\n        write_bandwidth: 1\n        read_bandwidth: 2\n",
        "    disks: []\n",
    );
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[1].disks: expected a non-empty list of disks, got an empty list"
    );
    let text = GOOD.replace(
        "    disks:\n      - capacity: 400\n        write_bandwidth: 1\n        read_bandwidth: 2\n",
        "",
    );
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[1].disks: missing; expected a non-empty list of disks"
    );
}

#[test]
fn no_hosts() {
    assert_eq!(
        error("hosts: []\n"),
        "ault14.yml: hosts: expected a non-empty list of hosts, got an empty list"
    );
    assert_eq!(
        error("nodes: []\n"),
        "ault14.yml: hosts: missing; expected a non-empty list of hosts"
    );
    for empty in ["", "\n  \n", "# only a comment\n---\n"] {
        assert_eq!(
            error(empty),
            "ault14.yml: the file is empty (expected a YAML mapping with a `hosts` list)",
            "{empty:?}"
        );
    }
    assert_eq!(
        error("~\n"),
        "ault14.yml: expected a mapping with a `hosts` list at the top level, got nothing (null)"
    );
    assert_eq!(
        error("- a\n- b\n"),
        "ault14.yml: expected a mapping with a `hosts` list at the top level, got a list"
    );
}

#[test]
fn wrong_types() {
    let text = with("  - hostname: ault15", "  - 42\n  - hostname: ault15");
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[1]: expected a host (a mapping with hostname, network_bw, disks), got 42"
    );
    let text = with("hostname: ault15", "hostname: [a, b]");
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[1].hostname: expected a string, got a list"
    );
    let text = with(
        "      - vendor: INTEL",
        "      - true\n      - vendor: INTEL",
    );
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[0].disks[0]: expected a disk (a mapping with capacity, write_bandwidth, read_bandwidth), got true"
    );
    let text = with("hostname: ault14", "hostname: \"\"");
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[0].hostname: expected a non-empty string, got \"\""
    );
}

#[test]
fn medium_and_other_extensions() {
    let text = with(
        "        block_device: /dev/nvme0n1",
        "        block_device: /dev/nvme0n1\n        medium: NVMe\n        tier: fast\n        labels: [a, b]\n        backend: fs\n        mount: /mnt/nvme0",
    );
    let d = &parse_system(&text, "x.yml").unwrap().system.nodes[0].disks[0];
    assert_eq!(d.medium, Some(Medium::Nvme));
    assert_eq!(d.tier.as_deref(), Some("fast"));
    assert_eq!(d.labels, vec!["a".to_string(), "b".to_string()]);
    assert_eq!(d.backend.as_deref(), Some("fs"));
    assert_eq!(d.mount.as_deref(), Some("/mnt/nvme0"));

    let text = with("        block_device: /dev/nvme0n1", "        medium: tape");
    assert_eq!(
        error(&text),
        "ault14.yml: hosts[0].disks[0].medium: unknown medium \"tape\": expected one of nvme, ssd, hdd, pmem"
    );
}

#[test]
fn unknown_and_repeated_keys_are_warnings() {
    let text = with(
        "        block_device: /dev/nvme0n1",
        "        block_device: /dev/nvme0n1\n        colour: blue\n        capacity: 100",
    );
    let loaded = parse_system(&text, "ault14.yml").unwrap();
    assert_eq!(
        loaded.system.nodes[0].disks[0].capacity,
        Bytes::from_gb(100)
    );
    assert_eq!(
        loaded.warnings,
        vec![
            "ault14.yml: hosts[0].disks[0].capacity: duplicate key (again on line 12); the last value wins".to_string(),
            "ault14.yml: hosts[0].disks[0].colour: unknown key; ignored".to_string(),
        ]
    );
}

#[test]
fn invalid_yaml_names_file_and_line() {
    let err = error("hosts:\n  - hostname: [x\n");
    assert!(err.starts_with("ault14.yml: invalid YAML: "), "{err}");
    assert!(err.contains("line "), "{err}");
}

#[test]
fn unreadable_files_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yml");
    let err = storalloc_config::load_system(&missing)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}: cannot read: ", missing.display())),
        "{err}"
    );
    // The cause is in the message, not repeated as a source: error chains
    // (anyhow's `{:#}`) print it once.
    let e = storalloc_config::load_system(&missing).unwrap_err();
    assert!(std::error::Error::source(&e).is_none());
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    let binary = dir.path().join("bin.yml");
    std::fs::write(&binary, b"hosts:\n  - hostname: \xff\xfe\n").unwrap();
    let err = storalloc_config::load_system(&binary)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}: not UTF-8 text (invalid byte at offset 21)",
            binary.display()
        )
    );
}
