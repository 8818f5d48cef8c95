//! Routine changes lose nothing: a node's disks change between two agent
//! starts, the wall clock jumps, finished allocations age out of memory.

use super::*;
use crate::engine::EngineConfig;
use crate::store::HistoryQuery;
use storalloc_proto::v1::{AllocationState, DiskDescription, HeldAllocation};

fn disk(serial: &str, gb: u64) -> DiskDescription {
    convert::disk_to_proto(&super::effects::disk(serial, gb))
}

fn node(disks: Vec<DiskDescription>) -> NodeDescription {
    NodeDescription {
        hostname: "n0".into(),
        address: "127.0.0.1".into(),
        network_bw_gbps: 12.5,
        disks,
    }
}

fn held(alloc: u64, position: u32) -> HeldAllocation {
    HeldAllocation {
        allocation_id: alloc,
        disk: position,
        capacity_bytes: 0,
        attachment: Some(Attachment {
            r#type: "directory".into(),
            path: format!("/s/{alloc}"),
            ..Default::default()
        }),
    }
}

fn register(
    h: &mut H,
    disks: Vec<DiskDescription>,
    held: Vec<HeldAllocation>,
) -> Result<String, EngineError> {
    let r = h.e.register(RegisterRequest {
        node: Some(node(disks)),
        held,
        agent_version: "test".into(),
    })?;
    h.e.commit().unwrap();
    Ok(r.session_id)
}

/// The disk slot an allocation's (only) placement is on.
fn slot(h: &H, id: u64) -> u32 {
    h.e.get(id).unwrap().placements[0].disk
}

#[test]
fn a_changed_system_file_keeps_every_allocation_on_a_remaining_disk() {
    let mut h = harness_with(EngineConfig {
        heartbeat_timeout_s: 1_000_000,
        ..EngineConfig::new(storalloc_core::SchedulerConfig::new(StrategyKind::WorstFit))
    });
    let s = register(
        &mut h,
        vec![disk("A", 1000), disk("B", 1000), disk("C", 1000)],
        vec![],
    )
    .unwrap();
    let ids: Vec<u64> = (0..3)
        .map(|i| h.submit(req(&format!("r{i}"), 900, 36_000)).unwrap().id)
        .collect();
    let on = |h: &H, s: u32| ids.iter().copied().find(|&id| slot(h, id) == s).unwrap();
    let (a, b, c) = (on(&h, 0), on(&h, 1), on(&h, 2));
    for (cid, id) in h
        .sent()
        .iter()
        .map(|(_, c)| c.command_id)
        .zip([a, b, c].iter())
    {
        let _ = id;
        h.e.report_result(ok_result(&s, cid, 0)).unwrap();
    }
    h.e.commit().unwrap();
    for id in [a, b, c] {
        assert_eq!(h.e.get(id).unwrap().state(), AllocationState::Allocated);
    }
    h.comm.take();

    // The agent restarts with B grown to 2000 GB and listed first, a new
    // disk D, A last, and C gone. It still holds A's and B's storage.
    register(
        &mut h,
        vec![disk("B", 2000), disk("D", 500), disk("A", 1000)],
        vec![held(b, 0), held(a, 2)],
    )
    .unwrap();
    assert_eq!(h.e.get(a).unwrap().state(), AllocationState::Allocated);
    assert_eq!(h.e.get(b).unwrap().state(), AllocationState::Allocated);
    let lost = h.e.get(c).unwrap();
    assert_eq!(lost.state(), AllocationState::Lost);
    assert!(
        lost.explanation.contains("serial C"),
        "{}",
        lost.explanation
    );
    assert!(
        h.sent().is_empty(),
        "nothing is released or re-created: the storage of the kept disks is held, C's is not touched"
    );
    let info = &h.e.node_infos()[0];
    let slots: Vec<(u32, Option<u32>, String)> = info
        .disks
        .iter()
        .map(|d| (d.disk, d.position, d.identity.clone()))
        .collect();
    assert_eq!(
        slots,
        vec![
            (0, Some(2), "serial A".to_string()),
            (1, Some(0), "serial B".to_string()),
            (2, None, "serial C".to_string()),
            (3, Some(1), "serial D".to_string()),
        ]
    );
    assert_eq!(
        info.disks[2].used_bytes,
        900 * GB,
        "C's capacity stays booked"
    );
    // B grew: 1000 GB more fit beside the 900 GB allocation.
    let big = h.submit(req("big", 1000, 3600)).unwrap();
    assert_eq!(big.state(), AllocationState::Granted);
    assert_eq!(big.placements[0].disk, 1);
    assert_eq!(
        h.sent()[0].1.kind,
        Some(storalloc_proto::v1::agent_command::Kind::Allocate(
            storalloc_proto::v1::AllocateCommand {
                allocation_id: big.id,
                disk: 0,
                capacity_bytes: 1000 * GB,
                start_unix: T0,
                end_unix: T0 + 3600,
                ..Default::default()
            }
        )),
        "commands name the agent's position of the disk (B is first now)"
    );
    h.e.check_invariants().unwrap();

    // C comes back: its allocation is live again, with its storage held.
    register(
        &mut h,
        vec![
            disk("B", 2000),
            disk("D", 500),
            disk("A", 1000),
            disk("C", 1000),
        ],
        vec![held(b, 0), held(a, 2), held(c, 3)],
    )
    .unwrap();
    assert_eq!(h.e.get(c).unwrap().state(), AllocationState::Allocated);
    h.e.check_invariants().unwrap();
}

#[test]
fn a_disk_that_shrank_under_its_allocations_refuses_the_registration() {
    let mut h = harness();
    register(&mut h, vec![disk("A", 1000)], vec![]).unwrap();
    let a = h.submit(req("r", 900, 3600)).unwrap();
    let before = h.store.clone().load().unwrap();
    let e = register(&mut h, vec![disk("A", 500)], vec![]).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, EngineError::FailedPrecondition(_)), "{e:?}");
    for part in [
        "node.disks[0]",
        "serial A",
        &a.id.to_string(),
        "nothing changed",
    ] {
        assert!(msg.contains(part), "{part:?} missing in: {msg}");
    }
    h.e.commit().unwrap();
    assert_eq!(h.store.clone().load().unwrap(), before, "nothing changed");
    assert_eq!(h.e.get(a.id).unwrap().state(), AllocationState::Granted);
    // A shrink that leaves room for what is booked is fine.
    register(&mut h, vec![disk("A", 950)], vec![]).unwrap();
    assert_eq!(h.e.node_infos()[0].disks[0].capacity_bytes, 950 * GB);
}

#[test]
fn a_forward_wall_clock_jump_holds_expiries_for_the_grace_period() {
    let mut h = harness();
    register(&mut h, vec![disk("A", 1000)], vec![]).unwrap();
    let a = h.submit(req("r", 100, 3600)).unwrap();
    h.comm.take();
    let mut rx = h.e.subscribe();
    // Someone sets the clock two days ahead.
    h.clock.jump(2 * 86_400);
    h.e.tick();
    h.e.commit().unwrap();
    assert_eq!(
        h.e.get(a.id).unwrap().state(),
        AllocationState::Granted,
        "the jump ends nothing at once"
    );
    assert!(h.sent().is_empty(), "nothing released");
    assert_eq!(h.e.0.clock_alerts(), 1);
    let ev = rx.try_recv().unwrap();
    assert!(matches!(ev, crate::engine::Event::Clock { .. }), "{ev:?}");
    // Time passes inside the grace period (15 min): still held.
    h.clock.advance(14 * 60);
    h.e.tick();
    h.e.commit().unwrap();
    assert_eq!(h.e.get(a.id).unwrap().state(), AllocationState::Granted);
    // Nobody fixed the clock: after the grace period the jump is believed.
    h.clock.advance(60);
    h.e.tick();
    h.e.commit().unwrap();
    assert_eq!(h.e.get(a.id).unwrap().state(), AllocationState::Ended);
    assert_eq!(h.e.0.clock_alerts(), 2);
}

#[test]
fn a_backward_wall_clock_jump_keeps_grants_their_length() {
    let mut h = harness();
    register(&mut h, vec![disk("A", 1000)], vec![]).unwrap();
    let a = h.submit(req("r", 100, 3600)).unwrap();
    h.clock.jump(-7200);
    h.e.tick();
    h.clock.advance(3599);
    h.e.tick();
    h.e.commit().unwrap();
    assert_eq!(h.e.get(a.id).unwrap().state(), AllocationState::Granted);
    h.clock.advance(1);
    h.e.tick();
    h.e.commit().unwrap();
    assert_eq!(
        h.e.get(a.id).unwrap().state(),
        AllocationState::Ended,
        "it ended after exactly its 3600 s, not 2 h later"
    );
}

#[test]
fn finished_allocations_leave_memory_after_the_retention_period_into_history() {
    let mut h = harness_with(EngineConfig {
        retention_s: 600,
        ..cfg()
    });
    let s = register(&mut h, vec![disk("A", 1000)], vec![]).unwrap();
    let a = h.submit(req("r", 100, 60)).unwrap();
    let gone = h.submit(req("x", 5000, 60)).unwrap();
    assert_eq!(gone.state(), AllocationState::Refused);
    h.e.report_result(ok_result(&s, 1, a.id)).unwrap();
    h.at(T0 + 60);
    h.e.report_result(ok_result(&s, 2, a.id)).unwrap();
    h.e.commit().unwrap();
    assert_eq!(h.e.list(true).len(), 2, "kept in memory while retained");
    h.at(T0 + 700);
    assert!(h.e.list(true).is_empty(), "both left memory");
    assert!(matches!(h.e.get(a.id), Err(EngineError::NotFound(_))));
    assert_eq!(h.store.history_len(), 2);
    let page =
        h.e.0
            .history(&HistoryQuery {
                limit: 10,
                ..HistoryQuery::default()
            })
            .unwrap();
    assert_eq!(
        page.allocations.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![a.id, gone.id]
    );
    assert_eq!(
        page.allocations[0].state_name(),
        crate::model::StateName::Ended
    );
    let _ = Owner::default();
}
