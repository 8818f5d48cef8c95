//! Splitting into blocks (all or nothing) and shifting the start (retry,
//! max_delay).

mod common;

use common::*;
use storalloc_core::{AllocId, Bytes, RefusalReason, Scheduler, SchedulerConfig, StrategyKind};

fn cfg(kind: StrategyKind, block_gb: Option<u64>, retry: bool) -> SchedulerConfig {
    let mut c = SchedulerConfig::new(kind);
    c.block_size = block_gb.map(gb);
    c.allow_retry = retry;
    c
}

fn sizes(s: &Scheduler, id: u64) -> Vec<Bytes> {
    s.allocation(AllocId(id))
        .unwrap()
        .placements
        .iter()
        .map(|p| p.capacity)
        .collect()
}

#[test]
fn splits_into_whole_blocks_and_a_remainder() {
    let mut s = Scheduler::new(
        system(&[&[300, 300, 300]]),
        cfg(StrategyKind::WorstFit, Some(200), false),
    );
    occupy(&mut s, 100, disk(0, 1), 10, 0, 60);
    occupy(&mut s, 101, disk(0, 2), 20, 0, 60);
    let disks = grant(&mut s, 1, &req(500, 60, 0));
    assert_eq!(sizes(&s, 1), vec![gb(200), gb(200), gb(100)]);
    // worst_fit puts each block on the freest disk, seeing the earlier
    // ones: 300/290/280 GB free, then 100/290/280, then 100/90/280.
    assert_eq!(disks, vec![disk(0, 0), disk(0, 1), disk(0, 2)]);
    // A request no larger than the block size stays whole.
    grant(&mut s, 2, &req(50, 60, 0));
    assert_eq!(sizes(&s, 2), vec![gb(50)]);
}

#[test]
fn the_request_block_size_overrides_the_scheduler_s() {
    let mut s = Scheduler::new(
        system(&[&[1000]]),
        cfg(StrategyKind::WorstFit, Some(200), false),
    );
    grant(&mut s, 1, &req(300, 60, 0).with_block_size(gb(120)));
    assert_eq!(sizes(&s, 1), vec![gb(120), gb(120), gb(60)]);
    // Without any block size nothing is split.
    let mut s = Scheduler::new(system(&[&[1000]]), cfg(StrategyKind::WorstFit, None, false));
    grant(&mut s, 1, &req(300, 60, 0));
    assert_eq!(sizes(&s, 1), vec![gb(300)]);
}

#[test]
fn split_requests_are_all_or_nothing() {
    for kind in StrategyKind::ALL {
        // Two 250 GB disks hold two 200 GB blocks but not the 100 GB remainder.
        let mut s = Scheduler::new(system(&[&[250], &[250]]), cfg(kind, Some(200), false));
        let r = refused(&mut s, 1, &req(500, 60, 0));
        assert!(
            matches!(
                r.reason,
                RefusalReason::NoCapacity | RefusalReason::CandidatesExhausted
            ),
            "{kind}"
        );
        assert!(
            r.explanation
                .starts_with("block 3 of 3 (100 GB) could not be placed"),
            "{kind}: {}",
            r.explanation
        );
        // Nothing of the refused request stays behind.
        assert_eq!(
            s.peak_usage(disk(0, 0), at_min(0), at_min(60)),
            Bytes::ZERO,
            "{kind}"
        );
        assert_eq!(
            s.peak_usage(disk(1, 0), at_min(0), at_min(60)),
            Bytes::ZERO,
            "{kind}"
        );
        assert_eq!(s.allocations().count(), 0);
        // 400 GB (two blocks) fits.
        grant(&mut s, 2, &req(400, 60, 0));
    }
}

#[test]
fn retry_shifts_by_five_minutes_keeping_the_duration() {
    for kind in StrategyKind::ALL {
        if kind == StrategyKind::EarliestStart {
            continue;
        }
        let mut s = Scheduler::new(system(&[&[100]]), cfg(kind, None, true));
        occupy(&mut s, 100, disk(0, 0), 100, 0, 12);
        let d = s.submit(AllocId(1), &req(50, 30, 0), at_min(0));
        let g = d
            .grant()
            .unwrap_or_else(|| panic!("{kind}: {}", d.explanation()));
        // Room from minute 12: the first 5-minute step at or after it is 15.
        assert_eq!(g.allocation.start, at_min(15), "{kind}");
        assert_eq!(g.allocation.end, at_min(45), "{kind}");
        assert_eq!(g.delay, mins(15));
        assert_eq!(g.retries, 3);
        assert!(
            g.explanation
                .contains("15 min later than asked after 3 retries"),
            "{}",
            g.explanation
        );
        s.check_invariants().unwrap();
    }
}

#[test]
fn retry_gives_up_below_one_hour() {
    let mut s = Scheduler::new(system(&[&[100]]), cfg(StrategyKind::WorstFit, None, true));
    occupy(&mut s, 100, disk(0, 0), 100, 0, 60);
    // Room from minute 60 only: the last shift allowed is 55 minutes.
    let r = refused(&mut s, 1, &req(50, 30, 0));
    assert_eq!(r.retries, 11);
    assert!(
        r.explanation
            .contains("nor at any start up to 55 min later"),
        "{}",
        r.explanation
    );
    // Room from minute 55: granted after 11 shifts.
    let mut s = Scheduler::new(system(&[&[100]]), cfg(StrategyKind::WorstFit, None, true));
    occupy(&mut s, 100, disk(0, 0), 100, 0, 55);
    let g = s.submit(AllocId(1), &req(50, 30, 0), at_min(0));
    assert_eq!(g.grant().unwrap().retries, 11);
}

#[test]
fn no_retry_without_allow_retry_or_for_split_requests() {
    let mut s = Scheduler::new(system(&[&[100]]), cfg(StrategyKind::WorstFit, None, false));
    occupy(&mut s, 100, disk(0, 0), 100, 0, 10);
    assert_eq!(refused(&mut s, 1, &req(50, 30, 0)).retries, 0);

    let mut s = Scheduler::new(
        system(&[&[100]]),
        cfg(StrategyKind::WorstFit, Some(30), true),
    );
    occupy(&mut s, 100, disk(0, 0), 100, 0, 10);
    assert_eq!(refused(&mut s, 1, &req(50, 30, 0)).retries, 0);
}

#[test]
fn max_delay_shifts_split_requests_too_and_bounds_retry() {
    // Split, no allow_retry, but a 15-minute max_delay: starts at 10.
    let mut s = Scheduler::new(
        system(&[&[100]]),
        cfg(StrategyKind::WorstFit, Some(30), false),
    );
    occupy(&mut s, 100, disk(0, 0), 100, 0, 10);
    let g = s.submit(
        AllocId(1),
        &req(50, 30, 0).with_max_delay(mins(15)),
        at_min(0),
    );
    let g = g.grant().unwrap();
    assert_eq!(g.allocation.start, at_min(10));
    assert_eq!(g.retries, 2);
    assert_eq!(g.allocation.placements.len(), 2);

    // An explicit max_delay wins over allow_retry's hour.
    let mut s = Scheduler::new(system(&[&[100]]), cfg(StrategyKind::WorstFit, None, true));
    occupy(&mut s, 100, disk(0, 0), 100, 0, 20);
    let r = refused(&mut s, 1, &req(50, 30, 0).with_max_delay(mins(10)));
    assert_eq!(r.retries, 2);
}
