//! What happens to allocations after the decision: release, cancel,
//! advance, restore, node availability.

mod common;

use common::*;
use storalloc_core::{AllocId, Bytes, CoreError, Placement, RefusalReason, StrategyKind};

#[test]
fn release_frees_capacity_from_now_on() {
    let mut s = sched(system(&[&[100]]), StrategyKind::WorstFit);
    grant(&mut s, 1, &req(100, 60, 0));
    let a = s.release(AllocId(1), at_min(30)).unwrap();
    assert_eq!(a.end, at_min(30));
    s.check_invariants().unwrap();
    assert_eq!(s.peak_usage(disk(0, 0), at_min(0), at_min(30)), gb(100));
    assert_eq!(
        s.peak_usage(disk(0, 0), at_min(30), at_min(60)),
        Bytes::ZERO
    );
    assert!(s.allocation(AllocId(1)).is_none());
    grant(&mut s, 2, &req(100, 30, 30));
    refused(&mut s, 3, &req(1, 30, 20));
    // The released allocation is not reported as ended later.
    assert_eq!(s.advance(at_min(100)), vec![AllocId(2)]);
    assert_eq!(
        s.release(AllocId(1), at_min(100)),
        Err(CoreError::UnknownAllocation(AllocId(1)))
    );
}

#[test]
fn release_before_the_start_cancels() {
    let mut s = sched(system(&[&[100]]), StrategyKind::WorstFit);
    grant(&mut s, 1, &req(100, 60, 30));
    let a = s.release(AllocId(1), at_min(10)).unwrap();
    assert_eq!((a.start, a.end), (at_min(30), at_min(90)));
    s.check_invariants().unwrap();
    assert_eq!(
        s.peak_usage(disk(0, 0), at_min(0), at_min(200)),
        Bytes::ZERO
    );
    // The id is free again.
    grant(&mut s, 1, &req(100, 60, 30));
}

#[test]
fn cancel_removes_everything() {
    let mut s = sched(system(&[&[100], &[100]]), StrategyKind::RoundRobin);
    grant(&mut s, 1, &req(150, 60, 0).with_block_size(gb(100)));
    s.cancel(AllocId(1)).unwrap();
    s.check_invariants().unwrap();
    for d in [disk(0, 0), disk(1, 0)] {
        assert_eq!(s.peak_usage(d, at_min(0), at_min(60)), Bytes::ZERO);
    }
    assert_eq!(
        s.cancel(AllocId(1)),
        Err(CoreError::UnknownAllocation(AllocId(1)))
    );
    assert_eq!(s.allocations().count(), 0);
}

#[test]
fn advance_reports_ends_in_order_and_keeps_memory_bounded() {
    let mut s = sched(system(&[&[1000, 1000]]), StrategyKind::WorstFit);
    grant(&mut s, 1, &req(10, 50, 0));
    grant(&mut s, 2, &req(10, 20, 0));
    grant(&mut s, 3, &req(10, 30, 0));
    assert_eq!(s.advance(at_min(10)), vec![]);
    assert_eq!(s.advance(at_min(40)), vec![AllocId(2), AllocId(3)]);
    s.check_invariants().unwrap();
    assert_eq!(
        s.allocations().map(|a| a.id).collect::<Vec<_>>(),
        vec![AllocId(1)]
    );
    assert_eq!(s.advance(at_min(50)), vec![AllocId(1)]);
    // A long stream of short jobs: the calendars hold only what is live.
    for i in 0..20_000u64 {
        let now = 100 + i as i64;
        let r = req(10, 3, now);
        grant(&mut s, 100 + i, &r);
        s.advance(at_min(now));
        assert!(s.calendar_points() <= 16, "{} points", s.calendar_points());
        assert!(s.live_count() <= 4);
        if i % 1000 == 0 {
            s.check_invariants().unwrap();
        }
    }
}

#[test]
fn unavailable_nodes_get_nothing_new() {
    let mut s = sched(system(&[&[100], &[100]]), StrategyKind::WorstFit);
    grant(&mut s, 1, &req(10, 60, 0));
    s.set_node_available(0, false).unwrap();
    for i in 2..6 {
        assert_eq!(grant(&mut s, i, &req(10, 60, 0)), vec![disk(1, 0)]);
    }
    s.set_node_available(1, false).unwrap();
    assert_eq!(
        refused(&mut s, 9, &req(10, 60, 0)).reason,
        RefusalReason::NoMatchingDisk
    );
    assert_eq!(
        s.set_node_available(2, false),
        Err(CoreError::UnknownNode(2))
    );
    s.set_node_available(0, true).unwrap();
    assert_eq!(grant(&mut s, 10, &req(10, 60, 0)), vec![disk(0, 0)]);
    // Existing allocations on an unavailable node stay.
    assert!(s.allocation(AllocId(2)).is_some());
}

#[test]
fn restore_refuses_over_commit_duplicates_and_unknown_disks() {
    let mut s = sched(system(&[&[100]]), StrategyKind::WorstFit);
    s.restore(allocation_on(1, disk(0, 0), 70, 0, 60)).unwrap();
    assert!(matches!(
        s.restore(allocation_on(2, disk(0, 0), 40, 30, 90)),
        Err(CoreError::DoesNotFit { id: AllocId(2), .. })
    ));
    assert_eq!(
        s.restore(allocation_on(1, disk(0, 0), 10, 0, 60)),
        Err(CoreError::DuplicateAllocation(AllocId(1)))
    );
    assert_eq!(
        s.restore(allocation_on(3, disk(0, 5), 10, 0, 60)),
        Err(CoreError::UnknownDisk(disk(0, 5)))
    );
    assert!(matches!(
        s.restore(allocation_on(4, disk(0, 0), 10, 60, 60)),
        Err(CoreError::InvalidChange(_))
    ));
    // Two placements on the same disk that together over-commit: nothing stays.
    let mut two = allocation_on(5, disk(0, 0), 20, 0, 60);
    two.placements.push(Placement {
        disk: disk(0, 0),
        capacity: gb(20),
    });
    assert!(matches!(s.restore(two), Err(CoreError::DoesNotFit { .. })));
    s.check_invariants().unwrap();
    assert_eq!(s.peak_usage(disk(0, 0), at_min(0), at_min(60)), gb(70));
    // The restored allocation counts for new decisions.
    refused(&mut s, 6, &req(31, 10, 0));
    grant(&mut s, 7, &req(30, 10, 0));
}

#[test]
fn peak_usage_of_unknown_disks_and_empty_ranges_is_zero() {
    let mut s = sched(system(&[&[100]]), StrategyKind::WorstFit);
    grant(&mut s, 1, &req(10, 60, 0));
    assert_eq!(s.peak_usage(disk(3, 0), at_min(0), at_min(60)), Bytes::ZERO);
    assert_eq!(
        s.peak_usage(disk(0, 0), at_min(10), at_min(10)),
        Bytes::ZERO
    );
    assert_eq!(s.peak_usage(disk(0, 0), at_min(10), at_min(11)), gb(10));
}

#[test]
fn the_scheduler_can_move_between_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let s = sched(system(&[&[100]]), StrategyKind::WorstFit);
    send_sync(&s);
    let h = std::thread::spawn(move || {
        let mut s = s;
        grant(&mut s, 1, &req(10, 60, 0));
        s
    });
    let s = h.join().unwrap();
    assert_eq!(s.live_count(), 1);
}
