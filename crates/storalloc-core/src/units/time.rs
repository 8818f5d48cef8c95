use super::UnitError;
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

/// A non-empty run of ASCII digits as `u64`; signs, spaces and overflow are errors.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A field after the first one in a clock form (minutes or seconds): below `limit`.
fn bounded(s: &str, limit: u64) -> Option<u64> {
    digits(s).filter(|&v| v < limit)
}

fn sum_secs(parts: &[(u64, u64)]) -> Option<u64> {
    parts.iter().try_fold(0u64, |acc, &(v, unit)| {
        acc.checked_add(v.checked_mul(unit)?)
    })
}

fn parse_span(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some((num, unit)) = s
        .strip_suffix('s')
        .map(|n| (n, 1))
        .or_else(|| s.strip_suffix('m').map(|n| (n, 60)))
        .or_else(|| s.strip_suffix('h').map(|n| (n, 3600)))
        .or_else(|| s.strip_suffix('d').map(|n| (n, 86400)))
    {
        return digits(num.trim_end())?.checked_mul(unit);
    }
    // Slurm: "M", "M:S", "H:M:S", "D-H", "D-H:M", "D-H:M:S".
    if let Some((days, rest)) = s.split_once('-') {
        let d = digits(days)?;
        let f: Vec<&str> = rest.split(':').collect();
        return match f.as_slice() {
            [h] => sum_secs(&[(d, 86400), (bounded(h, 24)?, 3600)]),
            [h, m] => sum_secs(&[(d, 86400), (bounded(h, 24)?, 3600), (bounded(m, 60)?, 60)]),
            [h, m, sec] => sum_secs(&[
                (d, 86400),
                (bounded(h, 24)?, 3600),
                (bounded(m, 60)?, 60),
                (bounded(sec, 60)?, 1),
            ]),
            _ => None,
        };
    }
    let f: Vec<&str> = s.split(':').collect();
    match f.as_slice() {
        [m] => sum_secs(&[(digits(m)?, 60)]),
        [m, sec] => sum_secs(&[(digits(m)?, 60), (bounded(sec, 60)?, 1)]),
        [h, m, sec] => sum_secs(&[
            (digits(h)?, 3600),
            (bounded(m, 60)?, 60),
            (bounded(sec, 60)?, 1),
        ]),
        _ => None,
    }
}

impl std::str::FromStr for TimeSpan {
    type Err = UnitError;

    /// Every Slurm time form (`M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`;
    /// a bare number is minutes) and `30s`, `90m`, `2h`, `1d`.
    fn from_str(s: &str) -> Result<TimeSpan, UnitError> {
        parse_span(s)
            .map(TimeSpan)
            .ok_or_else(|| UnitError::Duration(s.to_string()))
    }
}

impl std::fmt::Display for TimeSpan {
    /// Slurm style: `D-HH:MM:SS` from one day on, `HH:MM:SS` below.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0;
        let (d, h, m, sec) = (s / 86400, s % 86400 / 3600, s % 3600 / 60, s % 60);
        if d > 0 {
            write!(f, "{d}-{h:02}:{m:02}:{sec:02}")
        } else {
            write!(f, "{h:02}:{m:02}:{sec:02}")
        }
    }
}

impl Timestamp {
    /// The instant as a chrono UTC date-time, if chrono can represent it.
    pub fn to_datetime(self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::from_timestamp(self.0, 0)
    }
}

fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let int = s.strip_prefix('-').unwrap_or(s);
    if !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(naive.and_utc().timestamp());
        }
    }
    // Sub-second digits are dropped: storalloc counts whole seconds.
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|dt| dt.timestamp())
}

impl std::str::FromStr for Timestamp {
    type Err = UnitError;

    /// `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SS` (both UTC), RFC 3339
    /// with an offset, or epoch seconds.
    fn from_str(s: &str) -> Result<Timestamp, UnitError> {
        parse_timestamp(s)
            .map(Timestamp)
            .ok_or_else(|| UnitError::Timestamp(s.to_string()))
    }
}

impl std::fmt::Display for Timestamp {
    /// `YYYY-MM-DD HH:MM:SS` in UTC; epoch seconds for instants outside
    /// years 0000–9999, which that form cannot spell unambiguously.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use chrono::Datelike;
        match self.to_datetime() {
            Some(dt) if (0..=9999).contains(&dt.year()) => {
                write!(f, "{}", dt.format("%Y-%m-%d %H:%M:%S"))
            }
            _ => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
#[path = "time_tests.rs"]
mod tests;
