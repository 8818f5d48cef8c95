//! The scheduler: one calendar per disk, a strategy, splitting and retry.
//! The semantics are written out in docs/policies.md.

mod invariants;
mod submit;
mod system_changes;

use crate::decision::{Allocation, Decision};
use crate::explain::{fmt_bytes, fmt_bytes_i, fmt_time};
use crate::placement::reserve;
use crate::request::{AllocId, Request};
use crate::state::State;
use crate::strategy::StrategyKind;
use crate::system::{DiskRef, System};
use crate::units::{Bytes, Timestamp};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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
    #[error(
        "{disk} cannot get a capacity of {}: {} are booked on it {}",
        fmt_bytes(*.capacity),
        fmt_bytes(*.booked),
        booked_by(.allocations)
    )]
    CapacityBelowBooked {
        disk: DiskRef,
        capacity: Bytes,
        booked: Bytes,
        /// The live allocations with a placement on the disk, ascending.
        allocations: Vec<AllocId>,
    },
}

/// Who holds the bookings of a [`CoreError::CapacityBelowBooked`]. With no
/// live allocation there, released ones still count until `advance` passes
/// their end.
fn booked_by(ids: &[AllocId]) -> String {
    if ids.is_empty() {
        return "by released allocations until the next advance".to_string();
    }
    let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    format!(
        "by allocation{} {}",
        if ids.len() == 1 { "" } else { "s" },
        ids.join(", ")
    )
}

/// A broken invariant: a disk over capacity, or an allocation missing from
/// its disk's calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invariant violated: {0}")]
pub struct InvariantViolation(pub String);

pub struct Scheduler {
    config: SchedulerConfig,
    st: State,
    live: BTreeMap<AllocId, Allocation>,
    /// Live allocations by end time, for `advance`.
    ends: BTreeSet<(i64, AllocId)>,
    /// Released allocations whose past use is still in the calendars; they
    /// are forgotten silently once `advance` passes their (new) end.
    ghosts: BTreeMap<AllocId, Allocation>,
    ghost_ends: BTreeSet<(i64, AllocId)>,
}

impl Scheduler {
    pub fn new(system: System, config: SchedulerConfig) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        Scheduler {
            st: State::new(system, rng),
            config,
            live: BTreeMap::new(),
            ends: BTreeSet::new(),
            ghosts: BTreeMap::new(),
            ghost_ends: BTreeSet::new(),
        }
    }
    pub fn system(&self) -> &System {
        &self.st.system
    }
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }
    /// Decide on `req` at time `now`; a grant is recorded in the calendars.
    /// The decision depends on the request's window only; `now` is not used
    /// (see docs/policies.md).
    pub fn submit(&mut self, id: AllocId, req: &Request, _now: Timestamp) -> Decision {
        self.submit_impl(id, req)
    }
    /// Re-insert a persisted allocation (crash recovery). Fails if it would
    /// over-commit a disk or its id is taken.
    pub fn restore(&mut self, alloc: Allocation) -> Result<(), CoreError> {
        let id = alloc.id;
        if self.live.contains_key(&id) || self.ghosts.contains_key(&id) {
            return Err(CoreError::DuplicateAllocation(id));
        }
        let (start, end) = (alloc.start.0, alloc.end.0);
        if end <= start {
            return Err(CoreError::InvalidChange(format!(
                "allocation {id} ends ({}) at or before its start ({})",
                fmt_time(end),
                fmt_time(start)
            )));
        }
        if alloc.placements.is_empty() {
            return Err(CoreError::InvalidChange(format!(
                "allocation {id} has no placements"
            )));
        }
        let mut globals = Vec::with_capacity(alloc.placements.len());
        for p in &alloc.placements {
            let g = self
                .st
                .global(p.disk)
                .ok_or(CoreError::UnknownDisk(p.disk))?;
            if p.capacity == Bytes::ZERO {
                return Err(CoreError::InvalidChange(format!(
                    "allocation {id} has an empty placement on {}",
                    p.disk
                )));
            }
            globals.push(g);
        }
        let mut placed: Vec<(usize, i64)> = Vec::new();
        for (p, &g) in alloc.placements.iter().zip(&globals) {
            let cap = self.st.disks[g].cap;
            let peak = self.st.cals[g].peak(start, end);
            let fits = p.capacity.0 <= cap as u64 && peak + p.capacity.0 as i64 <= cap;
            if !fits {
                for &(g, size) in placed.iter().rev() {
                    self.st.add_range(g, start, end, -size);
                    let spans = &mut self.st.spans[g];
                    if let Some(i) = spans.iter().rposition(|s| s.id == id) {
                        spans.remove(i);
                    }
                }
                return Err(CoreError::DoesNotFit {
                    id,
                    disk: p.disk,
                    detail: format!(
                        "{} needed, but {} of {} are already in use between {} and {}",
                        fmt_bytes(p.capacity),
                        fmt_bytes_i(peak),
                        fmt_bytes_i(cap),
                        fmt_time(start),
                        fmt_time(end)
                    ),
                });
            }
            let size = p.capacity.0 as i64;
            reserve(&mut self.st, g, start, end, size, id);
            placed.push((g, size));
        }
        self.ends.insert((end, id));
        self.live.insert(id, alloc);
        Ok(())
    }
    /// End an allocation early at `now`: capacity is free from `now` on.
    /// Releasing before the start is the same as cancelling.
    pub fn release(&mut self, id: AllocId, now: Timestamp) -> Result<Allocation, CoreError> {
        let live = self.live.get(&id).ok_or(CoreError::UnknownAllocation(id))?;
        if now.0 <= live.start.0 {
            return self.cancel(id);
        }
        let mut alloc = self.take_live(id);
        let now = now.0;
        let new_end = alloc.end.0.min(now);
        for p in &alloc.placements {
            let g = self.global_of(p.disk);
            self.st.add_range(
                g,
                alloc.start.0.max(now),
                alloc.end.0,
                -(p.capacity.0 as i64),
            );
            for s in self.st.spans[g].iter_mut().filter(|s| s.id == id) {
                s.end = s.end.min(new_end);
            }
        }
        alloc.end = Timestamp(new_end);
        self.ghost_ends.insert((new_end, id));
        self.ghosts.insert(id, alloc.clone());
        Ok(alloc)
    }
    /// Remove an allocation entirely, as if it never was.
    pub fn cancel(&mut self, id: AllocId) -> Result<Allocation, CoreError> {
        if !self.live.contains_key(&id) {
            return Err(CoreError::UnknownAllocation(id));
        }
        let alloc = self.take_live(id);
        for p in &alloc.placements {
            let g = self.global_of(p.disk);
            self.st
                .add_range(g, alloc.start.0, alloc.end.0, -(p.capacity.0 as i64));
        }
        self.drop_spans(&alloc);
        Ok(alloc)
    }
    /// Forget allocations that ended at or before `now` and compact the
    /// calendars. Returns the ids that ended, in end-time order.
    pub fn advance(&mut self, now: Timestamp) -> Vec<AllocId> {
        let now = now.0;
        let mut ended = Vec::new();
        while let Some(&(end, id)) = self.ends.first() {
            if end > now {
                break;
            }
            self.ends.pop_first();
            if let Some(live) = self.live.remove(&id) {
                self.drop_spans(&live);
            }
            ended.push(id);
        }
        while let Some(&(end, id)) = self.ghost_ends.first() {
            if end > now {
                break;
            }
            self.ghost_ends.pop_first();
            if let Some(ghost) = self.ghosts.remove(&id) {
                self.drop_spans(&ghost);
            }
        }
        if now > self.st.horizon {
            self.st.horizon = now;
            let disks = self.st.index.compact(now, &self.st.cals);
            for d in disks {
                self.st.cals[d].compact(now);
            }
        }
        ended
    }
    pub fn allocation(&self, id: AllocId) -> Option<&Allocation> {
        self.live.get(&id)
    }
    pub fn allocations(&self) -> Box<dyn Iterator<Item = &Allocation> + '_> {
        Box::new(self.live.values())
    }
    /// Peak capacity in use on `disk` during `[t0, t1)`; zero for an empty
    /// range or an unknown disk. Times before the last `advance` report the
    /// use at that instant: the past is not kept.
    pub fn peak_usage(&self, disk: DiskRef, t0: Timestamp, t1: Timestamp) -> Bytes {
        match self.st.global(disk) {
            Some(g) => Bytes(self.st.cals[g].peak(t0.0, t1.0).max(0) as u64),
            None => Bytes::ZERO,
        }
    }
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.check_invariants_impl()
    }

    /// Number of live allocations (granted, not released, not yet ended by
    /// `advance`).
    pub fn live_count(&self) -> usize {
        self.live.len()
    }

    /// Number of change points held in all calendars (a memory gauge).
    pub fn calendar_points(&self) -> usize {
        self.st.cals.iter().map(|c| c.len()).sum()
    }

    fn take_live(&mut self, id: AllocId) -> Allocation {
        let alloc = self.live.remove(&id).expect("caller checked the id");
        self.ends.remove(&(alloc.end.0, id));
        alloc
    }

    fn global_of(&self, disk: DiskRef) -> usize {
        self.st
            .global(disk)
            .expect("placements name existing disks")
    }

    fn drop_spans(&mut self, alloc: &Allocation) {
        let id = alloc.id;
        for p in &alloc.placements {
            if let Some(g) = self.st.global(p.disk) {
                self.st.spans[g].retain(|s| s.id != id);
            }
        }
    }
}
