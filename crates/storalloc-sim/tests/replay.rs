//! The shared real traces replay under every strategy, with the core's
//! invariants checked after every step, and the outputs are deterministic.

mod common;
use common::*;
use storalloc_core::{StrategyKind, System};
use storalloc_sim::Workload;
use storalloc_traces::{MappingOptions, ReadOptions};

fn system(rel: &str) -> System {
    storalloc_config::load_system(&shared(rel)).unwrap().system
}

fn trace(name: &str) -> Workload {
    Workload::load(
        &shared(&format!("traces/{name}")),
        ReadOptions::default(),
        MappingOptions::default(),
    )
    .unwrap()
}

#[test]
fn both_traces_replay_under_every_strategy_with_invariants_intact() {
    let systems = [
        "systems/infra2TB/multi_node_multi_disk.yml",
        "systems/infra32TBBB/multi_node_multi_disk.yml",
    ];
    for name in ["theta2022_week4.yaml", "theta2022_week6.yaml"] {
        let w = trace(name);
        assert_eq!(w.jobs.len() + w.skipped_total(), w.read.jobs_read);
        for sys in systems {
            let s = system(sys);
            for kind in StrategyKind::ALL {
                for (block, retry) in [(None, false), (Some(200), true)] {
                    let r = run_checked(&s, &config(kind, block, retry), &w, None);
                    let m = &r.metrics;
                    let ctx = format!("{name} on {sys} with {kind} {block:?} {retry}");
                    assert_eq!(m.requests_count as usize, w.jobs.len(), "{ctx}");
                    assert_eq!(
                        m.granted_requests_count + m.refused_requests_count,
                        m.requests_count,
                        "{ctx}"
                    );
                    assert_eq!(m.allocated_bytes, m.deallocated_bytes, "{ctx}");
                    assert!(m.max_utilisation() <= 1.0, "{ctx}");
                    for d in m.nodes.iter().flat_map(|n| &n.disks) {
                        assert!(d.max_cap_utilisation <= 1.0, "{ctx}");
                        assert!(
                            d.mean_capacity_utilisation <= d.max_cap_utilisation,
                            "{ctx}"
                        );
                    }
                    if !retry && kind != StrategyKind::EarliestStart {
                        assert_eq!(m.delayed_requests_count, 0, "{ctx}");
                    }
                }
            }
        }
    }
}

#[test]
fn the_same_inputs_and_seed_give_byte_identical_outputs() {
    let w = trace("theta2022_week6.yaml");
    let s = system("systems/infra8TB/multi_node_multi_disk.yml");
    for kind in [StrategyKind::RandomAlloc, StrategyKind::WorstCase] {
        let cfg = config(kind, Some(200), true);
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        run_checked(&s, &cfg, &w, Some(a.path()));
        run_checked(&s, &cfg, &w, Some(b.path()));
        for f in [
            "output.yml",
            "usage.csv",
            "disks.csv",
            "nodes.csv",
            "report.html",
        ] {
            let x = std::fs::read(a.path().join(f)).unwrap();
            let y = std::fs::read(b.path().join(f)).unwrap();
            assert!(x == y, "{f} differs between two runs of {kind}");
            assert!(!x.is_empty(), "{f} is empty");
        }
    }
}

#[test]
fn the_csv_series_agree_with_the_metrics() {
    let w = trace("theta2022_week4.yaml");
    let s = system("systems/infra16TB/multi_node_multi_disk.yml");
    let dir = tempfile::tempdir().unwrap();
    let r = run_checked(
        &s,
        &config(StrategyKind::WorstFit, None, false),
        &w,
        Some(dir.path()),
    );
    let usage = std::fs::read_to_string(dir.path().join("usage.csv")).unwrap();
    let mut max_alloc = 0u32;
    let mut last = None;
    for l in usage.lines().skip(1) {
        let cols: Vec<&str> = l.split(',').collect();
        max_alloc = max_alloc.max(cols[4].parse().unwrap());
        last = Some((cols[2].to_string(), cols[4].to_string()));
    }
    assert_eq!(max_alloc, r.metrics.max_concurrent_allocations);
    // Everything has ended by the last row.
    assert_eq!(last, Some(("0".to_string(), "0".to_string())));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("window.StorallocCharts") && html.contains("id=\"report-data\""));
    assert!(
        !html.contains(" src=") && !html.contains("https://"),
        "the report must be self-contained"
    );
}
