//! The engine: owns the pure `Scheduler` and every record, and is driven by
//! calls from one thread at a time. Each call changes memory and notes what
//! changed; [`Engine::commit`] writes all of it in one store transaction and
//! only then sends agent commands and watch events. The caller answers
//! clients after `commit` returns, so a grant is on disk before anyone hears
//! of it, and several calls can share one commit (group commit).

mod agents;
mod clients;
mod lifecycle;
mod nodes;
mod recovery;
#[cfg(test)]
mod tests;

pub use clients::Owner;

use crate::clock::Clock;
use crate::comm::AgentComm;
use crate::store::{Batch, OutboxCommand, StateStore, StoreError, StoredNode};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use storalloc_core::{Node, Scheduler, SchedulerConfig, Timestamp};
use storalloc_proto::v1::{AgentCommand, Allocation, AllocationEvent, AllocationState};
use tokio::sync::broadcast;

/// How the engine behaves beyond the scheduler's own settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    pub scheduler: SchedulerConfig,
    /// Told to agents at registration: how often to send a heartbeat.
    pub heartbeat_interval_s: u32,
    /// A node whose last heartbeat is older than this is DOWN.
    pub heartbeat_timeout_s: u32,
    /// A request that arrives while no node is up waits this long for one.
    pub pending_timeout_s: u32,
}

impl EngineConfig {
    pub fn new(scheduler: SchedulerConfig) -> EngineConfig {
        EngineConfig {
            scheduler,
            heartbeat_interval_s: 5,
            heartbeat_timeout_s: 15,
            pending_timeout_s: 60,
        }
    }
}

/// Errors a caller can cause; nothing changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    FailedPrecondition(String),
}

/// A node as the engine knows it now.
struct NodeRt {
    stored: StoredNode,
    core: Node,
    up: bool,
    last_heartbeat: i64,
    session: Option<String>,
}

/// What changed since the last commit.
#[derive(Default)]
struct Txn {
    allocs: BTreeSet<u64>,
    nodes: BTreeSet<u32>,
    /// Commands created in this transaction, in order; sent after commit.
    added: Vec<u64>,
    done: Vec<u64>,
    ids_dirty: bool,
}

pub struct Engine<S: StateStore, A: AgentComm, C: Clock> {
    store: S,
    comm: A,
    clock: C,
    cfg: EngineConfig,
    sched: Scheduler,
    /// The node set changed and `sched` does not know yet: it is rebuilt
    /// before its next use, so a burst of registrations costs one rebuild.
    sched_stale: bool,
    nodes: Vec<NodeRt>,
    by_hostname: HashMap<String, u32>,
    sessions: HashMap<String, u32>,
    allocs: HashMap<u64, Allocation>,
    by_request_id: HashMap<String, u64>,
    /// Granted reservations whose Allocate commands are not issued yet.
    starts: BTreeSet<(i64, u64)>,
    /// Live (GRANTED or ALLOCATED) allocations by end time.
    ends: BTreeSet<(i64, u64)>,
    /// Live allocations with a placement on each node, by node id.
    node_allocs: Vec<BTreeSet<u64>>,
    /// Requests waiting for a node to come up, in arrival order.
    pending: BTreeSet<u64>,
    outbox: BTreeMap<u64, OutboxCommand>,
    outbox_by_alloc: HashMap<u64, BTreeSet<u64>>,
    next_alloc_id: u64,
    next_command_id: u64,
    seq: u64,
    /// When this engine was opened: a request that was pending across a
    /// restart gets a full `pending_timeout_s` from here.
    opened_at: i64,
    session_counter: u64,
    run_nonce: u64,
    events: broadcast::Sender<AllocationEvent>,
    txn: Txn,
}

pub(crate) fn is_live(a: &Allocation) -> bool {
    matches!(
        a.state(),
        AllocationState::Granted | AllocationState::Allocated
    )
}

/// REFUSED, FAILED, ENDED or CANCELLED: nothing will change any more.
pub fn is_finished(a: &Allocation) -> bool {
    matches!(
        a.state(),
        AllocationState::Refused
            | AllocationState::Failed
            | AllocationState::Ended
            | AllocationState::Cancelled
    )
}

/// An allocation's placements merged per `(node, disk)`: one agent command
/// covers every block of an allocation on one disk.
pub(crate) fn disk_groups(a: &Allocation) -> Vec<(u32, u32, u64)> {
    let mut out: Vec<(u32, u32, u64)> = Vec::new();
    for p in &a.placements {
        match out.iter_mut().find(|g| g.0 == p.node && g.1 == p.disk) {
            Some(g) => g.2 += p.capacity_bytes,
            None => out.push((p.node, p.disk, p.capacity_bytes)),
        }
    }
    out
}

impl<S: StateStore, A: AgentComm, C: Clock> Engine<S, A, C> {
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Watch events are published here after each commit.
    pub fn subscribe(&self) -> broadcast::Receiver<AllocationEvent> {
        self.events.subscribe()
    }

    /// Checks the core's invariants (no disk over-committed, calendars in
    /// agreement with the allocations).
    pub fn check_invariants(&mut self) -> Result<(), storalloc_core::InvariantViolation> {
        self.sched().check_invariants()
    }

    /// The scheduler, rebuilt first if the node set changed.
    fn sched(&mut self) -> &mut Scheduler {
        if self.sched_stale {
            self.rebuild_scheduler();
        }
        &mut self.sched
    }

    /// Tells the scheduler whether a node takes new placements (a stale
    /// scheduler picks it up from the node states when rebuilt).
    fn set_available(&mut self, node: u32, available: bool) {
        if !self.sched_stale {
            let _ = self.sched.set_node_available(node, available);
        }
    }

    /// Whether changes wait for [`Engine::commit`].
    pub fn has_uncommitted(&self) -> bool {
        let t = &self.txn;
        !(t.allocs.is_empty()
            && t.nodes.is_empty()
            && t.added.is_empty()
            && t.done.is_empty()
            && !t.ids_dirty)
    }

    /// Writes every change since the last commit in one transaction, then
    /// sends the new agent commands and publishes watch events. On error
    /// nothing was written and the engine must not be used any more: memory
    /// is ahead of the disk, and only a restart (recovery) is safe.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if self.sched_stale {
            self.rebuild_scheduler();
        }
        if !self.has_uncommitted() {
            return Ok(());
        }
        let txn = std::mem::take(&mut self.txn);
        let batch = Batch {
            nodes: txn
                .nodes
                .iter()
                .map(|&n| self.nodes[n as usize].stored.clone())
                .collect(),
            allocations: txn
                .allocs
                .iter()
                .filter_map(|id| self.allocs.get(id).cloned())
                .collect(),
            commands_added: txn
                .added
                .iter()
                .filter_map(|id| self.outbox.get(id).cloned())
                .collect(),
            commands_done: txn.done.clone(),
            next_allocation_id: txn.ids_dirty.then_some(self.next_alloc_id),
            next_command_id: txn.ids_dirty.then_some(self.next_command_id),
        };
        self.store.commit(&batch)?;
        for c in &batch.commands_added {
            self.comm.send(c.node, &c.command);
        }
        if self.events.receiver_count() > 0 {
            let now = self.now().0;
            for a in batch.allocations {
                self.seq += 1;
                let _ = self.events.send(AllocationEvent {
                    seq: self.seq,
                    time_unix: now,
                    allocation: Some(a),
                });
            }
        }
        Ok(())
    }

    fn touch(&mut self, id: u64) {
        self.txn.allocs.insert(id);
    }

    fn alloc_mut(&mut self, id: u64) -> &mut Allocation {
        self.txn.allocs.insert(id);
        self.allocs.get_mut(&id).expect("allocation exists")
    }

    /// Queues a command to a node: durable in the outbox at commit, sent
    /// right after.
    fn queue_command(&mut self, node: u32, kind: storalloc_proto::v1::agent_command::Kind) {
        let command_id = self.next_command_id;
        self.next_command_id += 1;
        self.txn.ids_dirty = true;
        let allocation_id = match &kind {
            storalloc_proto::v1::agent_command::Kind::Allocate(c) => c.allocation_id,
            storalloc_proto::v1::agent_command::Kind::Release(c) => c.allocation_id,
        };
        self.outbox.insert(
            command_id,
            OutboxCommand {
                node,
                command: AgentCommand {
                    command_id,
                    kind: Some(kind),
                },
            },
        );
        self.outbox_by_alloc
            .entry(allocation_id)
            .or_default()
            .insert(command_id);
        self.txn.added.push(command_id);
    }

    /// A command got its result or became moot: it leaves the outbox.
    fn finish_command(&mut self, command_id: u64) -> Option<OutboxCommand> {
        let c = self.outbox.remove(&command_id)?;
        if let Some(alloc) = command_alloc(&c.command) {
            if let Some(set) = self.outbox_by_alloc.get_mut(&alloc) {
                set.remove(&command_id);
                if set.is_empty() {
                    self.outbox_by_alloc.remove(&alloc);
                }
            }
        }
        if let Some(pos) = self.txn.added.iter().position(|&i| i == command_id) {
            // Never written: nothing to delete on disk.
            self.txn.added.remove(pos);
        } else {
            self.txn.done.push(command_id);
        }
        Some(c)
    }

    fn outstanding_for(&self, alloc: u64) -> Vec<u64> {
        self.outbox_by_alloc
            .get(&alloc)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }
}

pub(crate) fn command_alloc(c: &AgentCommand) -> Option<u64> {
    use storalloc_proto::v1::agent_command::Kind;
    match c.kind.as_ref()? {
        Kind::Allocate(a) => Some(a.allocation_id),
        Kind::Release(r) => Some(r.allocation_id),
    }
}
