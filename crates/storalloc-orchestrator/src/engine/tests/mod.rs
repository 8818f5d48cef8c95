//! Engine behaviour with the fakes: a memory store, a recording comm and a
//! manual clock. Each test asserts the exact commands the engine sent.

mod allocations;
mod nodes;

mod disks;
mod effects;

use super::{Engine, EngineConfig, EngineError, Owner};
use crate::clock::ManualClock;
use crate::comm::RecordingComm;
use crate::service::convert;
use crate::service::wire::Wire;
use crate::store::{MemoryStore, StateStore};
use storalloc_core::{SchedulerConfig, StrategyKind};
use storalloc_proto::v1::agent_command::Kind;
use storalloc_proto::v1::{
    AgentCommand, AllocateCommand, Allocation, Attachment, CommandResult, DiskDescription,
    HeldAllocation, NodeDescription, RegisterRequest, ReleaseCommand, ResultCode, StorageRequest,
    SubmitRequest,
};

pub(super) const GB: u64 = 1_000_000_000;
pub(super) const T0: i64 = 1_700_000_000;

/// The engine seen through the wire types, as the gRPC edge sees it: these
/// tests check the engine and the edge's conversions together.
pub(super) type Pe = Wire<MemoryStore, RecordingComm, ManualClock>;

pub(super) struct H {
    pub(super) e: Pe,
    pub(super) store: MemoryStore,
    pub(super) comm: RecordingComm,
    pub(super) clock: ManualClock,
}

impl H {
    /// The commands sent since the last look, as agents receive them.
    pub(super) fn sent(&self) -> Vec<(u32, AgentCommand)> {
        self.comm
            .take_sent()
            .iter()
            .map(|d| (d.node, convert::dispatch_to_proto(d)))
            .collect()
    }
    /// What the store holds, in wire terms.
    pub(super) fn stored_allocations(&self) -> Vec<Allocation> {
        self.store
            .clone()
            .load()
            .unwrap()
            .allocations
            .iter()
            .map(convert::allocation_to_proto)
            .collect()
    }
    pub(super) fn stored_outbox_ids(&self) -> Vec<u64> {
        self.store
            .clone()
            .load()
            .unwrap()
            .outbox
            .iter()
            .map(|c| c.id)
            .collect()
    }
}

/// Heartbeats never time out unless a test asks for it.
pub(super) fn cfg() -> EngineConfig {
    let mut c = EngineConfig::new(SchedulerConfig::new(StrategyKind::WorstCase));
    c.heartbeat_timeout_s = 1_000_000;
    c.pending_timeout_s = 60;
    c
}

pub(super) fn harness() -> H {
    harness_with(cfg())
}

pub(super) fn harness_with(cfg: EngineConfig) -> H {
    let store = MemoryStore::new();
    let comm = RecordingComm::new();
    let clock = ManualClock::new(T0);
    let e = Engine::open(store.clone(), comm.clone(), clock.clone(), cfg).unwrap();
    H {
        e: Wire(e),
        store,
        comm,
        clock,
    }
}

pub(super) fn desc(host: &str, disks_gb: &[u64]) -> NodeDescription {
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

pub(super) fn req(id: &str, gb: u64, duration_s: u64) -> SubmitRequest {
    SubmitRequest {
        request_id: id.into(),
        request: Some(StorageRequest {
            capacity_bytes: gb * GB,
            duration_s,
            ..Default::default()
        }),
    }
}

pub(super) fn allocate(
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

pub(super) fn release(command_id: u64, allocation_id: u64, disk: u32) -> AgentCommand {
    AgentCommand {
        command_id,
        kind: Some(Kind::Release(ReleaseCommand {
            allocation_id,
            disk,
        })),
    }
}

pub(super) fn ok_result(session: &str, command_id: u64, allocation_id: u64) -> CommandResult {
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
    pub(super) fn register(&mut self, host: &str, disks_gb: &[u64]) -> (u32, String) {
        self.register_holding(host, disks_gb, vec![])
    }
    pub(super) fn register_holding(
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
    pub(super) fn submit(&mut self, r: SubmitRequest) -> Result<Allocation, EngineError> {
        let out = self.e.submit(r, Owner::default());
        self.e.commit().unwrap();
        out.map(|o| o.allocation.unwrap())
    }
    pub(super) fn at(&mut self, t: i64) {
        self.clock.set(t);
        self.e.tick();
        self.e.commit().unwrap();
    }
}
