//! Tiny hand-built traces on a one-disk system, with every metric worked
//! out by hand (see the comments).

mod common;
use common::*;
use storalloc_core::{Bytes, StrategyKind, Timestamp};

fn line<'a>(yml: &'a str, key: &str) -> &'a str {
    yml.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(": ")))
        .unwrap_or_else(|| panic!("no {key} in\n{yml}"))
}

#[test]
fn capacity_is_freed_at_the_end_and_overlap_refuses() {
    // j1 60 GB [0,1h); j2 50 GB [30m,1h30m) overlaps j1: 110 > 100, refused;
    // j3 40 GB [1h,2h) starts as j1 ends; j4 has no I/O and is skipped.
    let w = workload(&[
        J(0, 3600, 0, 60),
        J(1800, 3600, 50, 0),
        J(3600, 3600, 40, 0),
        J(3600, 60, 0, 0),
    ]);
    assert_eq!(w.skipped.get("no_io"), Some(&1));
    for kind in StrategyKind::ALL {
        if kind == StrategyKind::EarliestStart {
            continue;
        }
        let r = run_checked(&one_disk(100), &config(kind, None, false), &w, None);
        let m = &r.metrics;
        assert_eq!(
            (
                m.requests_count,
                m.granted_requests_count,
                m.refused_requests_count
            ),
            (3, 2, 1),
            "{kind}"
        );
        assert_eq!(m.failed_requests_count, 0);
        assert_eq!(m.max_concurrent_allocations, 1, "{kind}");
        assert_eq!(m.allocated_bytes, 100 * Bytes::GB as u128);
        assert_eq!(m.deallocated_bytes, m.allocated_bytes);
        assert_eq!(m.sim_first_ts, Some(Timestamp(T0)));
        assert_eq!(m.sim_last_ts, Some(Timestamp(T0 + 7200)));
        // 60 GB for 1 h then 40 GB for 1 h over 2 h: 50 GB of 100.
        assert_eq!(m.mean_used_bytes, 50e9);
        assert_eq!(m.mean_utilisation(), 0.5);
        assert_eq!(m.max_utilisation(), 0.6);
        assert_eq!(m.mean_concurrent_allocations, 1.0);
        let d = &m.nodes[0].disks[0];
        assert_eq!((d.mean_nb_alloc, d.max_nb_alloc), (1.0, 1));
        assert_eq!(d.last_alloc_time, Some(Timestamp(T0 + 3600)));
        assert_eq!(d.mean_capacity_utilisation, 0.5);
        assert_eq!(d.max_cap_utilisation, 0.6);
        let y = &r.output_yml;
        assert_eq!(line(y, "requests_count"), "3");
        assert_eq!(line(y, "refused_requests_count"), "1");
        assert_eq!(line(y, "tt_allocated_gb"), "100");
        assert_eq!(line(y, "tt_deallocated_gb"), "100");
        assert_eq!(line(y, "sim_first_ts"), "'2022-01-01 00:00:00'");
        assert_eq!(line(y, "sim_last_ts"), "'2022-01-01 02:00:00'");
        assert_eq!(line(y, "sim_duration"), "'0 days 02:00:00'");
        assert_eq!(line(y, "split_threshold_gb"), "null");
        assert_eq!(line(y, "registrations_count"), "1");
        assert_eq!(line(y, "    last_alloc_time"), "'2022-01-01 01:00:00'");
        assert_eq!(line(y, "    mean_capacity_utilisation"), "0.5");
    }
}

#[test]
fn earliest_start_backfills_instead_of_refusing() {
    // As above, but j2 waits until j1 ends (30 min later) instead of being
    // refused; j3 then fits beside it (50 + 40 GB).
    let w = workload(&[
        J(0, 3600, 0, 60),
        J(1800, 3600, 50, 0),
        J(3600, 3600, 40, 0),
    ]);
    let r = run_checked(
        &one_disk(100),
        &config(StrategyKind::EarliestStart, None, false),
        &w,
        None,
    );
    let m = &r.metrics;
    assert_eq!((m.granted_requests_count, m.refused_requests_count), (3, 0));
    assert_eq!(
        (m.delayed_requests_count, m.alloc_delayed_requests_count),
        (1, 1)
    );
    assert_eq!(line(&r.output_yml, "tt_delay_time_minutes"), "30");
    assert_eq!(m.max_concurrent_allocations, 2);
    assert_eq!(m.max_utilisation(), 0.9);
    assert_eq!(m.sim_last_ts, Some(Timestamp(T0 + 7200)));
}

#[test]
fn retry_delays_are_counted_in_minutes() {
    // j1 80 GB [0,30m). j2 50 GB asks for 5m: retried 5 times to 30m
    // (delay 25 min). j3 90 GB asks for 10m: never fits within an hour.
    let w = workload(&[J(0, 1800, 80, 0), J(300, 3600, 50, 0), J(600, 600, 90, 0)]);
    let r = run_checked(
        &one_disk(100),
        &config(StrategyKind::WorstFit, None, true),
        &w,
        None,
    );
    let m = &r.metrics;
    assert_eq!((m.granted_requests_count, m.refused_requests_count), (2, 1));
    assert_eq!(m.delayed_requests_count, 2);
    assert_eq!(m.alloc_delayed_requests_count, 1);
    assert_eq!(m.refused_delayed_requests_count, 1);
    assert_eq!(m.tt_delay_time_s, 1500);
    assert_eq!(line(&r.output_yml, "tt_delay_time_minutes"), "25");
    assert_eq!(line(&r.output_yml, "retries_allowed"), "true");
    // j1 ends as j2 starts: never two at once.
    assert_eq!(m.max_concurrent_allocations, 1);
    assert_eq!(m.sim_last_ts, Some(Timestamp(T0 + 1800 + 3600)));
    // 80 GB × 30 min + 50 GB × 60 min over 90 min = 60 GB.
    assert_eq!(m.mean_used_bytes, 60e9);
    assert_eq!(m.max_utilisation(), 0.8);
    assert_eq!(
        m.nodes[0].disks[0].last_alloc_time,
        Some(Timestamp(T0 + 1800))
    );
}

#[test]
fn split_requests_and_durations_over_a_day() {
    // Blocks of 40 GB. j1 90 GB (3 blocks) [0,1h); j2 20 GB at 30m does not
    // fit (unsplit); j3 50 GB (2 blocks) [1h,26h); j4 60 GB (2 blocks) at 1h
    // does not fit beside j3.
    let w = workload(&[
        J(0, 3600, 90, 0),
        J(1800, 600, 20, 0),
        J(3600, 25 * 3600, 0, 50),
        J(3600, 3600, 60, 0),
    ]);
    let r = run_checked(
        &one_disk(100),
        &config(StrategyKind::RoundRobin, Some(40), false),
        &w,
        None,
    );
    let m = &r.metrics;
    assert_eq!((m.granted_requests_count, m.refused_requests_count), (2, 2));
    assert_eq!(m.split_requests_count, 3);
    assert_eq!(m.alloc_split_requests_count, 2);
    assert_eq!(m.alloc_split_requests_bytes, 140 * Bytes::GB as u128);
    assert_eq!(m.alloc_split_requests_duration_s, 26 * 3600);
    assert_eq!(m.refused_split_requests_count, 1);
    assert_eq!(m.refused_split_requests_bytes, 60 * Bytes::GB as u128);
    assert_eq!(m.refused_split_requests_duration_s, 3600);
    let y = &r.output_yml;
    assert_eq!(
        line(y, "alloc_split_requests_duration"),
        "'1 days 02:00:00'"
    );
    assert_eq!(line(y, "alloc_split_requests_gb"), "140");
    assert_eq!(
        line(y, "refused_split_requests_duration"),
        "'0 days 01:00:00'"
    );
    assert_eq!(line(y, "split_threshold_gb"), "40");
    assert_eq!(line(y, "sim_duration"), "'1 days 02:00:00'");
    // j1's three blocks on the one disk count as one allocation there.
    assert_eq!(m.nodes[0].disks[0].max_nb_alloc, 1);
    assert_eq!(m.nodes[0].max_nb_alloc, 1);
    assert_eq!(m.max_utilisation(), 0.9);
}

#[test]
fn concurrent_allocations_are_time_weighted() {
    // 10 GB each: a [0,1h), b [0,2h), c [1h,3h) on a 100 GB disk.
    // Count: 2 over [0,1h), 2 over [1h,2h), 1 over [2h,3h): mean 5/3.
    let w = workload(&[J(0, 3600, 10, 0), J(0, 7200, 10, 0), J(3600, 7200, 10, 0)]);
    let r = run_checked(
        &one_disk(100),
        &config(StrategyKind::WorstCase, None, false),
        &w,
        None,
    );
    let m = &r.metrics;
    assert_eq!(m.max_concurrent_allocations, 2);
    assert!((m.mean_concurrent_allocations - 5.0 / 3.0).abs() < 1e-12);
    assert_eq!(
        line(&r.output_yml, "mean_concurrent_allocations"),
        "1.666667"
    );
    assert_eq!(m.nodes[0].disks[0].max_cap_utilisation, 0.2);
}
