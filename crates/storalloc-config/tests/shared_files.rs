//! Every system and config file users have must load, with the meaning its
//! name and contents promise. New files dropped in the shared folders are
//! picked up automatically.

mod common;

use common::{shared_data, yaml_files};
use storalloc_config::{load_config, load_system, Transport};
use storalloc_core::{Bytes, StrategyKind};

/// Lines of `text` whose first token (after `- `) is `key:`.
fn count_key(text: &str, key: &str) -> usize {
    text.lines()
        .map(|l| l.trim_start().trim_start_matches("- ").trim_start())
        .filter(|l| l.starts_with(&format!("{key}:")))
        .count()
}

#[test]
fn every_system_file_loads() {
    let files = yaml_files(&shared_data().join("systems"));
    assert!(
        files.len() >= 20,
        "expected the shared system files, found {files:?}"
    );
    for file in files {
        let loaded = load_system(&file).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&file).unwrap();
        let sys = &loaded.system;
        assert_eq!(
            sys.nodes.len(),
            count_key(&text, "hostname"),
            "{}",
            file.display()
        );
        assert_eq!(
            sys.disk_count(),
            count_key(&text, "capacity"),
            "{}",
            file.display()
        );
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        for (r, disk) in sys.disks() {
            assert!(disk.capacity.get() > 0, "{} {r}", file.display());
            assert!(disk.write_bandwidth.get() > 0.0 && disk.read_bandwidth.get() > 0.0);
            assert!(!disk.block_device.is_empty());
        }
        // infra<N>TB*/: the layouts all add up to N TB.
        let dir = file
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy();
        if let Some(tb) = dir
            .strip_prefix("infra")
            .and_then(|d| d.split("TB").next())
            .and_then(|n| n.parse::<u64>().ok())
        {
            assert_eq!(
                sys.total_capacity(),
                Bytes::from_gb(tb * 1000),
                "{}",
                file.display()
            );
        }
    }
}

#[test]
fn ault14_reads_every_field() {
    let loaded = load_system(&shared_data().join("systems/ault14.yml")).unwrap();
    let node = &loaded.system.nodes[0];
    assert_eq!(node.hostname, "ault14");
    assert_eq!(node.ipv4, "148.187.104.85");
    assert_eq!(node.network_bw.get(), 12.5);
    let disk = &node.disks[3];
    assert_eq!(disk.capacity, Bytes::from_gb(8000));
    assert_eq!(disk.write_bandwidth.get(), 2.93);
    assert_eq!(disk.read_bandwidth.get(), 3.13);
    assert_eq!(disk.vendor, "INTEL");
    assert_eq!(disk.model, "SSDPE2KX080T8");
    assert_eq!(disk.serial, "BTLJ934106YT8P0HGN");
    assert_eq!(disk.block_device, "/dev/nvme3n1");
    assert_eq!(disk.medium, None);
    // 8 disks × 2.93 GB/s = 23.44 GB/s, capped by the 12.5 GB/s link.
    assert_eq!(loaded.system.aggregate_write_bandwidth().get(), 12.5);
}

#[test]
fn every_config_file_loads_with_the_settings_its_name_promises() {
    let files = yaml_files(&shared_data().join("configs"));
    assert!(
        files.len() >= 16,
        "expected the shared config files, found {files:?}"
    );
    for file in files {
        let loaded = load_config(&file).unwrap_or_else(|e| panic!("{e}"));
        let c = &loaded.config;
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let dir = file
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(&file).unwrap();

        let strategy = match name.as_str() {
            "config_rr.yml" => Some(StrategyKind::RoundRobin),
            "config_random.yml" => Some(StrategyKind::RandomAlloc),
            "config_worst_fit.yml" => Some(StrategyKind::WorstFit),
            "config_worst_case.yml" => Some(StrategyKind::WorstCase),
            _ => None,
        };
        if let Some(s) = strategy {
            assert_eq!(c.sched_strategy, s, "{}", file.display());
        }
        if dir.starts_with("split_200G") {
            assert_eq!(
                c.block_size,
                Some(Bytes::from_gb(200)),
                "{}",
                file.display()
            );
        }
        if dir.starts_with("split_100T") {
            assert_eq!(
                c.block_size,
                Some(Bytes::from_gb(100_000)),
                "{}",
                file.display()
            );
        }
        if dir.starts_with("split_") {
            assert_eq!(c.allow_retry, dir.ends_with("_retry"), "{}", file.display());
        }
        assert_eq!(c.transport, Transport::Tcp);
        assert_eq!(c.orchestrator_addr, "127.0.0.1");
        assert_eq!((c.client_port, c.server_port), (35010, 35020));

        // A repeated res_catalog loads, with a warning naming it.
        let repeats = count_key(&text, "res_catalog") > 1;
        let warned = loaded
            .warnings
            .iter()
            .any(|w| w.contains("res_catalog: duplicate key"));
        assert_eq!(repeats, warned, "{}: {:?}", file.display(), loaded.warnings);
        for w in &loaded.warnings {
            assert!(w.starts_with(&file.display().to_string()), "{w}");
        }
        assert!(loaded.warnings.iter().any(
            |w| w.contains("orchestrator_fe_ipc: not used (storalloc uses gRPC over TCP); ignored")
        ));

        let sched = c.scheduler_config(7);
        assert_eq!(sched.strategy, c.sched_strategy);
        assert_eq!(sched.block_size, c.block_size);
        assert_eq!(sched.allow_retry, c.allow_retry);
        assert_eq!(sched.seed, 7);
    }
}

#[test]
fn the_repository_examples_load() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let sys = load_system(&root.join("system.yml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(sys.warnings.is_empty(), "{:?}", sys.warnings);
    assert_eq!(sys.system.nodes.len(), 2);
    assert_eq!(sys.system.disk_count(), 4);
    let cfg = load_config(&root.join("config.yml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
    assert_eq!(cfg.config.orchestrator_addr, "127.0.0.1");
}
