//! The one conformance suite every [`StateStore`] must pass. Each check takes
//! `open`, which opens the store anew over the same data (a "reopen": the
//! previous handle is dropped first), so durability is part of the contract.
//!
//! Run it for an implementation with [`state_store_conformance!`].

use super::{Batch, HistoryQuery, StateStore, StoreError};
use crate::model::{
    AllocState, AllocationRecord, Command, CommandKind, DiskIdentity, DiskSlot, DiskSpec, Grant,
    NodeRecord, Owner, PlacementRecord, StateName, StorageRequest, Transition,
};

pub type Opener<'a> = &'a mut dyn FnMut() -> Box<dyn StateStore>;

pub fn node(id: u32, hostname: &str) -> NodeRecord {
    NodeRecord {
        id,
        hostname: hostname.to_string(),
        address: "127.0.0.1".into(),
        network_bw_gbps: 12.5,
        disks: vec![DiskSlot {
            identity: DiskIdentity::Serial(format!("SN-{hostname}-0")),
            spec: DiskSpec {
                capacity_bytes: 8_000_000_000_000,
                write_bw_gbps: 2.93,
                read_bw_gbps: 3.13,
                serial: format!("SN-{hostname}-0"),
                medium: Some("nvme".into()),
                backend: "simulate".into(),
                ..Default::default()
            },
            position: Some(0),
        }],
        drained: false,
    }
}

pub fn allocation(id: u64, request_id: &str, state: StateName) -> AllocationRecord {
    let grant = Grant {
        start_unix: 1_000,
        end_unix: 4_600,
        delay_s: 0,
        retries: 0,
        placements: vec![PlacementRecord {
            node: 0,
            disk: 0,
            capacity_bytes: 100_000_000_000,
            hostname: "n0".into(),
            attachment: None,
        }],
    };
    let state = match state {
        StateName::Pending => AllocState::Pending,
        StateName::Granted => AllocState::Granted { grant },
        StateName::Allocated => AllocState::Allocated { grant },
        StateName::Lost => AllocState::Lost { grant },
        StateName::Refused => AllocState::Refused { retries: 1 },
        StateName::Failed => AllocState::Failed { grant: Some(grant) },
        StateName::Ended => AllocState::Ended { grant },
        StateName::Cancelled => AllocState::Cancelled { grant: None },
    };
    let name = state.name();
    AllocationRecord {
        id,
        request_id: request_id.to_string(),
        owner: Owner {
            uid: 1000 + id as u32 % 2,
            gid: 100,
        },
        request: StorageRequest {
            capacity_bytes: 100_000_000_000,
            duration_s: 3600,
            labels: [("job".to_string(), format!("j{id}"))].into(),
            ..Default::default()
        },
        submitted_unix: 990,
        state,
        explanation: "placed".into(),
        degraded: false,
        history: vec![
            Transition {
                at_unix: 990,
                state: StateName::Pending,
            },
            Transition {
                at_unix: 990 + id as i64,
                state: name,
            },
        ],
    }
}

pub fn allocate_cmd(id: u64, node: u32, allocation_id: u64) -> Command {
    Command {
        id,
        node,
        kind: CommandKind::Allocate {
            allocation_id,
            disk: 0,
            capacity_bytes: 1,
            start_unix: 1_000,
            end_unix: 4_600,
            owner: Owner::default(),
            host_nqns: vec![],
        },
    }
}

pub fn release_cmd(id: u64, node: u32, allocation_id: u64) -> Command {
    Command {
        id,
        node,
        kind: CommandKind::Release {
            allocation_id,
            disk: 0,
        },
    }
}

pub fn empty_store_loads_empty(open: Opener) {
    let snap = open().load().unwrap();
    assert!(snap.nodes.is_empty() && snap.allocations.is_empty() && snap.outbox.is_empty());
    assert_eq!(snap.next_allocation_id, 1, "ids start at 1");
    assert_eq!(snap.next_command_id, 1, "ids start at 1");
}

pub fn committed_batch_survives_reopen(open: Opener) {
    let batch = Batch {
        nodes: vec![node(0, "n0"), node(1, "n1")],
        allocations: vec![
            allocation(2, "req-b", StateName::Granted),
            allocation(1, "req-a", StateName::Pending),
        ],
        commands_added: vec![allocate_cmd(7, 1, 2), release_cmd(3, 0, 1)],
        commands_done: vec![],
        next_allocation_id: Some(3),
        next_command_id: Some(8),
        ..Batch::default()
    };
    {
        let mut s = open();
        s.commit(&batch).unwrap();
    }
    let snap = open().load().unwrap();
    assert_eq!(snap.nodes, batch.nodes);
    assert_eq!(
        snap.allocations,
        vec![batch.allocations[1].clone(), batch.allocations[0].clone()],
        "allocations come back whole and in id order"
    );
    assert_eq!(
        snap.outbox,
        vec![
            batch.commands_added[1].clone(),
            batch.commands_added[0].clone()
        ],
        "outbox in command-id order"
    );
    assert_eq!(snap.next_allocation_id, 3);
    assert_eq!(snap.next_command_id, 8);
}

pub fn upsert_replaces_by_id(open: Opener) {
    let mut s = open();
    s.commit(&Batch {
        nodes: vec![node(0, "n0")],
        allocations: vec![allocation(1, "r1", StateName::Granted)],
        ..Batch::default()
    })
    .unwrap();
    let mut ended = allocation(1, "r1", StateName::Ended);
    ended.explanation = "time ran out".into();
    let mut drained = node(0, "n0");
    drained.drained = true;
    s.commit(&Batch {
        nodes: vec![drained.clone()],
        allocations: vec![ended.clone()],
        ..Batch::default()
    })
    .unwrap();
    drop(s);
    let snap = open().load().unwrap();
    assert_eq!(snap.allocations, vec![ended]);
    assert_eq!(snap.nodes, vec![drained]);
}

pub fn done_commands_leave_the_outbox(open: Opener) {
    let mut s = open();
    s.commit(&Batch {
        commands_added: vec![
            allocate_cmd(1, 0, 1),
            allocate_cmd(2, 0, 2),
            release_cmd(3, 1, 1),
        ],
        ..Batch::default()
    })
    .unwrap();
    s.commit(&Batch {
        commands_done: vec![2, 99],
        ..Batch::default()
    })
    .unwrap();
    drop(s);
    let snap = open().load().unwrap();
    let ids: Vec<u64> = snap.outbox.iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        vec![1, 3],
        "command 2 is done; an unknown done id is ignored"
    );
}

pub fn duplicate_request_id_rejects_whole_batch(open: Opener) {
    let mut s = open();
    s.commit(&Batch {
        allocations: vec![allocation(1, "same", StateName::Granted)],
        next_allocation_id: Some(2),
        ..Batch::default()
    })
    .unwrap();
    let bad = Batch {
        nodes: vec![node(0, "n0")],
        allocations: vec![
            allocation(2, "other", StateName::Granted),
            allocation(3, "same", StateName::Granted),
        ],
        commands_added: vec![allocate_cmd(1, 0, 2)],
        next_allocation_id: Some(4),
        ..Batch::default()
    };
    match s.commit(&bad) {
        Err(StoreError::DuplicateRequestId {
            request_id,
            existing,
        }) => {
            assert_eq!(request_id, "same");
            assert_eq!(existing, 1);
        }
        other => panic!("expected DuplicateRequestId, got {other:?}"),
    }
    drop(s);
    let snap = open().load().unwrap();
    assert_eq!(
        snap.allocations.len(),
        1,
        "nothing of the rejected batch is kept"
    );
    assert!(snap.nodes.is_empty() && snap.outbox.is_empty());
    assert_eq!(snap.next_allocation_id, 2);
}

pub fn duplicate_hostname_is_rejected(open: Opener) {
    let mut s = open();
    s.commit(&Batch {
        nodes: vec![node(0, "n0")],
        ..Batch::default()
    })
    .unwrap();
    let err = s
        .commit(&Batch {
            nodes: vec![node(1, "n0")],
            ..Batch::default()
        })
        .unwrap_err();
    assert!(
        matches!(err, StoreError::DuplicateHostname { existing: 0, .. }),
        "{err:?}"
    );
}

pub fn archived_allocations_move_to_history(open: Opener) {
    let mut s = open();
    s.commit(&Batch {
        allocations: (1..=4)
            .map(|i| allocation(i, &format!("r{i}"), StateName::Ended))
            .collect(),
        ..Batch::default()
    })
    .unwrap();
    s.commit(&Batch {
        archived: (1..=3)
            .map(|i| allocation(i, &format!("r{i}"), StateName::Ended))
            .collect(),
        keep_history: true,
        ..Batch::default()
    })
    .unwrap();
    drop(s);
    let mut s = open();
    let snap = s.load().unwrap();
    assert_eq!(
        snap.allocations.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![4],
        "archived allocations leave the live table"
    );
    let all = s
        .history(&HistoryQuery {
            limit: 10,
            ..HistoryQuery::default()
        })
        .unwrap();
    assert_eq!(all.iter().map(|a| a.id).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(
        all[0],
        allocation(1, "r1", StateName::Ended),
        "whole records come back"
    );
    let page = s
        .history(&HistoryQuery {
            after_id: 1,
            limit: 1,
            ..HistoryQuery::default()
        })
        .unwrap();
    assert_eq!(page.iter().map(|a| a.id).collect::<Vec<_>>(), vec![2]);
    let mine = s
        .history(&HistoryQuery {
            uid: Some(1001),
            limit: 10,
            ..HistoryQuery::default()
        })
        .unwrap();
    assert_eq!(
        mine.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![1, 3],
        "by owner"
    );
    let recent = s
        .history(&HistoryQuery {
            since_unix: Some(993),
            limit: 10,
            ..HistoryQuery::default()
        })
        .unwrap();
    assert_eq!(
        recent.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![3],
        "by finish time"
    );
    // A request id is free again once its allocation left the live table.
    s.commit(&Batch {
        allocations: vec![allocation(9, "r1", StateName::Pending)],
        ..Batch::default()
    })
    .unwrap();
    // Without history, archived allocations are dropped.
    s.commit(&Batch {
        archived: vec![allocation(4, "r4", StateName::Ended)],
        keep_history: false,
        ..Batch::default()
    })
    .unwrap();
    let ids: Vec<u64> = s
        .history(&HistoryQuery {
            limit: 10,
            ..HistoryQuery::default()
        })
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, vec![1, 2, 3]);
}

/// Generates one `#[test]` per conformance check. `$open` is an expression
/// evaluating to an `FnMut() -> Box<dyn StateStore>` that opens the same data
/// each time it is called.
#[macro_export]
macro_rules! state_store_conformance {
    ($open:expr) => {
        #[test]
        fn empty_store_loads_empty() {
            let mut open = $open;
            $crate::store::conformance::empty_store_loads_empty(&mut open)
        }
        #[test]
        fn committed_batch_survives_reopen() {
            let mut open = $open;
            $crate::store::conformance::committed_batch_survives_reopen(&mut open)
        }
        #[test]
        fn upsert_replaces_by_id() {
            let mut open = $open;
            $crate::store::conformance::upsert_replaces_by_id(&mut open)
        }
        #[test]
        fn done_commands_leave_the_outbox() {
            let mut open = $open;
            $crate::store::conformance::done_commands_leave_the_outbox(&mut open)
        }
        #[test]
        fn duplicate_request_id_rejects_whole_batch() {
            let mut open = $open;
            $crate::store::conformance::duplicate_request_id_rejects_whole_batch(&mut open)
        }
        #[test]
        fn archived_allocations_move_to_history() {
            let mut open = $open;
            $crate::store::conformance::archived_allocations_move_to_history(&mut open)
        }
        #[test]
        fn duplicate_hostname_is_rejected() {
            let mut open = $open;
            $crate::store::conformance::duplicate_hostname_is_rejected(&mut open)
        }
    };
}
