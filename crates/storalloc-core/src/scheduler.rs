//! The scheduler: one calendar per disk, a strategy, splitting and retry.
//! INTERFACE SKELETON: the bodies are being written (see issue #2).

use crate::decision::{Allocation, Decision};
use crate::request::{AllocId, Request};
use crate::strategy::StrategyKind;
use crate::system::{DiskRef, System};
use crate::units::{Bytes, Timestamp};
use serde::{Deserialize, Serialize};

/// How the scheduler behaves, independent of the system it schedules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchedulerConfig {
    pub strategy: StrategyKind,
    /// Requests larger than this are split into blocks (`block_size_gb`).
    /// `None` never splits.
    pub block_size: Option<Bytes>,
    /// The original's `allow_retry`: shift the start by 5 minutes while the
    /// total delay stays under one hour. Unsplit requests only.
    pub allow_retry: bool,
    pub seed: u64,
}

impl SchedulerConfig {
    pub fn new(strategy: StrategyKind) -> Self {
        SchedulerConfig {
            strategy,
            block_size: None,
            allow_retry: false,
            seed: 0,
        }
    }
}

/// Errors of operations on existing allocations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    #[error("unknown allocation {0}")]
    UnknownAllocation(AllocId),
    #[error("allocation {0} already exists")]
    DuplicateAllocation(AllocId),
    #[error("allocation {id} does not fit on {disk}: {detail}")]
    DoesNotFit {
        id: AllocId,
        disk: DiskRef,
        detail: String,
    },
    #[error("{0} does not exist in this system")]
    UnknownDisk(DiskRef),
    #[error("unknown node {0}")]
    UnknownNode(u32),
    #[error("invalid change: {0}")]
    InvalidChange(String),
}

/// A broken invariant: a disk over capacity, or an allocation missing from
/// its disk's calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invariant violated: {0}")]
pub struct InvariantViolation(pub String);

pub struct Scheduler {
    _private: (),
}

impl Scheduler {
    pub fn new(_system: System, _config: SchedulerConfig) -> Self {
        todo!()
    }
    pub fn system(&self) -> &System {
        todo!()
    }
    pub fn config(&self) -> &SchedulerConfig {
        todo!()
    }
    /// Decide on `req` at time `now`; a grant is recorded in the calendars.
    pub fn submit(&mut self, _id: AllocId, _req: &Request, _now: Timestamp) -> Decision {
        todo!()
    }
    /// Re-insert a persisted allocation (crash recovery). Fails if it would
    /// over-commit a disk or its id is taken.
    pub fn restore(&mut self, _alloc: Allocation) -> Result<(), CoreError> {
        todo!()
    }
    /// End an allocation early at `now`: capacity is free from `now` on.
    /// Releasing before the start is the same as cancelling.
    pub fn release(&mut self, _id: AllocId, _now: Timestamp) -> Result<Allocation, CoreError> {
        todo!()
    }
    /// Remove an allocation entirely, as if it never was.
    pub fn cancel(&mut self, _id: AllocId) -> Result<Allocation, CoreError> {
        todo!()
    }
    /// Shrink every placement of an allocation to `capacity_per_placement`
    /// from `now` on.
    pub fn shrink(
        &mut self,
        _id: AllocId,
        _capacity_per_placement: Bytes,
        _now: Timestamp,
    ) -> Result<(), CoreError> {
        todo!()
    }
    /// Forget allocations that ended at or before `now` and compact the
    /// calendars. Returns the ids that ended, in end-time order.
    pub fn advance(&mut self, _now: Timestamp) -> Vec<AllocId> {
        todo!()
    }
    /// A node that is DOWN or drained gets no new placements.
    pub fn set_node_available(&mut self, _node: u32, _available: bool) -> Result<(), CoreError> {
        todo!()
    }
    pub fn allocation(&self, _id: AllocId) -> Option<&Allocation> {
        todo!()
    }
    pub fn allocations(&self) -> Box<dyn Iterator<Item = &Allocation> + '_> {
        todo!()
    }
    /// Peak capacity in use on `disk` during `[t0, t1)`.
    pub fn peak_usage(&self, _disk: DiskRef, _t0: Timestamp, _t1: Timestamp) -> Bytes {
        todo!()
    }
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        todo!()
    }
}
