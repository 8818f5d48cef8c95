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

/// The longest duration a request may ask for: 3650 days (about 10 years).
/// Together with [`MAX_DELAY`] and [`LATEST_START`] it keeps every window
/// far from overflow and within years that dates can be printed in.
pub const MAX_DURATION: TimeSpan = TimeSpan(3650 * 86_400);

/// The longest `max_delay` a request may give: 3650 days (about 10 years).
pub const MAX_DELAY: TimeSpan = TimeSpan(3650 * 86_400);

/// The latest `earliest_start` a request may ask for: 2200-01-01 00:00:00 UTC.
pub const LATEST_START: Timestamp = Timestamp(7_258_118_400);

/// Why a request is invalid before any placement is tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("capacity must be greater than zero")]
    ZeroCapacity,
    #[error("duration must be greater than zero")]
    ZeroDuration,
    #[error("block size must be greater than zero")]
    ZeroBlockSize,
    #[error(
        "duration {got} is longer than the limit of {} (3650 days)",
        MAX_DURATION
    )]
    DurationTooLong { got: TimeSpan },
    #[error(
        "max delay {got} is longer than the limit of {} (3650 days)",
        MAX_DELAY
    )]
    DelayTooLong { got: TimeSpan },
    #[error(
        "start {got} is later than the latest accepted start, {}",
        LATEST_START
    )]
    StartTooLate { got: Timestamp },
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

    /// Checks what no placement can fix: zero sizes, and windows beyond
    /// [`MAX_DURATION`], [`MAX_DELAY`] or [`LATEST_START`].
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
        if self.duration > MAX_DURATION {
            return Err(RequestError::DurationTooLong { got: self.duration });
        }
        if let Some(d) = self.max_delay.filter(|d| *d > MAX_DELAY) {
            return Err(RequestError::DelayTooLong { got: d });
        }
        if self.earliest_start > LATEST_START {
            return Err(RequestError::StartTooLate {
                got: self.earliest_start,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(duration: TimeSpan, start: Timestamp) -> Request {
        Request::new(Bytes(1), duration, start)
    }

    #[test]
    fn the_limits_are_accepted_and_one_second_more_is_not() {
        assert_eq!(LATEST_START.to_string(), "2200-01-01 00:00:00");
        assert_eq!(MAX_DURATION.to_string(), "3650-00:00:00");
        let at_limits = req(MAX_DURATION, LATEST_START).with_max_delay(MAX_DELAY);
        assert_eq!(at_limits.validate(), Ok(()));
        let e = req(MAX_DURATION + TimeSpan(1), Timestamp(0)).validate();
        assert_eq!(
            e.unwrap_err().to_string(),
            "duration 3650-00:00:01 is longer than the limit of 3650-00:00:00 (3650 days)"
        );
        let e = req(TimeSpan(60), Timestamp(0))
            .with_max_delay(MAX_DELAY + TimeSpan(1))
            .validate();
        assert_eq!(
            e.unwrap_err().to_string(),
            "max delay 3650-00:00:01 is longer than the limit of 3650-00:00:00 (3650 days)"
        );
        let e = req(TimeSpan(60), LATEST_START + TimeSpan(1)).validate();
        assert_eq!(
            e.unwrap_err().to_string(),
            "start 2200-01-01 00:00:01 is later than the latest accepted start, 2200-01-01 00:00:00"
        );
    }
}
