//! Liveness, registration and reconciliation, drain.

use super::*;
use crate::comm::CommEvent;
use crate::engine::{EngineConfig, EngineError};
use crate::store::StateStore;
use storalloc_proto::v1::{AllocationState, HeldAllocation, RegisterRequest};

#[test]
fn silent_nodes_go_down_and_come_back_on_register() {
    let mut h = harness_with(EngineConfig {
        heartbeat_timeout_s: 15,
        ..cfg()
    });
    let (n0, s0) = h.register("n0", &[1000]);
    let a = h.submit(req("r1", 100, 3600)).unwrap();
    h.clock.set(T0 + 10);
    assert!(h.e.heartbeat(&s0).known);
    h.at(T0 + 25);
    assert!(
        !h.e.get(a.id).unwrap().degraded,
        "heartbeat 15 s ago is in time"
    );
    h.at(T0 + 26);
    assert!(h.e.get(a.id).unwrap().degraded);
    assert_eq!(
        h.e.node_infos()[0].state(),
        storalloc_proto::v1::NodeState::Down
    );
    assert!(!h.e.heartbeat(&s0).known, "a DOWN node's session is stale");
    assert!(matches!(
        h.e.report_result(ok_result(&s0, 1, a.id)),
        Err(EngineError::FailedPrecondition(_))
    ));
    let r = h.submit(req("r2", 10, 60)).unwrap();
    assert_eq!(
        r.state(),
        AllocationState::Pending,
        "no node is up: it waits"
    );

    let (again, s1) = h.register("n0", &[1000]);
    assert_eq!(again, n0, "a known hostname keeps its id");
    assert_ne!(s0, s1);
    assert!(!h.e.get(a.id).unwrap().degraded);
    assert_eq!(h.e.get(r.id).unwrap().state(), AllocationState::Granted);
}

#[test]
fn pending_requests_are_refused_after_the_timeout() {
    let mut h = harness();
    let a = h.submit(req("early", 10, 60)).unwrap();
    assert_eq!(a.state(), AllocationState::Pending);
    h.at(T0 + 59);
    assert_eq!(h.e.get(a.id).unwrap().state(), AllocationState::Pending);
    h.at(T0 + 60);
    let got = h.e.get(a.id).unwrap();
    assert_eq!(got.state(), AllocationState::Refused);
    assert!(
        got.explanation.contains("no storage node"),
        "{}",
        got.explanation
    );
}

#[test]
fn registration_reconciles_held_storage() {
    let mut h = harness();
    let (n0, s0) = h.register("n0", &[1000]);
    let kept = h.submit(req("kept", 100, 3600)).unwrap();
    let lost = h.submit(req("lost", 100, 3600)).unwrap();
    let ended = h.submit(req("ended", 100, 10)).unwrap();
    for (cid, id) in [(1, kept.id), (2, lost.id), (3, ended.id)] {
        h.e.report_result(ok_result(&s0, cid, id)).unwrap();
    }
    h.e.commit().unwrap();
    h.at(T0 + 10);
    h.comm.take();
    let held = |id: u64| HeldAllocation {
        allocation_id: id,
        disk: 0,
        capacity_bytes: 100 * GB,
        attachment: None,
    };
    let resp =
        h.e.register(RegisterRequest {
            node: Some(desc("n0", &[1000])),
            held: vec![held(kept.id), held(ended.id), held(999)],
            agent_version: "test".into(),
        })
        .unwrap();
    h.e.commit().unwrap();
    assert_eq!(resp.node_id, n0);
    assert_eq!(
        resp.orphans,
        vec![ended.id, 999],
        "finished and unknown storage is released by the agent"
    );
    let sent = h.sent();
    assert_eq!(
        sent,
        vec![(n0, allocate(5, lost.id, 0, 100, T0, T0 + 3600))],
        "the storage the agent lost is created again"
    );
    assert_eq!(h.e.get(lost.id).unwrap().state(), AllocationState::Granted);
    assert_eq!(
        h.e.get(kept.id).unwrap().state(),
        AllocationState::Allocated
    );
    assert_eq!(
        h.stored_outbox_ids(),
        vec![5],
        "the Release of the orphan is settled by the agent itself"
    );
}

#[test]
fn reconnecting_agents_get_every_unanswered_command_again() {
    let mut h = harness();
    let (n0, s0) = h.register("n0", &[1000]);
    let a = h.submit(req("r1", 100, 3600)).unwrap();
    let b = h.submit(req("r2", 100, 3600)).unwrap();
    h.e.report_result(ok_result(&s0, 1, a.id)).unwrap();
    h.e.commit().unwrap();
    h.comm.take();
    h.e.open_commands(&s0).unwrap();
    assert_eq!(
        h.comm.take(),
        vec![
            CommEvent::Opened(n0),
            CommEvent::Sent(crate::model::Dispatch {
                node: n0,
                position: 0,
                command: crate::model::Command {
                    id: 2,
                    node: n0,
                    kind: crate::model::CommandKind::Allocate {
                        allocation_id: b.id,
                        disk: 0,
                        capacity_bytes: 100 * GB,
                        start_unix: T0,
                        end_unix: T0 + 3600,
                        owner: Owner::default(),
                        host_nqns: vec![],
                    }
                }
            })
        ]
    );
    assert!(matches!(
        h.e.open_commands("stale"),
        Err(EngineError::FailedPrecondition(_))
    ));
}

#[test]
fn new_hostnames_grow_the_system() {
    let mut h = harness();
    let (n0, _) = h.register("n0", &[100]);
    let a = h.submit(req("fill", 100, 3600)).unwrap();
    assert_eq!(a.placements[0].node, n0);
    assert_eq!(
        h.submit(req("no-room", 50, 3600)).unwrap().state(),
        AllocationState::Refused
    );
    let (n1, _) = h.register("n1", &[100]);
    assert_eq!(n1, n0 + 1);
    let b = h.submit(req("room", 50, 3600)).unwrap();
    assert_eq!(b.state(), AllocationState::Granted);
    assert_eq!(b.placements[0].node, n1);
    assert_eq!(b.placements[0].hostname, "n1");
    assert_eq!(
        h.e.get(a.id).unwrap().state(),
        AllocationState::Granted,
        "kept across the rebuild"
    );
    h.e.check_invariants().unwrap();
}

#[test]
fn drained_nodes_get_no_new_placements() {
    let mut h = harness();
    h.register("n0", &[1000]);
    h.register("n1", &[1000]);
    let node = storalloc_proto::v1::NodeRequest {
        node: Some(storalloc_proto::v1::node_request::Node::Hostname(
            "n0".into(),
        )),
    };
    let info = h.e.drain_node(&node).unwrap();
    assert_eq!(info.state(), storalloc_proto::v1::NodeState::Drained);
    for i in 0..5 {
        let a = h.submit(req(&format!("r{i}"), 10, 60)).unwrap();
        assert_eq!(a.placements[0].hostname, "n1");
    }
    assert!(
        h.store.clone().load().unwrap().nodes[0].drained,
        "drain is durable"
    );
    h.e.resume_node(&node).unwrap();
    assert_eq!(
        h.e.node_infos()[0].state(),
        storalloc_proto::v1::NodeState::Up
    );
}
