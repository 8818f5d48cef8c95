//! Recovery: what is on disk after the engine stops without warning comes
//! back whole, with every disk within its capacity.

mod support;

use std::path::Path;
use storalloc_core::StrategyKind;
use storalloc_orchestrator::comm::CommEvent;
use storalloc_orchestrator::engine::Owner;
use storalloc_orchestrator::{ManualClock, RecordingComm};
use storalloc_proto::v1::agent_command::Kind;
use storalloc_proto::v1::{
    Allocation, AllocationState, Attachment, CommandResult, DiskDescription, HeldAllocation,
    NodeDescription, NodeState, RegisterRequest, ResultCode, StorageRequest, SubmitRequest,
};
use support::{E, GB};

const T0: i64 = 1_700_000_000;

fn open(dir: &Path, clock: &ManualClock, comm: &RecordingComm) -> E {
    support::open_engine(dir, clock, comm, StrategyKind::WorstCase)
}

fn node(host: &str, disks_gb: &[u64]) -> NodeDescription {
    NodeDescription {
        hostname: host.into(),
        address: "127.0.0.1".into(),
        network_bw_gbps: 10.0,
        disks: disks_gb
            .iter()
            .map(|&g| DiskDescription {
                capacity_bytes: g * GB,
                write_bw_gbps: 1.0,
                read_bw_gbps: 1.0,
                backend: "simulate".into(),
                ..Default::default()
            })
            .collect(),
    }
}

fn register(
    e: &mut E,
    host: &str,
    disks_gb: &[u64],
    held: Vec<HeldAllocation>,
) -> (u32, String, Vec<u64>) {
    let r = e
        .register(RegisterRequest {
            node: Some(node(host, disks_gb)),
            held,
            agent_version: "t".into(),
        })
        .unwrap();
    e.commit().unwrap();
    (r.node_id, r.session_id, r.orphans)
}

fn submit(e: &mut E, id: &str, gb: u64, dur: u64, start: Option<i64>) -> Allocation {
    let out = e
        .submit(
            SubmitRequest {
                request_id: id.into(),
                request: Some(StorageRequest {
                    capacity_bytes: gb * GB,
                    duration_s: dur,
                    start_unix: start,
                    ..Default::default()
                }),
            },
            Owner {
                uid: 1000,
                gid: 100,
            },
        )
        .unwrap();
    e.commit().unwrap();
    out.allocation.unwrap()
}

/// Fills a state dir with a mix of states and returns the allocations as
/// the engine saw them.
fn populate(e: &mut E) -> Vec<Allocation> {
    let (_, s0, _) = register(e, "n0", &[1000, 1000], vec![]);
    register(e, "n1", &[500], vec![]);
    let mut rng_ids = vec![];
    for i in 0..40 {
        // Sizes that leave the disks nearly full, so an over-commit on
        // restore would show.
        let a = submit(e, &format!("fill-{i}"), 50 + (i % 7) * 10, 550, None);
        rng_ids.push(a.id);
    }
    let short = submit(e, "short", 10, 50, None);
    let later = submit(e, "later", 100, 600, Some(T0 + 600));
    assert_eq!(
        later.state(),
        AllocationState::Granted,
        "{}",
        later.explanation
    );
    submit(e, "too-big", 100_000, 60, None);
    let cancelled = submit(e, "cancelled", 10, 600, None);
    e.cancel(cancelled.id).unwrap();
    e.commit().unwrap();
    // n0 confirms the first allocation it holds.
    let first = e.get(rng_ids[0]).unwrap();
    if first.placements[0].node == 0 {
        let cmd = 1;
        e.report_result(CommandResult {
            session_id: s0,
            command_id: cmd,
            allocation_id: first.id,
            code: ResultCode::Ok as i32,
            error: String::new(),
            attachment: Some(Attachment {
                r#type: "directory".into(),
                path: "/x".into(),
                ..Default::default()
            }),
        })
        .unwrap();
        e.commit().unwrap();
    }
    let _ = short;
    e.check_invariants().unwrap();
    e.list(true)
}

fn assert_recovered(before: &[Allocation], e: &mut E) {
    let after = e.list(true);
    assert_eq!(after.len(), before.len(), "every allocation is back");
    for (b, a) in before.iter().zip(&after) {
        if b.request_id == "short" {
            assert_eq!(
                a.state(),
                AllocationState::Ended,
                "its end passed while stopped"
            );
            continue;
        }
        let mut b = b.clone();
        // Every node is DOWN until its agent returns.
        if matches!(
            b.state(),
            AllocationState::Granted | AllocationState::Allocated
        ) {
            b.degraded = true;
        }
        assert_eq!(a, &b, "allocation {} differs after recovery", b.id);
    }
    e.check_invariants().unwrap();
    for n in e.node_infos() {
        assert_eq!(n.state(), NodeState::Down);
        for d in n.disks {
            assert!(
                d.used_bytes <= d.capacity_bytes,
                "node {} disk {} over-committed",
                n.id,
                d.disk
            );
        }
    }
}

#[test]
fn an_engine_dropped_without_shutdown_comes_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let comm = RecordingComm::new();
    let before = {
        let mut e = open(dir.path(), &clock, &comm);
        populate(&mut e)
    };
    clock.set(T0 + 100);
    let comm = RecordingComm::new();
    let mut e = open(dir.path(), &clock, &comm);
    assert_recovered(&before, &mut e);

    // Ids continue; nothing is handed out twice.
    let max = before.iter().map(|a| a.id).max().unwrap();
    let (n0, s0, orphans) = register(&mut e, "n0", &[1000, 1000], vec![]);
    assert_eq!(n0, 0, "a known hostname keeps its id across restarts");
    assert!(orphans.is_empty());
    let fresh = submit(&mut e, "fresh", 1, 60, None);
    assert!(fresh.id > max);

    // The agent reconnects: every unanswered command of its node is re-sent,
    // including the Release of the allocation that ended while stopped.
    comm.take();
    e.open_commands(&s0).unwrap();
    let sent = support::seen(&comm);
    assert_eq!(sent[0], support::Seen::Opened(0));
    let short = before.iter().find(|a| a.request_id == "short").unwrap();
    let releases_short = sent.iter().any(|ev| {
        matches!(ev, support::Seen::Sent(0, c) if matches!(&c.kind, Some(Kind::Release(r)) if r.allocation_id == short.id))
    });
    let short_on_n0 = short.placements.iter().any(|p| p.node == 0);
    assert_eq!(releases_short, short_on_n0);

    // The reservation is still one: its Allocate goes out at its start.
    let later = before.iter().find(|a| a.request_id == "later").unwrap();
    register(&mut e, "n1", &[500], vec![]);
    comm.take();
    clock.set(T0 + 600);
    e.tick();
    e.commit().unwrap();
    let sent = support::sent(&comm);
    assert!(
        sent.iter().any(
            |(_, c)| matches!(&c.kind, Some(Kind::Allocate(a)) if a.allocation_id == later.id)
        ),
        "{sent:?}"
    );
    e.check_invariants().unwrap();
}

#[test]
fn the_files_on_disk_at_any_commit_recover_like_a_kill_9() {
    // Copying the database and its WAL while the engine still holds them is
    // exactly what a crash leaves behind: nothing is checkpointed or closed.
    let dir = tempfile::tempdir().unwrap();
    let crash = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let comm = RecordingComm::new();
    let mut e = open(dir.path(), &clock, &comm);
    let before = populate(&mut e);
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), crash.path().join(f.file_name())).unwrap();
    }
    clock.set(T0 + 100);
    let mut e2 = open(crash.path(), &clock, &RecordingComm::new());
    assert_recovered(&before, &mut e2);
    drop(e);
}

#[test]
fn held_storage_is_confirmed_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let comm = RecordingComm::new();
    let a = {
        let mut e = open(dir.path(), &clock, &comm);
        register(&mut e, "n0", &[1000], vec![]);
        submit(&mut e, "r", 100, 3600, None)
    };
    // The agent created the storage, but its result never reached the
    // orchestrator before the crash: registration tells.
    let mut e = open(dir.path(), &clock, &comm);
    let held = HeldAllocation {
        allocation_id: a.id,
        disk: 0,
        capacity_bytes: 100 * GB,
        attachment: Some(Attachment {
            r#type: "directory".into(),
            path: "/held".into(),
            ..Default::default()
        }),
    };
    let (_, s, orphans) = register(&mut e, "n0", &[1000], vec![held]);
    assert!(orphans.is_empty());
    let got = e.get(a.id).unwrap();
    assert_eq!(got.state(), AllocationState::Allocated);
    assert!(!got.degraded);
    comm.take();
    e.open_commands(&s).unwrap();
    assert_eq!(
        comm.take(),
        vec![CommEvent::Opened(0)],
        "nothing left to send"
    );
}

#[test]
fn pending_requests_survive_a_restart_and_are_decided_when_a_node_returns() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let comm = RecordingComm::new();
    let p = {
        let mut e = open(dir.path(), &clock, &comm);
        register(&mut e, "n0", &[1000], vec![]);
        let mut e = {
            drop(e);
            // Restarted: n0 is DOWN, so the next request waits.
            open(dir.path(), &clock, &comm)
        };
        let p = submit(&mut e, "waits", 10, 60, None);
        assert_eq!(p.state(), AllocationState::Pending);
        p
    };
    // Stopped longer than the pending timeout: the request still gets a
    // full timeout from the restart rather than a refusal on sight.
    clock.set(T0 + 500);
    let mut e = open(dir.path(), &clock, &comm);
    assert_eq!(e.get(p.id).unwrap().state(), AllocationState::Pending);
    register(&mut e, "n0", &[1000], vec![]);
    let got = e.get(p.id).unwrap();
    assert_eq!(got.state(), AllocationState::Granted, "{}", got.explanation);
    assert_eq!(got.start_unix, T0 + 500);
}
