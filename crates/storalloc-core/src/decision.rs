//! What the scheduler answers. Every decision carries a human-readable
//! explanation, so users and operators can see why.

use crate::request::AllocId;
use crate::system::DiskRef;
use crate::units::{Bytes, TimeSpan, Timestamp};
use serde::{Deserialize, Serialize};

/// One block of an allocation on one disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub disk: DiskRef,
    pub capacity: Bytes,
}

/// A granted request as it sits in the calendars: every placement shares the
/// same window `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub id: AllocId,
    pub start: Timestamp,
    pub end: Timestamp,
    pub placements: Vec<Placement>,
}

impl Allocation {
    pub fn capacity(&self) -> Bytes {
        self.placements.iter().map(|p| p.capacity).sum()
    }
    pub fn duration(&self) -> TimeSpan {
        self.end.since(self.start)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub allocation: Allocation,
    /// How much later than the requested start the allocation starts.
    pub delay: TimeSpan,
    /// How many retries (5-minute shifts) it took; 0 without retry.
    pub retries: u32,
    pub explanation: String,
}

/// The machine-readable part of a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefusalReason {
    /// The request itself is invalid (zero capacity, zero duration...).
    Invalid(String),
    /// No disk (or not all blocks) fit in any acceptable window.
    NoCapacity,
    /// No disk matches the medium, tier or bandwidth wish.
    NoMatchingDisk,
    /// round_robin gave up after its candidate budget.
    CandidatesExhausted,
    /// The id is already in use.
    DuplicateId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    pub reason: RefusalReason,
    pub retries: u32,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Decision {
    Granted(Grant),
    Refused(Refusal),
}

impl Decision {
    pub fn is_granted(&self) -> bool {
        matches!(self, Decision::Granted(_))
    }
    pub fn explanation(&self) -> &str {
        match self {
            Decision::Granted(g) => &g.explanation,
            Decision::Refused(r) => &r.explanation,
        }
    }
    pub fn grant(&self) -> Option<&Grant> {
        match self {
            Decision::Granted(g) => Some(g),
            Decision::Refused(_) => None,
        }
    }
}
