//! Durable state: the one trait every state store implements, and what goes
//! through it. The engine keeps the live state in memory and writes each
//! batch of changes in one atomic commit; a store loads, commits, and pages
//! through the history of allocations that left memory.

mod memory;
mod sqlite;

pub mod conformance;

pub use crate::lifecycle::Loaded;
pub use memory::MemoryStore;
pub use sqlite::{SqliteStore, MIN_FREE_BYTES};

use crate::model::{AllocationRecord, Command, NodeRecord};

/// One atomic set of changes. Nodes and allocations are upserted by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub nodes: Vec<NodeRecord>,
    pub allocations: Vec<AllocationRecord>,
    /// Finished allocations leaving memory: moved to the history table
    /// (`keep_history`), else deleted.
    pub archived: Vec<AllocationRecord>,
    pub commands_added: Vec<Command>,
    /// Command ids whose result arrived (or that became moot).
    pub commands_done: Vec<u64>,
    pub next_allocation_id: Option<u64>,
    pub next_command_id: Option<u64>,
    pub keep_history: bool,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
            && self.allocations.is_empty()
            && self.archived.is_empty()
            && self.commands_added.is_empty()
            && self.commands_done.is_empty()
            && self.next_allocation_id.is_none()
            && self.next_command_id.is_none()
    }
}

/// Which archived allocations to read, oldest id first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryQuery {
    pub uid: Option<u32>,
    /// Finished at or after this time.
    pub since_unix: Option<i64>,
    /// Only ids above this one.
    pub after_id: u64,
    pub limit: usize,
}

impl HistoryQuery {
    pub fn matches(&self, a: &AllocationRecord) -> bool {
        a.id > self.after_id
            && self.uid.is_none_or(|u| a.owner.uid == u)
            && self
                .since_unix
                .is_none_or(|s| a.finished_unix().unwrap_or(0) >= s)
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
    #[error("state directory {path}: only {free} bytes free; the orchestrator needs at least {needed} (see docs/operations.md, \"State directory\")")]
    NoSpace {
        path: String,
        free: u64,
        needed: u64,
    },
}

/// Where the orchestrator's state lives.
///
/// `commit` is all-or-nothing and durable when it returns: the engine only
/// answers clients and sends agent commands after it.
pub trait StateStore: Send {
    fn load(&mut self) -> Result<Loaded, StoreError>;
    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError>;
    /// Archived allocations matching `q`, by id, at most `q.limit`.
    fn history(&mut self, q: &HistoryQuery) -> Result<Vec<AllocationRecord>, StoreError>;
}

impl StateStore for Box<dyn StateStore> {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        (**self).load()
    }
    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        (**self).commit(batch)
    }
    fn history(&mut self, q: &HistoryQuery) -> Result<Vec<AllocationRecord>, StoreError> {
        (**self).history(q)
    }
}
