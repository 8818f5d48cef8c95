//! What a user asks for.

use crate::system::Medium;
use crate::units::{Bandwidth, Bytes, TimeSpan, Timestamp};
use serde::{Deserialize, Serialize};

/// Identifies an allocation (a granted request). Chosen by the caller of the
/// scheduler (the orchestrator or the simulator), never by the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AllocId(pub u64);

impl std::fmt::Display for AllocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A storage request. Only `capacity`, `duration` and `earliest_start` are
/// required; every other wish is optional, so new ones can be added later
/// without breaking callers (build with [`Request::new`] and the setters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Request {
    pub capacity: Bytes,
    pub duration: TimeSpan,
    pub earliest_start: Timestamp,
    /// How much later than `earliest_start` the allocation may start.
    /// `None` means it must start at `earliest_start` (unless retry is on).
    pub max_delay: Option<TimeSpan>,
    /// Minimum bandwidth wished for, per placement.
    pub bandwidth: Option<Bandwidth>,
    pub medium: Option<Medium>,
    pub tier: Option<String>,
    /// Split the request into blocks of this size (overrides the scheduler's).
    pub block_size: Option<Bytes>,
}

/// Why a request is invalid before any placement is tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("capacity must be greater than zero")]
    ZeroCapacity,
    #[error("duration must be greater than zero")]
    ZeroDuration,
    #[error("block size must be greater than zero")]
    ZeroBlockSize,
}

impl Request {
    pub fn new(capacity: Bytes, duration: TimeSpan, earliest_start: Timestamp) -> Request {
        Request {
            capacity,
            duration,
            earliest_start,
            max_delay: None,
            bandwidth: None,
            medium: None,
            tier: None,
            block_size: None,
        }
    }

    pub fn with_max_delay(mut self, d: TimeSpan) -> Self {
        self.max_delay = Some(d);
        self
    }
    pub fn with_bandwidth(mut self, b: Bandwidth) -> Self {
        self.bandwidth = Some(b);
        self
    }
    pub fn with_medium(mut self, m: Medium) -> Self {
        self.medium = Some(m);
        self
    }
    pub fn with_tier(mut self, t: impl Into<String>) -> Self {
        self.tier = Some(t.into());
        self
    }
    pub fn with_block_size(mut self, b: Bytes) -> Self {
        self.block_size = Some(b);
        self
    }

    pub fn end(&self) -> Timestamp {
        self.earliest_start + self.duration
    }

    pub fn validate(&self) -> Result<(), RequestError> {
        if self.capacity == Bytes::ZERO {
            return Err(RequestError::ZeroCapacity);
        }
        if self.duration == TimeSpan(0) {
            return Err(RequestError::ZeroDuration);
        }
        if self.block_size == Some(Bytes::ZERO) {
            return Err(RequestError::ZeroBlockSize);
        }
        Ok(())
    }
}
