//! Disks changing under a running scheduler: a disk added on an earlier
//! node, new descriptions (`update_disk`), disks taken out of and put back
//! into service (`set_disk_available`).

mod common;

use common::*;
use storalloc_core::{
    AllocId, CoreError, Disk, DiskRef, Medium, RefusalReason, Scheduler, StrategyKind,
};

/// Each disk's peak use over minutes `[from, 240)`, by reference. `from`
/// must not be before the last `advance`, whose past the calendars fold.
fn usage_from(s: &Scheduler, from: i64) -> Vec<(DiskRef, u64)> {
    let refs: Vec<DiskRef> = s.system().disks().map(|(r, _)| r).collect();
    refs.into_iter()
        .map(|r| (r, s.peak_usage(r, at_min(from), at_min(240)).0))
        .collect()
}

fn usage(s: &Scheduler) -> Vec<(DiskRef, u64)> {
    usage_from(s, 0)
}

fn with_capacity(s: &Scheduler, r: DiskRef, cap_gb: u64) -> Disk {
    let mut d = s.system().disk(r).unwrap().clone();
    d.capacity = gb(cap_gb);
    d
}

#[test]
fn disk_added_on_an_earlier_node_keeps_everything_in_place() {
    let mut s = sched(
        system(&[&[100, 100], &[100, 100]]),
        StrategyKind::RoundRobin,
    );
    assert_eq!(grant(&mut s, 1, &req(10, 60, 0)), vec![disk(0, 0)]);
    assert_eq!(grant(&mut s, 2, &req(20, 60, 0)), vec![disk(0, 1)]);
    assert_eq!(grant(&mut s, 3, &req(30, 60, 0)), vec![disk(1, 0)]);
    // Booked ahead on node 1, so the free index holds change points after
    // its time for disks whose global index moves.
    occupy(&mut s, 4, disk(1, 1), 40, 120, 180);
    let allocations: Vec<_> = s.allocations().cloned().collect();
    let before = usage(&s);

    let r = s.add_disk(0, Disk::simple(gb(100), 2.0, 3.0)).unwrap();
    assert_eq!(r, disk(0, 2));
    s.check_invariants().unwrap();
    assert_eq!(s.allocations().cloned().collect::<Vec<_>>(), allocations);
    let mut after = usage(&s);
    assert_eq!(after.remove(2), (disk(0, 2), 0));
    assert_eq!(after, before);
    assert_eq!(s.allocations_on_disk(disk(1, 1)), vec![AllocId(4)]);

    // The cursor was after node 1 disk 0 and stays after it; then it wraps
    // and the new disk takes its turn after node 0 disk 1.
    assert_eq!(grant(&mut s, 5, &req(5, 60, 0)), vec![disk(1, 1)]);
    assert_eq!(grant(&mut s, 6, &req(5, 60, 0)), vec![disk(0, 0)]);
    assert_eq!(grant(&mut s, 7, &req(5, 60, 0)), vec![disk(0, 1)]);
    assert_eq!(grant(&mut s, 8, &req(5, 60, 0)), vec![disk(0, 2)]);
    assert_eq!(grant(&mut s, 9, &req(5, 60, 0)), vec![disk(1, 0)]);

    // Releases and cancels of allocations on moved disks free the right
    // calendars.
    s.release(AllocId(3), at_min(30)).unwrap();
    s.cancel(AllocId(4)).unwrap();
    s.check_invariants().unwrap();
    assert_eq!(s.peak_usage(disk(1, 0), at_min(30), at_min(60)), gb(5));
    assert_eq!(s.peak_usage(disk(1, 1), at_min(120), at_min(180)), gb(0));
    assert_eq!(
        s.add_disk(2, Disk::simple(gb(1), 1.0, 1.0)),
        Err(CoreError::UnknownNode(2))
    );
}

#[test]
fn worst_fit_sees_a_disk_added_on_an_earlier_node() {
    let mut s = sched(system(&[&[100], &[100]]), StrategyKind::WorstFit);
    occupy(&mut s, 1, disk(0, 0), 50, 0, 60);
    occupy(&mut s, 2, disk(1, 0), 30, 0, 60);
    occupy(&mut s, 3, disk(1, 0), 60, 60, 120);
    assert_eq!(grant(&mut s, 4, &req(10, 30, 0)), vec![disk(1, 0)]);
    s.add_disk(0, Disk::simple(gb(1000), 2.0, 3.0)).unwrap();
    s.check_invariants().unwrap();
    assert_eq!(grant(&mut s, 5, &req(10, 30, 0)), vec![disk(0, 1)]);
    // Later windows read the renumbered change points of node 1.
    assert_eq!(grant(&mut s, 6, &req(900, 30, 60)), vec![disk(0, 1)]);
    assert_eq!(grant(&mut s, 7, &req(30, 30, 60)), vec![disk(0, 0)]);
    s.advance(at_min(90));
    s.check_invariants().unwrap();
}

#[test]
fn growing_a_disk_lets_a_refused_request_fit() {
    for kind in StrategyKind::ALL {
        let mut s = sched(system(&[&[100], &[80]]), kind);
        occupy(&mut s, 1, disk(1, 0), 60, 0, 60);
        let r = refused(&mut s, 2, &req(140, 60, 0));
        assert_eq!(r.reason, RefusalReason::NoCapacity, "{kind}");
        s.update_disk(disk(1, 0), with_capacity(&s, disk(1, 0), 200))
            .unwrap();
        s.check_invariants().unwrap();
        assert_eq!(s.system().disk(disk(1, 0)).unwrap().capacity, gb(200));
        let placed = grant(&mut s, 3, &req(140, 60, 0));
        assert_eq!(placed, vec![disk(1, 0)], "{kind}");
    }
}

#[test]
fn shrinking_below_what_is_booked_is_refused_and_changes_nothing() {
    let mut s = sched(system(&[&[100], &[100]]), StrategyKind::WorstFit);
    occupy(&mut s, 7, disk(0, 0), 60, 0, 60);
    occupy(&mut s, 3, disk(0, 0), 30, 30, 90);
    occupy(&mut s, 5, disk(1, 0), 10, 0, 60);
    let before = usage(&s);
    let old = s.system().clone();
    // Released before the end: its past still counts until `advance`, but
    // it is not live any more.
    occupy(&mut s, 9, disk(0, 0), 5, 0, 60);
    s.release(AllocId(9), at_min(40)).unwrap();
    let before_release = usage(&s);

    let err = s
        .update_disk(disk(0, 0), with_capacity(&s, disk(0, 0), 80))
        .unwrap_err();
    assert_eq!(
        err,
        CoreError::CapacityBelowBooked {
            disk: disk(0, 0),
            capacity: gb(80),
            booked: gb(95),
            allocations: vec![AllocId(3), AllocId(7)],
        }
    );
    assert_eq!(
        err.to_string(),
        "node 0 disk 0 cannot get a capacity of 80 GB: 95 GB are booked on it by allocations 3, 7"
    );
    assert_eq!(s.system(), &old);
    assert_eq!(usage(&s), before_release);
    s.check_invariants().unwrap();

    // Once `advance` forgets the released one, 90 GB are booked.
    s.advance(at_min(40));
    assert_eq!(usage_from(&s, 40), before);
    assert!(matches!(
        s.update_disk(disk(0, 0), with_capacity(&s, disk(0, 0), 89)),
        Err(CoreError::CapacityBelowBooked { booked, .. }) if booked == gb(90)
    ));
    // Down to exactly what is booked: accepted, and the disk is then full.
    s.update_disk(disk(0, 0), with_capacity(&s, disk(0, 0), 90))
        .unwrap();
    s.check_invariants().unwrap();
    assert_eq!(usage_from(&s, 40), before);
    assert_eq!(grant(&mut s, 10, &req(90, 30, 40)), vec![disk(1, 0)]);
    let r = refused(&mut s, 11, &req(1, 30, 40));
    assert_eq!(r.reason, RefusalReason::NoCapacity);
    assert_eq!(
        s.update_disk(disk(2, 0), with_capacity(&s, disk(0, 0), 1)),
        Err(CoreError::UnknownDisk(disk(2, 0)))
    );
}

#[test]
fn a_new_description_changes_what_matches() {
    let mut s = sched(system(&[&[100], &[100]]), StrategyKind::BestFit);
    let r = req(10, 60, 0).with_medium(Medium::Nvme).with_tier("fast");
    assert_eq!(refused(&mut s, 1, &r).reason, RefusalReason::NoMatchingDisk);
    let mut d = s.system().disk(disk(1, 0)).unwrap().clone();
    d.medium = Some(Medium::Nvme);
    d.tier = Some("fast".into());
    d.labels = vec!["new".into()];
    s.update_disk(disk(1, 0), d.clone()).unwrap();
    s.check_invariants().unwrap();
    assert_eq!(s.system().disk(disk(1, 0)), Some(&d));
    assert_eq!(grant(&mut s, 2, &r), vec![disk(1, 0)]);
}

#[test]
fn an_unavailable_disk_takes_nothing_new_and_keeps_its_allocations() {
    for kind in StrategyKind::ALL {
        let mut s = sched(system(&[&[1000, 100], &[100]]), kind);
        occupy(&mut s, 1, disk(0, 0), 100, 0, 120);
        occupy(&mut s, 2, disk(0, 0), 50, 60, 180);
        let before = usage(&s);
        s.set_disk_available(disk(0, 0), false).unwrap();
        s.check_invariants().unwrap();
        assert_eq!(s.disk_available(disk(0, 0)), Some(false));
        assert_eq!(s.disk_available(disk(0, 1)), Some(true));
        assert_eq!(s.disk_available(disk(0, 2)), None);
        assert_eq!(s.node_available(0), Some(true));
        assert_eq!(
            s.allocations_on_disk(disk(0, 0)),
            vec![AllocId(1), AllocId(2)]
        );
        assert_eq!(usage(&s), before);
        // The big disk has by far the most room, yet nothing goes there.
        for id in 10..20 {
            let placed = grant(&mut s, id, &req(5, 30, 0));
            assert_ne!(placed, vec![disk(0, 0)], "{kind}");
        }
        let r = refused(&mut s, 20, &req(500, 30, 0));
        assert_eq!(r.reason, RefusalReason::NoCapacity, "{kind}");
        assert_eq!(usage(&s)[0], before[0]);

        s.set_disk_available(disk(0, 0), true).unwrap();
        s.check_invariants().unwrap();
        assert_eq!(grant(&mut s, 21, &req(500, 30, 0)), vec![disk(0, 0)]);
        assert_eq!(
            s.allocations_on_disk(disk(0, 0)),
            vec![AllocId(1), AllocId(2), AllocId(21)]
        );
        s.release(AllocId(2), at_min(70)).unwrap();
        s.cancel(AllocId(21)).unwrap();
        assert_eq!(s.allocations_on_disk(disk(0, 0)), vec![AllocId(1)]);
        assert_eq!(s.allocations_on_disk(disk(5, 0)), vec![]);
        s.check_invariants().unwrap();
    }
}

#[test]
fn disk_and_node_availability_combine() {
    let mut s = sched(system(&[&[100], &[100]]), StrategyKind::WorstFit);
    s.set_disk_available(disk(0, 0), false).unwrap();
    s.set_node_available(1, false).unwrap();
    let r = refused(&mut s, 1, &req(10, 30, 0));
    assert_eq!(r.reason, RefusalReason::NoMatchingDisk);
    assert_eq!(
        r.explanation,
        "no disk is available (1 of 2 nodes and 1 of 2 disks are unavailable)"
    );
    // The disk is back but its node is not, and the other way round.
    s.set_disk_available(disk(0, 0), true).unwrap();
    s.set_node_available(0, false).unwrap();
    assert_eq!(
        refused(&mut s, 2, &req(10, 30, 0)).reason,
        RefusalReason::NoMatchingDisk
    );
    s.set_node_available(1, true).unwrap();
    s.set_disk_available(disk(1, 0), false).unwrap();
    assert_eq!(
        refused(&mut s, 3, &req(10, 30, 0)).explanation,
        "no disk is available (1 of 2 nodes and 1 of 2 disks are unavailable)"
    );
    s.set_node_available(0, true).unwrap();
    assert_eq!(grant(&mut s, 4, &req(10, 30, 0)), vec![disk(0, 0)]);
    // Setting a flag twice counts once.
    s.set_disk_available(disk(1, 0), false).unwrap();
    s.check_invariants().unwrap();
    s.set_disk_available(disk(1, 0), true).unwrap();
    assert_eq!(grant(&mut s, 5, &req(10, 30, 0)), vec![disk(1, 0)]);
    assert_eq!(
        s.set_disk_available(disk(0, 1), false),
        Err(CoreError::UnknownDisk(disk(0, 1)))
    );
}
