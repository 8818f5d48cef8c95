//! Engine behaviour with the fakes: a memory store, a recording comm and a
//! manual clock. Each test asserts the exact commands the engine sent.

use super::{Engine, EngineConfig, EngineError, Owner};
use crate::clock::ManualClock;
use crate::comm::{CommEvent, RecordingComm};
use crate::store::{MemoryStore, StateStore};
use storalloc_core::{SchedulerConfig, StrategyKind};
use storalloc_proto::v1::agent_command::Kind;
use storalloc_proto::v1::{
    AgentCommand, AllocateCommand, Allocation, AllocationState, Attachment, CommandResult,
    DiskDescription, HeldAllocation, NodeDescription, RegisterRequest, ReleaseCommand, ResultCode,
    StorageRequest, SubmitRequest,
};

const GB: u64 = 1_000_000_000;
const T0: i64 = 1_700_000_000;

type TestEngine = Engine<MemoryStore, RecordingComm, ManualClock>;

struct H {
    e: TestEngine,
    store: MemoryStore,
    comm: RecordingComm,
    clock: ManualClock,
}

/// Heartbeats never time out unless a test asks for it.
fn cfg() -> EngineConfig {
    let mut c = EngineConfig::new(SchedulerConfig::new(StrategyKind::WorstCase));
    c.heartbeat_timeout_s = 1_000_000;
    c.pending_timeout_s = 60;
    c
}

fn harness() -> H {
    harness_with(cfg())
}

fn harness_with(cfg: EngineConfig) -> H {
    let store = MemoryStore::new();
    let comm = RecordingComm::new();
    let clock = ManualClock::new(T0);
    let e = Engine::open(store.clone(), comm.clone(), clock.clone(), cfg).unwrap();
    H {
        e,
        store,
        comm,
        clock,
    }
}

fn desc(host: &str, disks_gb: &[u64]) -> NodeDescription {
    NodeDescription {
        hostname: host.into(),
        address: "10.0.0.1".into(),
        network_bw_gbps: 12.5,
        disks: disks_gb
            .iter()
            .map(|&gb| DiskDescription {
                capacity_bytes: gb * GB,
                write_bw_gbps: 2.0,
                read_bw_gbps: 3.0,
                backend: "simulate".into(),
                ..Default::default()
            })
            .collect(),
    }
}

fn req(id: &str, gb: u64, duration_s: u64) -> SubmitRequest {
    SubmitRequest {
        request_id: id.into(),
        request: Some(StorageRequest {
            capacity_bytes: gb * GB,
            duration_s,
            ..Default::default()
        }),
    }
}

fn allocate(
    command_id: u64,
    allocation_id: u64,
    disk: u32,
    gb: u64,
    start: i64,
    end: i64,
) -> AgentCommand {
    AgentCommand {
        command_id,
        kind: Some(Kind::Allocate(AllocateCommand {
            allocation_id,
            disk,
            capacity_bytes: gb * GB,
            start_unix: start,
            end_unix: end,
            ..Default::default()
        })),
    }
}

fn release(command_id: u64, allocation_id: u64, disk: u32) -> AgentCommand {
    AgentCommand {
        command_id,
        kind: Some(Kind::Release(ReleaseCommand {
            allocation_id,
            disk,
        })),
    }
}

fn ok_result(session: &str, command_id: u64, allocation_id: u64) -> CommandResult {
    CommandResult {
        session_id: session.into(),
        command_id,
        allocation_id,
        code: ResultCode::Ok as i32,
        error: String::new(),
        attachment: Some(Attachment {
            r#type: "directory".into(),
            path: format!("/scratch/alloc-{allocation_id}"),
            ..Default::default()
        }),
    }
}

impl H {
    fn register(&mut self, host: &str, disks_gb: &[u64]) -> (u32, String) {
        self.register_holding(host, disks_gb, vec![])
    }
    fn register_holding(
        &mut self,
        host: &str,
        disks_gb: &[u64],
        held: Vec<HeldAllocation>,
    ) -> (u32, String) {
        let r = self
            .e
            .register(RegisterRequest {
                node: Some(desc(host, disks_gb)),
                held,
                agent_version: "test".into(),
            })
            .unwrap();
        self.e.commit().unwrap();
        (r.node_id, r.session_id)
    }
    fn submit(&mut self, r: SubmitRequest) -> Result<Allocation, EngineError> {
        let out = self.e.submit(r, Owner::default());
        self.e.commit().unwrap();
        out.map(|o| o.allocation.unwrap())
    }
    fn at(&mut self, t: i64) {
        self.clock.set(t);
        self.e.tick();
        self.e.commit().unwrap();
    }
}

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
        h.store.clone().load().unwrap().allocations.is_empty(),
        "nothing is on disk before the commit"
    );
    h.e.commit().unwrap();
    let on_disk = h.store.clone().load().unwrap();
    assert_eq!(on_disk.allocations, vec![h.e.get(a.id).unwrap()]);
    let mut expected = allocate(1, a.id, 0, 100, T0, T0 + 3600);
    if let Some(Kind::Allocate(c)) = expected.kind.as_mut() {
        c.owner_uid = 7;
        c.owner_gid = 8;
    }
    assert_eq!(h.comm.take_sent(), vec![(node, expected)]);
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
    assert!(h.store.clone().load().unwrap().outbox.is_empty());

    // While it lives, a second 600 GB does not fit on the 1000 GB disk.
    let b = h.submit(req("r2", 600, 100)).unwrap();
    assert_eq!(b.state(), AllocationState::Refused);
    assert!(!b.explanation.is_empty());

    h.at(T0 + 99);
    assert!(h.comm.take_sent().is_empty());
    h.at(T0 + 100);
    assert_eq!(h.e.get(a.id).unwrap().state(), AllocationState::Ended);
    assert_eq!(h.comm.take_sent(), vec![(node, release(2, a.id, 0))]);
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
    assert!(h.comm.take_sent().is_empty());
    h.at(T0 + 599);
    assert!(h.comm.take_sent().is_empty());
    h.at(T0 + 600);
    assert_eq!(
        h.comm.take_sent(),
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
    assert_eq!(h.comm.take_sent(), vec![(node, release(2, a.id, 0))]);
    let outbox = h.store.clone().load().unwrap().outbox;
    assert_eq!(
        outbox.iter().map(|c| c.command.clone()).collect::<Vec<_>>(),
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
    assert!(h.comm.take_sent().is_empty());
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
    assert!(h.comm.take_sent().is_empty());
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
    let sent = h.comm.take_sent();
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
        h.comm.take_sent(),
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
    assert!(h.comm.take_sent().is_empty());
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
    let sent = h.comm.take_sent();
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
    let outbox: Vec<u64> = h
        .store
        .clone()
        .load()
        .unwrap()
        .outbox
        .iter()
        .map(|c| c.command.command_id)
        .collect();
    assert_eq!(
        outbox,
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
            CommEvent::Sent(n0, allocate(2, b.id, 0, 100, T0, T0 + 3600))
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
    assert!(h.store.clone().load().unwrap().allocations.is_empty());
    h.e.commit().unwrap();
    assert_eq!(h.store.clone().load().unwrap().allocations.len(), 10);
    let mut seen = vec![];
    while let Ok(ev) = rx.try_recv() {
        seen.push(ev.allocation.unwrap().id);
    }
    assert_eq!(seen, ids);
}
