//! One job of a trace, in a form shared by both trace formats.

use storalloc_core::{TimeSpan, Timestamp};

/// A job id as it appears in the trace: the original uses integers, some
/// newer traces use strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobId {
    Int(i64),
    Str(String),
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobId::Int(i) => write!(f, "{i}"),
            JobId::Str(s) => f.write_str(s),
        }
    }
}

/// One job. Only `id`, `start_time`, `end_time`, `read_bytes` and
/// `written_bytes` are required; the rest is descriptive and kept when the
/// trace has it (the writer omits what is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IOJob {
    pub id: JobId,
    /// `MPIprocs` (original) or the sum of the runs' `nprocs` (`sum_nprocs`).
    pub mpi_procs: Option<u64>,
    pub submission_time: Option<Timestamp>,
    pub start_time: Timestamp,
    pub end_time: Timestamp,
    /// `waitingTime` (original, `"0 days 01:23:49"`) or `waitingTimeSeconds`.
    pub waiting_time: Option<TimeSpan>,
    pub nodes_used: Option<u64>,
    pub cores_used: Option<u64>,
    pub written_bytes: u64,
    pub read_bytes: u64,
    /// `runTime` (original) or `runtimeSeconds`.
    pub run_time: Option<TimeSpan>,
    /// `walltimeSeconds`: the wall time the job asked for.
    pub walltime: Option<TimeSpan>,
}

impl IOJob {
    /// A job with only the required fields set.
    pub fn new(
        id: JobId,
        start_time: Timestamp,
        end_time: Timestamp,
        read_bytes: u64,
        written_bytes: u64,
    ) -> IOJob {
        IOJob {
            id,
            mpi_procs: None,
            submission_time: None,
            start_time,
            end_time,
            waiting_time: None,
            nodes_used: None,
            cores_used: None,
            written_bytes,
            read_bytes,
            run_time: None,
            walltime: None,
        }
    }

    /// `end_time − start_time`; never negative for a job the reader accepted.
    pub fn duration(&self) -> TimeSpan {
        self.end_time.since(self.start_time)
    }
}
