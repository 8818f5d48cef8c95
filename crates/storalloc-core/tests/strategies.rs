//! Hand-computed cases for each strategy. Existing use is set up with
//! `restore`, which puts an allocation exactly where we say.

mod common;

use common::*;
use storalloc_core::{
    AllocId, Bandwidth, Decision, Disk, Node, RefusalReason, Scheduler, SchedulerConfig,
    StrategyKind, System,
};

fn with_seed(kind: StrategyKind, sys: System, seed: u64) -> Scheduler {
    let mut cfg = SchedulerConfig::new(kind);
    cfg.seed = seed;
    Scheduler::new(sys, cfg)
}

// ---------- random_alloc ----------

#[test]
fn random_alloc_only_picks_disks_with_room() {
    // Free in [0, 60): 50, 90, 30 GB. Only the middle disk holds 80 GB,
    // whatever the seed.
    for seed in 0..20 {
        let mut s = with_seed(StrategyKind::RandomAlloc, system(&[&[100, 100, 100]]), seed);
        occupy(&mut s, 100, disk(0, 0), 50, 0, 60);
        occupy(&mut s, 101, disk(0, 1), 10, 0, 60);
        occupy(&mut s, 102, disk(0, 2), 70, 0, 60);
        assert_eq!(grant(&mut s, 1, &req(80, 60, 0)), vec![disk(0, 1)]);
        // Now nothing holds 80 GB: refused, never over-committed.
        let r = refused(&mut s, 2, &req(80, 60, 0));
        assert_eq!(r.reason, RefusalReason::NoCapacity);
    }
}

#[test]
fn random_alloc_uses_every_disk_with_room() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..40 {
        let mut s = with_seed(
            StrategyKind::RandomAlloc,
            system(&[&[100, 100], &[100]]),
            seed,
        );
        occupy(&mut s, 100, disk(0, 1), 95, 0, 60);
        seen.insert(grant(&mut s, 1, &req(10, 60, 0))[0]);
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        vec![disk(0, 0), disk(1, 0)]
    );
}

// ---------- round_robin ----------

#[test]
fn round_robin_cycles_in_node_disk_order() {
    let mut s = sched(
        system(&[&[100, 100], &[100, 100]]),
        StrategyKind::RoundRobin,
    );
    let order: Vec<_> = (0..5)
        .map(|i| grant(&mut s, i, &req(10, 60, 0))[0])
        .collect();
    assert_eq!(
        order,
        vec![disk(0, 0), disk(0, 1), disk(1, 0), disk(1, 1), disk(0, 0)]
    );
}

#[test]
fn round_robin_skips_full_disks_and_accepts_an_exact_fit() {
    let mut s = sched(
        system(&[&[100, 100], &[100, 100]]),
        StrategyKind::RoundRobin,
    );
    occupy(&mut s, 100, disk(0, 0), 60, 0, 60);
    occupy(&mut s, 101, disk(0, 1), 60, 0, 60);
    occupy(&mut s, 102, disk(1, 0), 60, 0, 60);
    // Exactly 100 GB free on node 1 disk 1: accepted (the original wanted
    // strictly more).
    let d = s.submit(AllocId(1), &req(100, 60, 0), at_min(0));
    let g = d.grant().expect("granted");
    assert_eq!(g.allocation.placements[0].disk, disk(1, 1));
    assert!(
        g.explanation.contains("after 3 without room"),
        "{}",
        g.explanation
    );
    // The cursor moved past node 1 disk 1: the next 10 GB goes to node 0 disk 0.
    assert_eq!(grant(&mut s, 2, &req(10, 60, 0)), vec![disk(0, 0)]);
}

#[test]
fn round_robin_refuses_after_five_rejected_candidates() {
    // Six disks, only the sixth has room: five rejections, then refusal.
    let mut s = sched(
        system(&[&[100, 100, 100], &[100, 100, 100]]),
        StrategyKind::RoundRobin,
    );
    for i in 0..5u32 {
        occupy(&mut s, 100 + i as u64, disk(i / 3, i % 3), 90, 0, 60);
    }
    let r = refused(&mut s, 1, &req(50, 60, 0));
    assert_eq!(r.reason, RefusalReason::CandidatesExhausted);
    assert!(r.explanation.contains("tried 5 disks"), "{}", r.explanation);
    // The cursor moved on: the next attempt starts at the sixth disk.
    assert_eq!(grant(&mut s, 2, &req(50, 60, 0)), vec![disk(1, 2)]);
}

// ---------- worst_fit and best_fit ----------

/// Disks of 1000, 500 and 800 GB with 500, 100 and 200 GB in use during
/// [0, 60): free fractions 0.5, 0.8, 0.75; free space 500, 400, 600 GB.
/// Disk 0 also has 400 GB in use during [60, 120), outside the window.
fn three_disks(kind: StrategyKind) -> Scheduler {
    let mut s = sched(system(&[&[1000, 500, 800]]), kind);
    occupy(&mut s, 100, disk(0, 0), 500, 0, 60);
    occupy(&mut s, 101, disk(0, 1), 100, 0, 60);
    occupy(&mut s, 102, disk(0, 2), 200, 0, 60);
    occupy(&mut s, 103, disk(0, 0), 400, 60, 120);
    s
}

#[test]
fn worst_fit_takes_the_largest_free_fraction_that_fits() {
    let mut s = three_disks(StrategyKind::WorstFit);
    // 100 GB: disk 1 has the largest fraction (80%).
    assert_eq!(grant(&mut s, 1, &req(100, 60, 0)), vec![disk(0, 1)]);
    // Disk 1 now has 300 GB free (60%); 450 GB fits only on disks 0 (500)
    // and 2 (600): disk 2 has the larger fraction (75% vs 50%).
    assert_eq!(grant(&mut s, 2, &req(450, 60, 0)), vec![disk(0, 2)]);
    // 500 GB in [0, 60): only disk 0, which has exactly 500 GB free.
    assert_eq!(grant(&mut s, 3, &req(500, 60, 0)), vec![disk(0, 0)]);
    // Disk 0 is full during [0, 60) but its peak over [120, 180) is zero:
    // a 1000 GB request there fits only on it.
    assert_eq!(grant(&mut s, 4, &req(1000, 60, 120)), vec![disk(0, 0)]);
}

#[test]
fn worst_fit_counts_the_peak_not_the_sum_of_overlaps() {
    // Two 60 GB reservations on a 100 GB disk that do not overlap each
    // other: the original subtracted both; the calendar knows the peak is 60.
    let mut s = sched(system(&[&[100]]), StrategyKind::WorstFit);
    occupy(&mut s, 100, disk(0, 0), 60, 0, 30);
    occupy(&mut s, 101, disk(0, 0), 60, 30, 60);
    assert_eq!(grant(&mut s, 1, &req(40, 60, 0)), vec![disk(0, 0)]);
    refused(&mut s, 2, &req(1, 60, 0));
}

#[test]
fn worst_fit_breaks_ties_at_random() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..30 {
        let mut s = with_seed(StrategyKind::WorstFit, system(&[&[100, 100, 200]]), seed);
        occupy(&mut s, 100, disk(0, 2), 150, 0, 60); // 25% free, never chosen
        seen.insert(grant(&mut s, 1, &req(10, 60, 0))[0]);
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        vec![disk(0, 0), disk(0, 1)]
    );
}

#[test]
fn best_fit_leaves_the_least_free_space() {
    let mut s = three_disks(StrategyKind::BestFit);
    // 100 GB leaves 400, 300, 500 GB: disk 1.
    let d = s.submit(AllocId(1), &req(100, 60, 0), at_min(0));
    let g = d.grant().unwrap();
    assert_eq!(g.allocation.placements[0].disk, disk(0, 1));
    assert!(
        g.explanation
            .contains("leaves 300 GB free, the least of 3 disks with room"),
        "{}",
        g.explanation
    );
    // 350 GB: disk 1 has 300 left (no room); leaves 150 on disk 0, 250 on disk 2.
    assert_eq!(grant(&mut s, 2, &req(350, 60, 0)), vec![disk(0, 0)]);
}

// ---------- worst_case ("best bandwidth") ----------

fn bw_node(network: f64, disks: &[(f64, f64)]) -> Node {
    Node {
        hostname: "n".into(),
        ipv4: String::new(),
        network_bw: Bandwidth(network),
        disks: disks
            .iter()
            .map(|&(w, r)| Disk::simple(gb(1000), w, r))
            .collect(),
    }
}

#[test]
fn worst_case_follows_the_original_formula() {
    // Window [0, 60 min): D = 3600 s.
    // Node 0 (network 5.0): disk A (w 2.0, r 3.0), disk B (w 2.0, r 3.0).
    // Node 1 (network 12.5): disk C (w 1.5, r 1.0).
    let sys = System {
        nodes: vec![
            bw_node(5.0, &[(2.0, 3.0), (2.0, 3.0)]),
            bw_node(12.5, &[(1.5, 1.0)]),
        ],
    };
    let mut s = sched(sys, StrategyKind::WorstCase);
    // A: [0, 30) and [10, 60): n = 2, overlaps 1800 s and 3000 s, M = 3000.
    //    ((3600 − 3000)·2 + 3000·2/3) / 3600 = (1200 + 2000) / 3600 = 0.889
    occupy(&mut s, 100, disk(0, 0), 10, 0, 30);
    occupy(&mut s, 101, disk(0, 0), 10, 10, 60);
    // C: [30, 90): n = 1, M = 1800.
    //    ((1800·1.5) + 1800·1.5/2) / 3600 = (2700 + 1350) / 3600 = 1.125
    occupy(&mut s, 102, disk(1, 0), 10, 30, 90);
    // B: no overlap: 2.0.
    // Node 0: S = read bw of A = 3.0 < 5.0, node bw = 2.0 → A 0.889, B 2.0.
    // Node 1: S = 1.0 < 12.5, node bw = 11.5 → C 1.125.
    // Best: B at 2.0 GB/s.
    let d = s.submit(AllocId(1), &req(10, 60, 0), at_min(0));
    let g = d.grant().unwrap();
    assert_eq!(g.allocation.placements[0].disk, disk(0, 1));
    assert!(
        g.explanation.contains("expected bandwidth 2.000 GB/s"),
        "{}",
        g.explanation
    );
}

#[test]
fn worst_case_node_bandwidth_saturates() {
    // Node 0 (network 4.0): A and B (w 2.0, r 3.0); node 1 (network 12.5):
    // C (w 1.2, r 1.0). Window [0, 60 min), D = 3600 s.
    let sys = System {
        nodes: vec![
            bw_node(4.0, &[(2.0, 3.0), (2.0, 3.0)]),
            bw_node(12.5, &[(1.2, 1.0)]),
        ],
    };
    let mut s = sched(sys, StrategyKind::WorstCase);
    // A: one overlap covering the window: n = 1, M = 3600:
    //    (0·2 + 3600·2/2) / 3600 = 1.0
    occupy(&mut s, 100, disk(0, 0), 10, 0, 60);
    // B: one overlap of 1800 s: (1800·2 + 1800·2/2) / 3600 = 1.5
    occupy(&mut s, 101, disk(0, 1), 10, 30, 120);
    // Node 0: S = 3.0 + 3.0 = 6.0 ≥ 4.0, so node bw = 4.0 / (2 + 1) = 1.333.
    // A = min(1.0, 1.333) = 1.0; B = min(1.5, 1.333) = 1.333; C = 1.2.
    let d = s.submit(AllocId(1), &req(10, 60, 0), at_min(0));
    let g = d.grant().unwrap();
    assert_eq!(g.allocation.placements[0].disk, disk(0, 1));
    assert!(
        g.explanation
            .contains("expected bandwidth 1.333 GB/s with 1 overlapping"),
        "{}",
        g.explanation
    );
    // Fill B: the next block no longer fits there, so C (1.2) beats A (1.0).
    occupy(&mut s, 102, disk(0, 1), 980, 0, 60);
    assert_eq!(grant(&mut s, 2, &req(10, 60, 0)), vec![disk(1, 0)]);
}

// ---------- earliest_start ----------

#[test]
fn earliest_start_waits_for_room() {
    let mut s = sched(system(&[&[100]]), StrategyKind::EarliestStart);
    occupy(&mut s, 100, disk(0, 0), 80, 0, 60);
    let d = s.submit(AllocId(1), &req(50, 30, 0), at_min(0));
    let g = d.grant().unwrap();
    assert_eq!(g.allocation.start, at_min(60));
    assert_eq!(g.allocation.end, at_min(90));
    assert_eq!(g.delay, mins(60));
    assert_eq!(g.retries, 0);
    // With at most 30 minutes of delay it cannot start.
    let r = refused(&mut s, 2, &req(50, 30, 0).with_max_delay(mins(30)));
    assert_eq!(r.reason, RefusalReason::NoCapacity);
}

#[test]
fn earliest_start_backfills_a_gap() {
    let mut s = sched(system(&[&[100]]), StrategyKind::EarliestStart);
    occupy(&mut s, 100, disk(0, 0), 80, 0, 30);
    occupy(&mut s, 101, disk(0, 0), 80, 60, 120);
    // 30 minutes fit exactly in the gap [30, 60).
    let g = s.submit(AllocId(1), &req(50, 30, 0), at_min(0));
    assert_eq!(g.grant().unwrap().allocation.start, at_min(30));
    // 31 minutes do not: the next room is at 120.
    let g = s.submit(AllocId(2), &req(50, 31, 0), at_min(0));
    assert_eq!(g.grant().unwrap().allocation.start, at_min(120));
}

#[test]
fn earliest_start_prefers_the_earliest_disk_then_the_freest() {
    let mut s = sched(system(&[&[100, 100, 200]]), StrategyKind::EarliestStart);
    occupy(&mut s, 100, disk(0, 0), 90, 0, 60);
    occupy(&mut s, 101, disk(0, 1), 90, 0, 40);
    occupy(&mut s, 102, disk(0, 2), 190, 0, 40);
    occupy(&mut s, 103, disk(0, 1), 50, 40, 100);
    // Disk 0 has room for 20 GB only from minute 60; disks 1 and 2 from 40.
    // At 40 disk 1 has 50 of 100 GB free (50%), disk 2 200 of 200 (100%).
    let g = s.submit(AllocId(1), &req(20, 30, 0), at_min(0));
    let g = g.grant().unwrap();
    assert_eq!(g.allocation.start, at_min(40));
    assert_eq!(g.allocation.placements[0].disk, disk(0, 2));
}

// ---------- filters ----------

#[test]
fn wishes_restrict_the_disks_for_every_strategy() {
    for kind in StrategyKind::ALL {
        let mut sys = system(&[&[100, 100], &[100]]);
        sys.nodes[0].disks[1].medium = Some(storalloc_core::Medium::Nvme);
        sys.nodes[1].disks[0].tier = Some("fast".into());
        sys.nodes[1].disks[0].write_bandwidth = Bandwidth(5.0);
        let mut s = sched(sys, kind);
        let r = req(10, 60, 0).with_medium(storalloc_core::Medium::Nvme);
        assert_eq!(grant(&mut s, 1, &r), vec![disk(0, 1)], "{kind}");
        assert_eq!(
            grant(&mut s, 2, &req(10, 60, 0).with_tier("fast")),
            vec![disk(1, 0)],
            "{kind}"
        );
        assert_eq!(
            grant(&mut s, 3, &req(10, 60, 0).with_bandwidth(Bandwidth(3.0))),
            vec![disk(1, 0)],
            "{kind}"
        );
        let r = refused(
            &mut s,
            4,
            &req(10, 60, 0).with_medium(storalloc_core::Medium::Hdd),
        );
        assert_eq!(r.reason, RefusalReason::NoMatchingDisk, "{kind}");
        assert!(r.explanation.contains("medium hdd"), "{}", r.explanation);
        // A node set unavailable gets nothing new.
        s.set_node_available(1, false).unwrap();
        let r = refused(&mut s, 5, &req(10, 60, 0).with_tier("fast"));
        assert_eq!(r.reason, RefusalReason::NoMatchingDisk);
        for i in 0..4 {
            match s.submit(AllocId(10 + i), &req(10, 60, 0), at_min(0)) {
                Decision::Granted(g) => assert_eq!(g.allocation.placements[0].disk.node, 0),
                Decision::Refused(r) => panic!("{}", r.explanation),
            }
        }
    }
}
