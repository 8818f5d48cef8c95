use serde::{Deserialize, Serialize};

/// An instant, in whole seconds since the Unix epoch (UTC).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Timestamp(pub i64);

/// A length of time in whole seconds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct TimeSpan(pub u64);

impl Timestamp {
    pub const fn secs(self) -> i64 {
        self.0
    }
}

impl TimeSpan {
    pub const fn from_secs(s: u64) -> TimeSpan {
        TimeSpan(s)
    }
    pub const fn from_mins(m: u64) -> TimeSpan {
        TimeSpan(m * 60)
    }
    pub const fn from_hours(h: u64) -> TimeSpan {
        TimeSpan(h * 3600)
    }
    pub const fn secs(self) -> u64 {
        self.0
    }
}

impl std::ops::Add<TimeSpan> for Timestamp {
    type Output = Timestamp;
    fn add(self, rhs: TimeSpan) -> Timestamp {
        Timestamp(self.0.saturating_add(rhs.0 as i64))
    }
}

impl std::ops::Sub<TimeSpan> for Timestamp {
    type Output = Timestamp;
    fn sub(self, rhs: TimeSpan) -> Timestamp {
        Timestamp(self.0.saturating_sub(rhs.0 as i64))
    }
}

impl std::ops::Add for TimeSpan {
    type Output = TimeSpan;
    fn add(self, rhs: TimeSpan) -> TimeSpan {
        TimeSpan(self.0 + rhs.0)
    }
}

impl Timestamp {
    /// Seconds from `earlier` to `self`, or zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> TimeSpan {
        TimeSpan(self.0.saturating_sub(earlier.0).max(0) as u64)
    }
}
