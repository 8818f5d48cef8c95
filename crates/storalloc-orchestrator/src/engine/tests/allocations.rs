//! Submit, decisions, reservations, confirmations, ends, cancels and failures.

use super::*;
use crate::engine::{EngineError, Owner};
use crate::store::StateStore;
use storalloc_proto::v1::agent_command::Kind;
use storalloc_proto::v1::{
    AllocationState, CommandResult, ResultCode, StorageRequest, SubmitRequest,
};

#[test]
fn a_grant_sends_allocate_only_after_it_is_durable() {
    let mut h = harness();
    let (node, _) = h.register("n0", &[1000]);
    h.comm.take();
    let out =
        h.e.submit(req("r1", 100, 3600), Owner { uid: 7, gid: 8 })
            .unwrap();
    let a = out.allocation.unwrap();
    assert_eq!(a.state(), AllocationState::Granted);
    assert!(
        h.comm.take().is_empty(),
        "nothing is sent before the commit"
    );
    assert!(
        h.stored_allocations().is_empty(),
        "nothing is on disk before the commit"
    );
    h.e.commit().unwrap();
    let on_disk = h.store.clone().load().unwrap();
    assert_eq!(h.stored_allocations(), vec![h.e.get(a.id).unwrap()]);
    let mut expected = allocate(1, a.id, 0, 100, T0, T0 + 3600);
    if let Some(Kind::Allocate(c)) = expected.kind.as_mut() {
        c.owner_uid = 7;
        c.owner_gid = 8;
    }
    assert_eq!(h.sent(), vec![(node, expected)]);
    assert_eq!(
        on_disk.outbox.len(),
        1,
        "the command waits in the outbox for its result"
    );
}

#[test]
fn confirmation_makes_it_allocated_and_end_releases_it() {
    let mut h = harness();
    let (node, session) = h.register("n0", &[1000]);
    let a = h.submit(req("r1", 600, 100)).unwrap();
    h.comm.take();
    h.e.report_result(ok_result(&session, 1, a.id)).unwrap();
    h.e.commit().unwrap();
    let got = h.e.get(a.id).unwrap();
    assert_eq!(got.state(), AllocationState::Allocated);
    assert_eq!(
        got.placements[0].attachment.as_ref().unwrap().path,
        format!("/scratch/alloc-{}", a.id)
    );
    assert!(h.stored_outbox_ids().is_empty());

    // While it lives, a second 600 GB does not fit on the 1000 GB disk.
    let b = h.submit(req("r2", 600, 100)).unwrap();
    assert_eq!(b.state(), AllocationState::Refused);
    assert!(!b.explanation.is_empty());

    h.at(T0 + 99);
    assert!(h.sent().is_empty());
    h.at(T0 + 100);
    assert_eq!(h.e.get(a.id).unwrap().state(), AllocationState::Ended);
    assert_eq!(h.sent(), vec![(node, release(2, a.id, 0))]);
    let c = h.submit(req("r3", 600, 100)).unwrap();
    assert_eq!(c.state(), AllocationState::Granted, "capacity came back");
    h.e.check_invariants().unwrap();
}

#[test]
fn a_future_reservation_sends_nothing_until_its_start() {
    let mut h = harness();
    let (node, _) = h.register("n0", &[1000]);
    h.comm.take();
    let mut r = req("later", 100, 60);
    r.request.as_mut().unwrap().start_unix = Some(T0 + 600);
    let a = h.submit(r).unwrap();
    assert_eq!(a.state(), AllocationState::Granted);
    assert_eq!((a.start_unix, a.end_unix), (T0 + 600, T0 + 660));
    assert!(h.sent().is_empty());
    h.at(T0 + 599);
    assert!(h.sent().is_empty());
    h.at(T0 + 600);
    assert_eq!(
        h.sent(),
        vec![(node, allocate(1, a.id, 0, 100, T0 + 600, T0 + 660))]
    );
}

#[test]
fn cancel_releases_and_returns_capacity() {
    let mut h = harness();
    let (node, _) = h.register("n0", &[1000]);
    let a = h.submit(req("r1", 900, 3600)).unwrap();
    h.comm.take();
    let c = h.e.cancel(a.id).unwrap();
    h.e.commit().unwrap();
    assert_eq!(c.state(), AllocationState::Cancelled);
    assert_eq!(h.sent(), vec![(node, release(2, a.id, 0))]);
    let outbox = h.store.clone().load().unwrap().outbox;
    assert_eq!(
        outbox
            .iter()
            .map(|c| convert::dispatch_to_proto(&crate::model::Dispatch {
                node: c.node,
                position: c.kind.disk(),
                command: c.clone()
            }))
            .collect::<Vec<_>>(),
        vec![release(2, a.id, 0)],
        "the unanswered Allocate is dropped; the Release waits for its result"
    );
    assert_eq!(
        h.submit(req("r2", 900, 3600)).unwrap().state(),
        AllocationState::Granted
    );
    h.comm.take();
    // Cancelling again changes nothing.
    assert_eq!(
        h.e.cancel(a.id).unwrap().state(),
        AllocationState::Cancelled
    );
    h.e.commit().unwrap();
    assert!(h.sent().is_empty());
}

#[test]
fn cancelling_a_reservation_before_its_start_sends_nothing() {
    let mut h = harness();
    h.register("n0", &[1000]);
    h.comm.take();
    let mut r = req("later", 100, 60);
    r.request.as_mut().unwrap().start_unix = Some(T0 + 600);
    let a = h.submit(r).unwrap();
    h.e.cancel(a.id).unwrap();
    h.e.commit().unwrap();
    h.at(T0 + 700);
    assert!(h.sent().is_empty());
}

#[test]
fn agent_failure_fails_the_allocation_and_returns_capacity() {
    let mut h = harness();
    let (_, s0) = h.register("n0", &[100]);
    let (_, s1) = h.register("n1", &[100]);
    let mut r = req("split", 150, 3600);
    r.request.as_mut().unwrap().block_size_bytes = Some(100 * GB);
    let a = h.submit(r).unwrap();
    assert_eq!(a.state(), AllocationState::Granted, "{}", a.explanation);
    assert_eq!(a.placements.len(), 2);
    let sent = h.sent();
    assert_eq!(sent.len(), 2, "one Allocate per disk: {sent:?}");
    let (ok_node, ok_cmd) = sent[0].clone();
    let (bad_node, bad_cmd) = sent[1].clone();
    let sess = |n: u32| if n == 0 { s0.clone() } else { s1.clone() };
    h.e.report_result(ok_result(&sess(ok_node), ok_cmd.command_id, a.id))
        .unwrap();
    h.e.report_result(CommandResult {
        session_id: sess(bad_node),
        command_id: bad_cmd.command_id,
        allocation_id: a.id,
        code: ResultCode::Failed as i32,
        error: "disk on fire".into(),
        attachment: None,
    })
    .unwrap();
    h.e.commit().unwrap();
    let got = h.e.get(a.id).unwrap();
    assert_eq!(got.state(), AllocationState::Failed);
    assert!(
        got.explanation.contains("disk on fire"),
        "{}",
        got.explanation
    );
    let Some(Kind::Allocate(okc)) = ok_cmd.kind else {
        panic!()
    };
    assert_eq!(
        h.sent(),
        vec![(ok_node, release(3, a.id, okc.disk))],
        "only the disk that was created is released"
    );
    let again = h.submit(req("after", 100, 3600)).unwrap();
    assert_eq!(
        again.state(),
        AllocationState::Granted,
        "capacity came back"
    );
    h.e.check_invariants().unwrap();
}

#[test]
fn resubmitting_a_request_id_returns_the_same_allocation() {
    let mut h = harness();
    h.register("n0", &[1000]);
    let a = h.submit(req("same", 100, 60)).unwrap();
    h.comm.take();
    let out =
        h.e.submit(req("same", 500, 9999), Owner::default())
            .unwrap();
    h.e.commit().unwrap();
    assert!(out.duplicate);
    assert_eq!(out.allocation.unwrap(), a);
    assert!(h.sent().is_empty());
    assert_eq!(h.e.list(true).len(), 1);
    // A refusal is idempotent too.
    let big = h.submit(req("big", 5000, 60)).unwrap();
    assert_eq!(big.state(), AllocationState::Refused);
    let again = h.e.submit(req("big", 5000, 60), Owner::default()).unwrap();
    assert!(again.duplicate);
    assert_eq!(again.allocation.unwrap().id, big.id);
}

#[test]
fn bad_requests_are_rejected_with_the_field_and_change_nothing() {
    let mut h = harness();
    h.register("n0", &[1000]);
    let before = h.store.clone().load().unwrap();
    let cases: Vec<(SubmitRequest, &str)> = vec![
        (req("", 1, 1), "request_id"),
        (req("a", 0, 1), "capacity_bytes"),
        (req("b", 1, 0), "duration_s"),
        (
            {
                // Year 9999: a typo, not a plan.
                let mut r = req("y", 1, 1);
                r.request.as_mut().unwrap().start_unix = Some(253_402_300_799);
                r
            },
            "2200-01-01",
        ),
        (
            SubmitRequest {
                request_id: "c".into(),
                request: None,
            },
            "request is required",
        ),
        (
            {
                let mut r = req("d", 1, 1);
                r.request.as_mut().unwrap().bandwidth_gbps = Some(-1.0);
                r
            },
            "bandwidth_gbps",
        ),
        (
            {
                let mut r = req("e", 1, 1);
                r.request.as_mut().unwrap().bandwidth_gbps = Some(f64::NAN);
                r
            },
            "NaN",
        ),
        (
            {
                let mut r = req("f", 1, 1);
                r.request.as_mut().unwrap().medium = Some("floppy".into());
                r
            },
            "floppy",
        ),
        (
            {
                let mut r = req("g", 1, 1);
                r.request.as_mut().unwrap().block_size_bytes = Some(0);
                r
            },
            "block_size_bytes",
        ),
    ];
    for (r, needle) in cases {
        match h.e.submit(r, Owner::default()) {
            Err(EngineError::InvalidArgument(m)) => {
                assert!(m.contains(needle), "{m:?} lacks {needle:?}")
            }
            other => panic!("expected InvalidArgument naming {needle}, got {other:?}"),
        }
    }
    assert!(!h.e.has_uncommitted());
    h.e.commit().unwrap();
    assert_eq!(h.store.clone().load().unwrap(), before);
}

#[test]
fn unknown_ids_are_not_found() {
    let mut h = harness();
    assert!(matches!(h.e.get(42), Err(EngineError::NotFound(m)) if m.contains("42")));
    assert!(matches!(h.e.cancel(42), Err(EngineError::NotFound(_))));
    assert!(matches!(h.e.watch(Some(42)), Err(EngineError::NotFound(_))));
}

#[test]
fn one_commit_holds_a_whole_batch_and_events_follow_it() {
    let mut h = harness();
    h.register("n0", &[1000]);
    let mut rx = h.e.subscribe();
    let ids: Vec<u64> = (0..10)
        .map(|i| {
            h.e.submit(req(&format!("b{i}"), 10, 60), Owner::default())
                .unwrap()
                .allocation
                .unwrap()
                .id
        })
        .collect();
    assert!(rx.try_recv().is_err(), "no event before the commit");
    assert!(h.stored_allocations().is_empty());
    h.e.commit().unwrap();
    assert_eq!(h.stored_allocations().len(), 10);
    let mut seen = vec![];
    while let Ok(ev) = rx.try_recv() {
        seen.push(ev.allocation().unwrap().id);
    }
    assert_eq!(seen, ids);
}

#[test]
fn extreme_requests_are_decided_without_panicking() {
    let mut h = harness();
    h.register("n0", &[1000, 1000]);
    let extremes = [
        StorageRequest {
            capacity_bytes: u64::MAX,
            duration_s: 60,
            ..Default::default()
        },
        StorageRequest {
            capacity_bytes: u64::MAX,
            duration_s: 60,
            block_size_bytes: Some(1),
            ..Default::default()
        },
        StorageRequest {
            capacity_bytes: 1,
            duration_s: 3650 * 86_400,
            start_unix: Some(crate::validate::LATEST_START_UNIX),
            max_delay_s: Some(3650 * 86_400),
            ..Default::default()
        },
        StorageRequest {
            capacity_bytes: 1,
            duration_s: 60,
            bandwidth_gbps: Some(f64::MAX),
            ..Default::default()
        },
    ];
    for (i, r) in extremes.into_iter().enumerate() {
        let a = h
            .submit(SubmitRequest {
                request_id: format!("x{i}"),
                request: Some(r),
            })
            .unwrap();
        assert!(
            matches!(
                a.state(),
                AllocationState::Granted | AllocationState::Refused
            ),
            "{i}: {:?}",
            a.state()
        );
        assert!(!a.explanation.is_empty());
    }
    h.e.check_invariants().unwrap();
}
