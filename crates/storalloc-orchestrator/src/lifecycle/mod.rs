//! The pure lifecycle: every transition of allocations and nodes (submit,
//! decide, allocate, confirm, fail, expire, cancel, node down or up,
//! register and reconcile, retention) as a function of `(state, input,
//! now)` that returns the effects to carry out — store writes, agent
//! commands, stream closes, alerts. No I/O, no clock, no async: the engine
//! (`crate::engine`) executes the effects, and tests assert them exactly.

mod agents;
mod clock_guard;
mod nodes;
mod recovery;
mod requests;
mod storage;
mod timers;

pub use agents::{CommandOutcome, Held, Registered, Registration};
pub use clock_guard::{ClockAlert, TimeKeeper};
pub use nodes::{DiskUse, NodeName, NodeState, NodeView};
pub use recovery::{Loaded, RecoveryError};
pub use requests::Submitted;

use crate::model::{AllocationRecord, Command, Dispatch, NodeRecord, StateName};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use storalloc_core::{Node, Scheduler, SchedulerConfig};

/// How the lifecycle behaves beyond the scheduler's own settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    pub scheduler: SchedulerConfig,
    /// Told to agents at registration: how often to send a heartbeat.
    pub heartbeat_interval_s: u32,
    /// A node whose last heartbeat is older than this is DOWN.
    pub heartbeat_timeout_s: u32,
    /// A request that arrives while no node is up waits this long for one.
    pub pending_timeout_s: u32,
    /// Finished allocations stay in memory this long, then leave it.
    pub retention_s: u64,
    /// Whether allocations that leave memory are kept in the history table.
    pub keep_history: bool,
    /// Expiries caused by a forward jump of the wall clock wait this long.
    pub clock_jump_grace_s: u64,
}

impl EngineConfig {
    pub fn new(scheduler: SchedulerConfig) -> EngineConfig {
        EngineConfig {
            scheduler,
            heartbeat_interval_s: 5,
            heartbeat_timeout_s: 15,
            pending_timeout_s: 60,
            retention_s: 24 * 3600,
            keep_history: true,
            clock_jump_grace_s: 15 * 60,
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

/// What a transition asks the outside world to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Write the allocation's current record (and tell watchers).
    SaveAllocation(u64),
    /// Write the node's current record.
    SaveNode(u32),
    /// The allocation leaves memory: into the history table, or dropped.
    Archive(Box<AllocationRecord>),
    /// The command joins the durable outbox.
    AddCommand(Command),
    /// The command got its result or became moot: it leaves the outbox.
    CommandDone(u64),
    /// Deliver a command to its agent (after the commit that made it durable).
    Send(Dispatch),
    /// Close the node's command stream, if any.
    CloseStream(u32),
    /// Persist the id counters.
    SaveCounters,
    /// Something an operator must hear about at once.
    Alert(ClockAlert),
}

/// A transition's answer and its effects.
#[derive(Debug)]
pub struct Step<T> {
    pub out: T,
    pub effects: Vec<Effect>,
}

/// A node as the lifecycle knows it now.
#[derive(Debug, Clone)]
pub(crate) struct NodeRt {
    pub record: NodeRecord,
    pub up: bool,
    pub last_heartbeat: i64,
    pub session: Option<String>,
}

/// Everything the orchestrator knows, and the one place that changes it.
pub struct World {
    pub(crate) cfg: EngineConfig,
    pub(crate) sched: Scheduler,
    pub(crate) nodes: Vec<NodeRt>,
    by_hostname: HashMap<String, u32>,
    sessions: HashMap<String, u32>,
    pub(crate) allocs: HashMap<u64, AllocationRecord>,
    by_request_id: HashMap<String, u64>,
    /// Granted reservations whose Allocate commands are not issued yet.
    starts: BTreeSet<(i64, u64)>,
    /// Live allocations with a placement on each node, by node id.
    node_allocs: Vec<BTreeSet<u64>>,
    /// Requests waiting for a node to come up, in arrival order.
    pending: BTreeSet<u64>,
    /// Finished allocations still in memory, by when they finished.
    finished: BTreeSet<(i64, u64)>,
    outbox: BTreeMap<u64, Command>,
    outbox_by_alloc: HashMap<u64, BTreeSet<u64>>,
    next_alloc_id: u64,
    next_command_id: u64,
    /// When this world was restored: a request pending across a restart
    /// gets a full `pending_timeout_s` from here.
    opened_at: i64,
    session_counter: u64,
    run_nonce: u64,
    fx: Vec<Effect>,
}

impl World {
    /// An empty world (no nodes, no allocations).
    pub fn new(cfg: EngineConfig, run_nonce: u64) -> World {
        let sched = Scheduler::new(
            storalloc_core::System { nodes: Vec::new() },
            cfg.scheduler.clone(),
        );
        World {
            cfg,
            sched,
            nodes: Vec::new(),
            by_hostname: HashMap::new(),
            sessions: HashMap::new(),
            allocs: HashMap::new(),
            by_request_id: HashMap::new(),
            starts: BTreeSet::new(),
            node_allocs: Vec::new(),
            pending: BTreeSet::new(),
            finished: BTreeSet::new(),
            outbox: BTreeMap::new(),
            outbox_by_alloc: HashMap::new(),
            next_alloc_id: 1,
            next_command_id: 1,
            opened_at: 0,
            session_counter: 0,
            run_nonce,
            fx: Vec::new(),
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    pub fn scheduler(&self) -> &Scheduler {
        &self.sched
    }

    pub fn allocation(&self, id: u64) -> Option<&AllocationRecord> {
        self.allocs.get(&id)
    }

    pub fn node(&self, id: u32) -> Option<&NodeRecord> {
        self.nodes.get(id as usize).map(|n| &n.record)
    }

    pub fn outbox(&self) -> impl Iterator<Item = &Command> {
        self.outbox.values()
    }

    pub fn next_ids(&self) -> (u64, u64) {
        (self.next_alloc_id, self.next_command_id)
    }

    /// Allocations in memory by id; finished ones only if asked.
    pub fn list(&self, include_finished: bool) -> Vec<&AllocationRecord> {
        let mut v: Vec<&AllocationRecord> = self
            .allocs
            .values()
            .filter(|a| include_finished || !a.is_finished())
            .collect();
        v.sort_unstable_by_key(|a| a.id);
        v
    }

    /// Checks the core's invariants and that the lifecycle's indexes agree
    /// with the records.
    pub fn check_invariants(&self) -> Result<(), storalloc_core::InvariantViolation> {
        self.sched.check_invariants()?;
        for a in self.allocs.values() {
            let in_core = self
                .sched
                .allocation(storalloc_core::AllocId(a.id))
                .is_some();
            if a.is_live() != in_core {
                return Err(storalloc_core::InvariantViolation(format!(
                    "allocation {} is {} but the scheduler {} it",
                    a.id,
                    a.state_name().as_str(),
                    if in_core { "holds" } else { "does not hold" }
                )));
            }
        }
        Ok(())
    }

    /// Runs `f` and returns its answer with the effects it caused; an error
    /// answer must have caused none.
    fn step<T>(&mut self, f: impl FnOnce(&mut World) -> T) -> Step<T> {
        debug_assert!(self.fx.is_empty());
        let out = f(self);
        let mut seen_alloc = BTreeSet::new();
        let mut seen_node = BTreeSet::new();
        let mut counters = false;
        let effects = std::mem::take(&mut self.fx)
            .into_iter()
            .filter(|e| match e {
                Effect::SaveAllocation(id) => seen_alloc.insert(*id),
                Effect::SaveNode(id) => seen_node.insert(*id),
                Effect::SaveCounters => !std::mem::replace(&mut counters, true),
                _ => true,
            })
            .collect();
        Step { out, effects }
    }

    fn touch(&mut self, id: u64) {
        self.fx.push(Effect::SaveAllocation(id));
    }

    fn alloc_mut(&mut self, id: u64) -> &mut AllocationRecord {
        self.fx.push(Effect::SaveAllocation(id));
        self.allocs.get_mut(&id).expect("allocation exists")
    }

    /// Notes that an allocation finished, for retention.
    fn finished_at(&mut self, id: u64, at: i64) {
        self.finished.insert((at, id));
    }

    fn any_node_available(&self) -> bool {
        self.nodes.iter().any(|n| n.up && !n.record.drained)
    }

    fn hostname(&self, node: u32) -> String {
        self.nodes
            .get(node as usize)
            .map(|n| n.record.hostname.clone())
            .unwrap_or_default()
    }

    pub(crate) fn state_of(&self, id: u64) -> Option<StateName> {
        self.allocs.get(&id).map(|a| a.state_name())
    }
}

/// The core's node for a node record: one core disk per slot, in slot order.
pub(crate) fn core_node(n: &NodeRecord) -> Result<Node, String> {
    let mut disks = Vec::with_capacity(n.disks.len());
    for (i, d) in n.disks.iter().enumerate() {
        disks.push(crate::validate::core_disk(
            &d.spec,
            &format!("node.disks[{i}]"),
        )?);
    }
    Ok(Node {
        hostname: n.hostname.clone(),
        ipv4: n.address.clone(),
        network_bw: crate::validate::bandwidth("node.network_bw_gbps", n.network_bw_gbps)?,
        disks,
    })
}
