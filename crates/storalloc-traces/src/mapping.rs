//! How a job becomes a storage request. The default is the original
//! replayer's: capacity = max(writtenBytes, readBytes), duration =
//! endTime − startTime, start = startTime. Capacity stays exact in bytes
//! (the original divided by 1e9 and kept a float GB).

use crate::job::IOJob;
use storalloc_core::{Bytes, Request, TimeSpan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CapacityFrom {
    /// max(writtenBytes, readBytes), as the original.
    #[default]
    Max,
    /// writtenBytes + readBytes.
    Sum,
    Read,
    Written,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DurationFrom {
    /// endTime − startTime, as the original.
    #[default]
    Runtime,
    /// walltimeSeconds: what the job asked the batch scheduler for.
    Walltime,
}

impl std::str::FromStr for CapacityFrom {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "max" => Ok(CapacityFrom::Max),
            "sum" => Ok(CapacityFrom::Sum),
            "read" => Ok(CapacityFrom::Read),
            "written" => Ok(CapacityFrom::Written),
            _ => Err(format!(
                "unknown capacity source {s:?}: expected max, sum, read or written"
            )),
        }
    }
}

impl std::str::FromStr for DurationFrom {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "runtime" => Ok(DurationFrom::Runtime),
            "walltime" => Ok(DurationFrom::Walltime),
            _ => Err(format!(
                "unknown duration source {s:?}: expected runtime or walltime"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MappingOptions {
    pub capacity_from: CapacityFrom,
    pub duration_from: DurationFrom,
}

/// Why a valid job gives no request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// The chosen capacity is zero bytes (the original skips these too).
    NoIo,
    /// The chosen duration is zero seconds: nothing to reserve.
    ZeroDuration,
    /// `--duration-from walltime` on a job without `walltimeSeconds`.
    NoWalltime,
}

impl SkipReason {
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::NoIo => "no_io",
            SkipReason::ZeroDuration => "zero_duration",
            SkipReason::NoWalltime => "no_walltime",
        }
    }
}

impl MappingOptions {
    pub fn capacity(&self, job: &IOJob) -> Bytes {
        let (r, w) = (job.read_bytes, job.written_bytes);
        Bytes(match self.capacity_from {
            CapacityFrom::Max => r.max(w),
            CapacityFrom::Sum => r.saturating_add(w),
            CapacityFrom::Read => r,
            CapacityFrom::Written => w,
        })
    }

    pub fn duration(&self, job: &IOJob) -> Option<TimeSpan> {
        match self.duration_from {
            DurationFrom::Runtime => Some(job.duration()),
            DurationFrom::Walltime => job.walltime,
        }
    }

    /// The request for `job`, starting at its `startTime`.
    pub fn request(&self, job: &IOJob) -> Result<Request, SkipReason> {
        let capacity = self.capacity(job);
        if capacity == Bytes::ZERO {
            return Err(SkipReason::NoIo);
        }
        let duration = self.duration(job).ok_or(SkipReason::NoWalltime)?;
        if duration == TimeSpan(0) {
            return Err(SkipReason::ZeroDuration);
        }
        Ok(Request::new(capacity, duration, job.start_time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::JobId;
    use storalloc_core::Timestamp;

    fn job(read: u64, written: u64, secs: i64) -> IOJob {
        IOJob::new(
            JobId::Int(1),
            Timestamp(1000),
            Timestamp(1000 + secs),
            read,
            written,
        )
    }

    #[test]
    fn default_is_the_originals_mapping_exact_in_bytes() {
        let r = MappingOptions::default()
            .request(&job(20_070_176_013, 40_619_980, 21_227))
            .unwrap();
        assert_eq!(r.capacity, Bytes(20_070_176_013));
        assert_eq!(r.duration, TimeSpan(21_227));
        assert_eq!(r.earliest_start, Timestamp(1000));
    }

    #[test]
    fn capacity_and_duration_sources() {
        let mut j = job(3, 5, 60);
        j.walltime = Some(TimeSpan(120));
        let o = |c, d| MappingOptions {
            capacity_from: c,
            duration_from: d,
        };
        let sum = o(CapacityFrom::Sum, DurationFrom::Walltime)
            .request(&j)
            .unwrap();
        assert_eq!((sum.capacity, sum.duration), (Bytes(8), TimeSpan(120)));
        let read = o(CapacityFrom::Read, DurationFrom::Runtime)
            .request(&j)
            .unwrap();
        assert_eq!(read.capacity, Bytes(3));
        let written = o(CapacityFrom::Written, DurationFrom::Runtime)
            .request(&j)
            .unwrap();
        assert_eq!(written.capacity, Bytes(5));
    }

    #[test]
    fn jobs_without_io_or_time_are_skipped_with_a_reason() {
        let d = MappingOptions::default();
        assert_eq!(d.request(&job(0, 0, 60)), Err(SkipReason::NoIo));
        assert_eq!(d.request(&job(1, 0, 0)), Err(SkipReason::ZeroDuration));
        let wall = MappingOptions {
            duration_from: DurationFrom::Walltime,
            ..d
        };
        assert_eq!(wall.request(&job(1, 0, 60)), Err(SkipReason::NoWalltime));
        let read_only = MappingOptions {
            capacity_from: CapacityFrom::Read,
            ..d
        };
        assert_eq!(read_only.request(&job(0, 7, 60)), Err(SkipReason::NoIo));
    }
}
