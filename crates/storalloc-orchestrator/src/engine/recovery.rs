//! Building an engine from what the store holds: the start-up path after a
//! clean stop and after a crash alike.

use super::{is_live, Engine, EngineConfig, NodeRt, Txn};
use crate::clock::Clock;
use crate::comm::AgentComm;
use crate::store::{StateStore, StoreError};
use crate::validate::core_node;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use storalloc_core::{
    AllocId, Allocation as CoreAllocation, Bytes, DiskRef, Placement, Scheduler, System, Timestamp,
};
use storalloc_proto::v1::{Allocation, AllocationState};
use tokio::sync::broadcast;

/// The core's view of a granted allocation record.
pub(crate) fn core_allocation(a: &Allocation) -> CoreAllocation {
    CoreAllocation {
        id: AllocId(a.id),
        start: Timestamp(a.start_unix),
        end: Timestamp(a.end_unix),
        placements: a
            .placements
            .iter()
            .map(|p| Placement {
                disk: DiskRef {
                    node: p.node,
                    disk: p.disk,
                },
                capacity: Bytes(p.capacity_bytes),
            })
            .collect(),
    }
}

impl<S: StateStore, A: AgentComm, C: Clock> Engine<S, A, C> {
    /// Loads the store and restores every live allocation into a fresh
    /// scheduler. Every node starts DOWN until its agent registers again;
    /// allocations whose end passed while the orchestrator was stopped end
    /// now (their release commands wait in the outbox for the agents).
    pub fn open(mut store: S, comm: A, clock: C, cfg: EngineConfig) -> Result<Self, StoreError> {
        let snap = store.load()?;
        let mut nodes = Vec::with_capacity(snap.nodes.len());
        for (i, stored) in snap.nodes.into_iter().enumerate() {
            if stored.id as usize != i {
                return Err(StoreError::Corrupt {
                    path: "state store".into(),
                    what: format!("node ids are not dense: expected {i}, found {}", stored.id),
                });
            }
            let core = core_node(&stored.description).map_err(|what| StoreError::Corrupt {
                path: "state store".into(),
                what: format!("node {i}: {what}"),
            })?;
            nodes.push(NodeRt {
                stored,
                core,
                up: false,
                last_heartbeat: 0,
                session: None,
            });
        }
        let by_hostname = nodes
            .iter()
            .map(|n| (n.stored.description.hostname.clone(), n.stored.id))
            .collect();
        let mut outbox = BTreeMap::new();
        let mut outbox_by_alloc: HashMap<u64, BTreeSet<u64>> = HashMap::new();
        for c in snap.outbox {
            if let Some(a) = super::command_alloc(&c.command) {
                outbox_by_alloc
                    .entry(a)
                    .or_default()
                    .insert(c.command.command_id);
            }
            outbox.insert(c.command.command_id, c);
        }
        let system = System {
            nodes: nodes.iter().map(|n| n.core.clone()).collect(),
        };
        let sched = Scheduler::new(system, cfg.scheduler.clone());
        let node_count = nodes.len();
        let (events, _) = broadcast::channel(4096);
        let run_nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut engine = Engine {
            store,
            comm,
            clock,
            cfg,
            sched,
            sched_stale: false,
            nodes,
            by_hostname,
            sessions: HashMap::new(),
            allocs: HashMap::with_capacity(snap.allocations.len()),
            by_request_id: HashMap::with_capacity(snap.allocations.len()),
            starts: BTreeSet::new(),
            ends: BTreeSet::new(),
            node_allocs: vec![BTreeSet::new(); node_count],
            pending: BTreeSet::new(),
            outbox,
            outbox_by_alloc,
            next_alloc_id: snap.next_allocation_id.max(1),
            next_command_id: snap.next_command_id.max(1),
            seq: 0,
            opened_at: 0,
            session_counter: 0,
            run_nonce,
            events,
            txn: Txn::default(),
        };
        engine.opened_at = engine.now().0;
        for a in snap.allocations {
            engine.by_request_id.insert(a.request_id.clone(), a.id);
            engine.next_alloc_id = engine.next_alloc_id.max(a.id + 1);
            let id = a.id;
            let state = a.state();
            engine.allocs.insert(id, a);
            if state == AllocationState::Pending {
                engine.pending.insert(id);
            }
        }
        for c in engine.outbox.keys() {
            engine.next_command_id = engine.next_command_id.max(c + 1);
        }
        for n in 0..node_count as u32 {
            // Unknown liveness until the agent comes back.
            let _ = engine.sched.set_node_available(n, false);
        }
        let now = engine.now();
        let mut live: Vec<u64> = engine
            .allocs
            .values()
            .filter(|a| is_live(a))
            .map(|a| a.id)
            .collect();
        live.sort_unstable();
        for id in live {
            engine.restore_one(id, now);
        }
        engine.tick();
        engine.commit()?;
        tracing::info!(
            nodes = node_count,
            allocations = engine.allocs.len(),
            live = engine.ends.len(),
            pending = engine.pending.len(),
            outbox = engine.outbox.len(),
            "state recovered"
        );
        Ok(engine)
    }

    /// Puts one live allocation back into the scheduler and the indices; an
    /// allocation that no longer fits (the node's disks shrank) fails.
    pub(super) fn restore_one(&mut self, id: u64, now: Timestamp) {
        let a = &self.allocs[&id];
        let core = core_allocation(a);
        let (start, end) = (a.start_unix, a.end_unix);
        match self.sched.restore(core) {
            Ok(()) => {
                self.index_live(id);
                self.ends.insert((end, id));
                if start > now.0 && a_needs_start(&self.allocs[&id]) {
                    self.starts.insert((start, id));
                }
                let degraded = self.compute_degraded(id);
                if self.allocs[&id].degraded != degraded {
                    self.alloc_mut(id).degraded = degraded;
                }
            }
            Err(e) => {
                tracing::error!(allocation = id, error = %e, "could not restore allocation");
                let a = self.alloc_mut(id);
                a.set_state(AllocationState::Failed);
                a.explanation = format!("could not be restored into the scheduler: {e}");
            }
        }
    }

    /// Rebuilds the scheduler after the set of nodes or their disks changed
    /// (the core's system is fixed at construction), restoring every live
    /// allocation.
    pub(super) fn rebuild_scheduler(&mut self) {
        self.sched_stale = false;
        let system = System {
            nodes: self.nodes.iter().map(|n| n.core.clone()).collect(),
        };
        self.sched = Scheduler::new(system, self.cfg.scheduler.clone());
        for n in &self.nodes {
            let _ = self
                .sched
                .set_node_available(n.stored.id, n.up && !n.stored.drained);
        }
        self.node_allocs.resize(self.nodes.len(), BTreeSet::new());
        let mut live: Vec<u64> = self.ends.iter().map(|&(_, id)| id).collect();
        live.sort_unstable();
        for id in live {
            let a = &self.allocs[&id];
            if let Err(e) = self.sched.restore(core_allocation(a)) {
                tracing::error!(allocation = id, error = %e, "allocation lost its place after a node changed");
                self.fail_allocation(
                    id,
                    format!("its node's disks changed and it no longer fits: {e}"),
                    None,
                );
            }
        }
    }

    pub(super) fn index_live(&mut self, id: u64) {
        let nodes: BTreeSet<u32> = self.allocs[&id].placements.iter().map(|p| p.node).collect();
        for n in nodes {
            if let Some(set) = self.node_allocs.get_mut(n as usize) {
                set.insert(id);
            }
        }
    }

    pub(super) fn unindex_live(&mut self, id: u64) {
        let a = &self.allocs[&id];
        let (start, end) = (a.start_unix, a.end_unix);
        let nodes: BTreeSet<u32> = a.placements.iter().map(|p| p.node).collect();
        for n in nodes {
            if let Some(set) = self.node_allocs.get_mut(n as usize) {
                set.remove(&id);
            }
        }
        self.starts.remove(&(start, id));
        self.ends.remove(&(end, id));
    }

    pub(super) fn compute_degraded(&self, id: u64) -> bool {
        self.allocs[&id]
            .placements
            .iter()
            .any(|p| !self.nodes.get(p.node as usize).is_some_and(|n| n.up))
    }
}

/// A restored reservation needs its Allocate commands at its start unless a
/// placement was already confirmed (it started before the crash).
fn a_needs_start(a: &Allocation) -> bool {
    a.placements.iter().all(|p| p.attachment.is_none())
}
