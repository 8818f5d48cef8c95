//! The lifecycle's transitions, asserted by the exact effects they return
//! (store writes, commands, stream closes), with no engine around them.

use crate::lifecycle::{CommandOutcome, Effect, EngineConfig, Held, Registration, World};
use crate::model::{
    Attachment, Command, CommandKind, DiskSpec, Dispatch, Owner, StateName, StorageRequest,
};
use storalloc_core::{SchedulerConfig, StrategyKind};

const GB: u64 = 1_000_000_000;
const T0: i64 = 1_700_000_000;

fn world() -> World {
    World::new(
        EngineConfig::new(SchedulerConfig::new(StrategyKind::WorstFit)),
        7,
    )
}

pub(super) fn disk(serial: &str, gb: u64) -> DiskSpec {
    DiskSpec {
        capacity_bytes: gb * GB,
        write_bw_gbps: 2.0,
        read_bw_gbps: 3.0,
        serial: serial.into(),
        backend: "simulate".into(),
        ..Default::default()
    }
}

fn registration(host: &str, disks: Vec<DiskSpec>, held: Vec<Held>) -> Registration {
    Registration {
        hostname: host.into(),
        address: "127.0.0.1".into(),
        network_bw_gbps: 12.5,
        disks,
        held,
    }
}

fn request(gb: u64, secs: u64) -> StorageRequest {
    StorageRequest {
        capacity_bytes: gb * GB,
        duration_s: secs,
        ..Default::default()
    }
}

fn allocate(
    id: u64,
    alloc: u64,
    disk: u32,
    position: u32,
    gb: u64,
    start: i64,
    end: i64,
) -> (Command, Dispatch) {
    let c = Command {
        id,
        node: 0,
        kind: CommandKind::Allocate {
            allocation_id: alloc,
            disk,
            capacity_bytes: gb * GB,
            start_unix: start,
            end_unix: end,
            owner: Owner { uid: 5, gid: 6 },
            host_nqns: vec![],
        },
    };
    let d = Dispatch {
        node: 0,
        position,
        command: c.clone(),
    };
    (c, d)
}

fn release(id: u64, alloc: u64) -> Command {
    Command {
        id,
        node: 0,
        kind: CommandKind::Release {
            allocation_id: alloc,
            disk: 0,
        },
    }
}

#[test]
fn a_new_node_is_saved_its_old_stream_closed_and_nothing_else() {
    let mut w = world();
    let step = w.register(registration("n0", vec![disk("A", 100)], vec![]), T0);
    assert_eq!(step.out.unwrap().node_id, 0);
    assert_eq!(
        step.effects,
        vec![Effect::SaveNode(0), Effect::CloseStream(0)]
    );
}

#[test]
fn submit_saves_the_grant_then_queues_and_sends_its_allocate() {
    let mut w = world();
    w.register(registration("n0", vec![disk("A", 100)], vec![]), T0);
    let step = w.submit("r1".into(), request(10, 60), Owner { uid: 5, gid: 6 }, T0);
    assert_eq!(step.out.unwrap().id, 1);
    let (c, d) = allocate(1, 1, 0, 0, 10, T0, T0 + 60);
    assert_eq!(
        step.effects,
        vec![
            Effect::SaveCounters,
            Effect::SaveAllocation(1),
            Effect::AddCommand(c),
            Effect::Send(d),
        ]
    );
    assert_eq!(w.allocation(1).unwrap().state_name(), StateName::Granted);
}

#[test]
fn a_refused_request_only_saves_the_refusal() {
    let mut w = world();
    w.register(registration("n0", vec![disk("A", 100)], vec![]), T0);
    let step = w.submit("big".into(), request(500, 60), Owner::default(), T0);
    assert_eq!(
        step.effects,
        vec![Effect::SaveCounters, Effect::SaveAllocation(1)]
    );
    assert_eq!(w.allocation(1).unwrap().state_name(), StateName::Refused);
}

#[test]
fn an_invalid_request_has_no_effect() {
    let mut w = world();
    let step = w.submit("r".into(), request(0, 60), Owner::default(), T0);
    assert!(step.out.is_err());
    assert!(step.effects.is_empty());
}

#[test]
fn confirm_then_expiry_release_and_retention() {
    let mut cfg = EngineConfig::new(SchedulerConfig::new(StrategyKind::WorstFit));
    cfg.retention_s = 100;
    cfg.heartbeat_timeout_s = 1_000_000;
    let mut w = World::new(cfg, 7);
    let sess = w
        .register(registration("n0", vec![disk("A", 100)], vec![]), T0)
        .out
        .unwrap()
        .session_id;
    w.submit("r1".into(), request(10, 60), Owner::default(), T0);
    let att = Attachment {
        kind: "directory".into(),
        path: "/s/1".into(),
        ..Default::default()
    };
    let step = w.report_result(&sess, 1, CommandOutcome::Ok(Some(att)), T0 + 1);
    assert_eq!(
        step.effects,
        vec![Effect::CommandDone(1), Effect::SaveAllocation(1)]
    );
    assert_eq!(w.allocation(1).unwrap().state_name(), StateName::Allocated);

    let step = w.tick(T0 + 60);
    let release = release(2, 1);
    assert_eq!(
        step.effects,
        vec![
            Effect::SaveCounters,
            Effect::AddCommand(release.clone()),
            Effect::Send(Dispatch {
                node: 0,
                position: 0,
                command: release
            }),
            Effect::SaveAllocation(1),
        ]
    );
    // A finished allocation with a release still owed stays in memory.
    assert!(w.tick(T0 + 200).effects.is_empty());
    w.report_result(&sess, 2, CommandOutcome::Ok(None), T0 + 201);
    let step = w.tick(T0 + 400);
    match step.effects.as_slice() {
        [Effect::Archive(a)] => assert_eq!(a.id, 1),
        other => panic!("expected one Archive, got {other:?}"),
    }
    assert!(w.allocation(1).is_none(), "it left memory");
}

#[test]
fn a_silent_node_goes_down_and_its_stream_closes() {
    let mut w = world();
    w.register(registration("n0", vec![disk("A", 100)], vec![]), T0);
    w.submit("r1".into(), request(10, 3600), Owner::default(), T0);
    let step = w.tick(T0 + 16);
    assert_eq!(
        step.effects,
        vec![Effect::CloseStream(0), Effect::SaveAllocation(1)]
    );
    assert!(w.allocation(1).unwrap().degraded);
}

#[test]
fn cancel_drops_the_unanswered_allocate_and_releases() {
    let mut w = world();
    w.register(registration("n0", vec![disk("A", 100)], vec![]), T0);
    w.submit("r1".into(), request(10, 3600), Owner::default(), T0);
    let step = w.cancel(1, T0 + 5);
    let release = release(2, 1);
    assert_eq!(
        step.effects,
        vec![
            Effect::CommandDone(1),
            Effect::SaveCounters,
            Effect::AddCommand(release.clone()),
            Effect::Send(Dispatch {
                node: 0,
                position: 0,
                command: release
            }),
            Effect::SaveAllocation(1),
        ]
    );
    assert_eq!(w.allocation(1).unwrap().state_name(), StateName::Cancelled);
}

#[test]
fn a_vanished_disk_makes_its_allocation_lost_and_sends_nothing() {
    let mut w = world();
    w.register(
        registration("n0", vec![disk("A", 100), disk("B", 100)], vec![]),
        T0,
    );
    w.submit("r1".into(), request(90, 3600), Owner::default(), T0);
    w.submit("r2".into(), request(90, 3600), Owner::default(), T0);
    let on_b = (1..=2)
        .find(|&id| w.allocation(id).unwrap().state.grant().unwrap().placements[0].disk == 1)
        .unwrap();
    let step = w.register(registration("n0", vec![disk("A", 100)], vec![]), T0 + 10);
    let reg = step.out.unwrap();
    assert!(reg.orphans.is_empty());
    assert!(step.effects.contains(&Effect::SaveNode(0)));
    assert!(step.effects.contains(&Effect::SaveAllocation(on_b)));
    assert!(
        !step
            .effects
            .iter()
            .any(|e| matches!(e, Effect::AddCommand(_) | Effect::Send(_))
                && format!("{e:?}").contains(&format!("allocation_id: {on_b}"))),
        "nothing is released or re-created for the LOST allocation: {:?}",
        step.effects
    );
    assert_eq!(w.allocation(on_b).unwrap().state_name(), StateName::Lost);
    w.check_invariants().unwrap();
}
