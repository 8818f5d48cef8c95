//! Durable state: the one trait every state store implements, and what goes
//! through it. The engine keeps everything in memory and writes each batch of
//! changes in one atomic commit; a store only has to load and commit.

mod memory;
mod sqlite;

pub mod conformance;

pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

use storalloc_proto::v1::{AgentCommand, Allocation, AllocationState, NodeDescription};

/// A storage node as persisted: its identity and the admin's drain flag.
/// Liveness (UP/DOWN) is not persisted: after a restart every node is DOWN
/// until its agent registers again.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNode {
    pub id: u32,
    pub description: NodeDescription,
    pub drained: bool,
}

/// A command sent (or to send) to a node's agent that has no result yet.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxCommand {
    pub node: u32,
    pub command: AgentCommand,
}

/// Everything a store holds, as loaded at start-up.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// In id order.
    pub nodes: Vec<StoredNode>,
    /// Every allocation ever recorded (pending requests are allocations in
    /// state PENDING), in id order.
    pub allocations: Vec<Allocation>,
    /// Commands without a result, in command-id order.
    pub outbox: Vec<OutboxCommand>,
    /// The next allocation id to hand out (ids start at 1).
    pub next_allocation_id: u64,
    /// The next command id to hand out (ids start at 1).
    pub next_command_id: u64,
}

impl Snapshot {
    /// Requests received but not decided yet.
    pub fn pending(&self) -> impl Iterator<Item = &Allocation> {
        self.allocations
            .iter()
            .filter(|a| a.state() == AllocationState::Pending)
    }
}

/// One atomic set of changes. Nodes and allocations are upserted by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub nodes: Vec<StoredNode>,
    pub allocations: Vec<Allocation>,
    pub commands_added: Vec<OutboxCommand>,
    /// Command ids whose result arrived (or that became moot).
    pub commands_done: Vec<u64>,
    pub next_allocation_id: Option<u64>,
    pub next_command_id: Option<u64>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
            && self.allocations.is_empty()
            && self.commands_added.is_empty()
            && self.commands_done.is_empty()
            && self.next_allocation_id.is_none()
            && self.next_command_id.is_none()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A request id already belongs to another allocation; the whole batch
    /// was rolled back.
    #[error("request id {request_id:?} already belongs to allocation {existing}")]
    DuplicateRequestId { request_id: String, existing: u64 },
    #[error("hostname {hostname:?} already belongs to node {existing}")]
    DuplicateHostname { hostname: String, existing: u32 },
    #[error("state directory {path} is in use by another orchestrator")]
    Locked { path: String },
    #[error("state database {path}: {error}")]
    Sqlite {
        path: String,
        error: rusqlite::Error,
    },
    #[error("state database {path}: {what}")]
    Corrupt { path: String, what: String },
    #[error("state directory {path}: {error}")]
    Io { path: String, error: std::io::Error },
}

/// Where the orchestrator's state lives.
///
/// `commit` is all-or-nothing and durable when it returns: the engine only
/// answers clients and sends agent commands after it.
pub trait StateStore: Send {
    fn load(&mut self) -> Result<Snapshot, StoreError>;
    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError>;
}

impl StateStore for Box<dyn StateStore> {
    fn load(&mut self) -> Result<Snapshot, StoreError> {
        (**self).load()
    }
    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        (**self).commit(batch)
    }
}
