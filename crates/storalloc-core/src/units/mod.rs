//! Units used everywhere in storalloc, parsed and displayed in one place.
//!
//! - [`Bytes`] — sizes. A bare number means GB (decimal), as in the original CLI.
//! - [`TimeSpan`] — durations, in whole seconds (Slurm forms, `90m`, `2h`, `1d`).
//! - [`Timestamp`] — instants, in whole seconds since the Unix epoch, UTC.
//! - [`Bandwidth`] — bandwidths in GB/s.

mod bandwidth;
mod size;
mod time;

pub use bandwidth::Bandwidth;
pub use size::Bytes;
pub use time::{TimeSpan, Timestamp};

/// Why a unit string could not be parsed. The message names the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("invalid size {0:?}: expected a positive number with an optional unit (B, kB, MB, GB, TB, PB, KiB, MiB, GiB, TiB); a bare number means GB")]
    Size(String),
    #[error("invalid duration {0:?}: expected M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, or a number with s/m/h/d (e.g. 90m, 2h, 1d)")]
    Duration(String),
    #[error("invalid time {0:?}: expected \"YYYY-MM-DD HH:MM:SS\", RFC 3339 (2024-01-31T10:00:00Z) or epoch seconds")]
    Timestamp(String),
    #[error("invalid bandwidth {0:?}: expected a positive number of GB/s")]
    Bandwidth(String),
}
