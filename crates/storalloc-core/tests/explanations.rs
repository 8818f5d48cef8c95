//! What the explanations say.

mod common;

use common::*;
use storalloc_core::{
    AllocId, Allocation, Bytes, Placement, RefusalReason, Request, Scheduler, StrategyKind,
    TimeSpan,
};

fn occupy(s: &mut Scheduler, id: u64, d: storalloc_core::DiskRef, cap_gb: u64) {
    s.restore(Allocation {
        id: AllocId(id),
        start: at_min(0),
        end: at_min(60),
        placements: vec![Placement {
            disk: d,
            capacity: gb(cap_gb),
        }],
    })
    .unwrap();
}

#[test]
fn refusal_names_the_window_and_the_largest_free_space() {
    let mut s = sched(
        system(&[&[600, 600], &[600, 600], &[600, 600]]),
        StrategyKind::WorstFit,
    );
    for (i, (n, d, used)) in [
        (0, 0, 300),
        (0, 1, 350),
        (1, 0, 400),
        (1, 1, 300),
        (2, 0, 590),
        (2, 1, 280),
    ]
    .into_iter()
    .enumerate()
    {
        occupy(&mut s, 100 + i as u64, disk(n, d), used);
    }
    let r = refused(&mut s, 1, &req(500, 60, 0));
    assert_eq!(r.reason, RefusalReason::NoCapacity);
    assert_eq!(
        r.explanation,
        "no disk has 500 GB free between 2024-01-01 10:00:00 and 2024-01-01 11:00:00; \
         the largest is 320 GB on node 2 disk 1"
    );
}

#[test]
fn grant_names_the_disk_the_reason_and_the_window() {
    // Eight disks; node 0 disk 3 (1600 GB, 200 in use) is 87.5% free, the others less.
    let mut s = sched(
        system(&[&[400, 400, 400, 1600], &[400, 400, 400, 400]]),
        StrategyKind::WorstFit,
    );
    for (i, (n, d)) in [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (1, 3)]
        .into_iter()
        .enumerate()
    {
        occupy(&mut s, 100 + i as u64, disk(n, d), 100);
    }
    occupy(&mut s, 200, disk(0, 3), 200);
    let d = s.submit(AllocId(1), &req(200, 60, 0), at_min(0));
    assert_eq!(
        d.explanation(),
        "placed 200 GB on node 0 disk 3 (worst_fit: 87.5% free, the most of 8 disks) \
         from 2024-01-01 10:00:00 to 2024-01-01 11:00:00"
    );
}

#[test]
fn split_grants_list_the_blocks() {
    let mut cfg = storalloc_core::SchedulerConfig::new(StrategyKind::RoundRobin);
    cfg.block_size = Some(gb(200));
    let mut s = Scheduler::new(system(&[&[1000], &[1000]]), cfg);
    let d = s.submit(AllocId(1), &req(450, 60, 0), at_min(0));
    assert_eq!(
        d.explanation(),
        "placed 450 GB as 3 blocks: 200 GB on node 0 disk 0 (round_robin: next disk in turn), \
         200 GB on node 1 disk 0 (round_robin: next disk in turn), \
         50 GB on node 0 disk 0 (round_robin: next disk in turn) \
         from 2024-01-01 10:00:00 to 2024-01-01 11:00:00"
    );
}

#[test]
fn earliest_start_says_how_late() {
    let mut s = sched(system(&[&[100]]), StrategyKind::EarliestStart);
    occupy(&mut s, 100, disk(0, 0), 100);
    let d = s.submit(AllocId(1), &req(10, 30, 0), at_min(0));
    assert!(d.explanation().ends_with(
        "from 2024-01-01 11:00:00 to 2024-01-01 11:30:00, 1h 00m later than asked (the earliest start with room)"
    ), "{}", d.explanation());
}

#[test]
fn invalid_duplicate_and_unmatched_requests_say_why() {
    let mut s = sched(system(&[&[100]]), StrategyKind::WorstFit);
    let r = refused(&mut s, 1, &Request::new(Bytes::ZERO, mins(10), at_min(0)));
    assert!(matches!(r.reason, RefusalReason::Invalid(_)));
    assert_eq!(
        r.explanation,
        "invalid request: capacity must be greater than zero"
    );
    let r = refused(&mut s, 1, &Request::new(gb(1), TimeSpan(0), at_min(0)));
    assert_eq!(
        r.explanation,
        "invalid request: duration must be greater than zero"
    );

    grant(&mut s, 7, &req(10, 60, 0));
    let r = refused(&mut s, 7, &req(10, 60, 0));
    assert_eq!(r.reason, RefusalReason::DuplicateId);
    assert_eq!(r.explanation, "allocation id 7 is already in use");

    let r = refused(&mut s, 8, &req(10, 60, 0).with_tier("gold"));
    assert_eq!(r.explanation, "no available disk matches tier \"gold\"");
    s.set_node_available(0, false).unwrap();
    let r = refused(&mut s, 9, &req(10, 60, 0));
    assert_eq!(
        r.explanation,
        "no disk is available (1 of 1 nodes are unavailable)"
    );

    let mut s = sched(system(&[&[100], &[300]]), StrategyKind::BestFit);
    let r = refused(&mut s, 1, &req(500, 60, 0));
    assert_eq!(
        r.explanation,
        "500 GB does not fit on any matching disk: the largest holds 300 GB"
    );
}
