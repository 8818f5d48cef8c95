//! Loads a trace into the compact form the simulator replays.

use std::collections::BTreeMap;
use std::path::Path;
use storalloc_core::{Bytes, Request, TimeSpan, Timestamp};
use storalloc_traces::{read_trace, MappingOptions, ReadOptions, ReadSummary, TraceError};

/// One request to replay: 24 bytes, so a million fit in 24 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimJob {
    pub capacity: Bytes,
    pub duration: TimeSpan,
    pub start: Timestamp,
}

impl SimJob {
    pub fn request(&self) -> Request {
        Request::new(self.capacity, self.duration, self.start)
    }
}

/// The requests of a trace, in replay order, and what was left out.
#[derive(Debug, Clone, Default)]
pub struct Workload {
    /// Sorted by start time; ties keep trace order. A job's index here is
    /// its allocation id in the simulation.
    pub jobs: Vec<SimJob>,
    pub read: ReadSummary,
    /// Valid jobs that give no request, per reason (`no_io`, ...).
    pub skipped: BTreeMap<&'static str, usize>,
}

impl Workload {
    pub fn load(
        path: &Path,
        read: ReadOptions,
        mapping: MappingOptions,
    ) -> Result<Workload, TraceError> {
        let mut jobs = Vec::new();
        let mut skipped = BTreeMap::new();
        let summary = read_trace(path, read, |job| match mapping.request(&job) {
            Ok(r) => jobs.push(SimJob {
                capacity: r.capacity,
                duration: r.duration,
                start: r.earliest_start,
            }),
            Err(reason) => *skipped.entry(reason.name()).or_insert(0) += 1,
        })?;
        Ok(Workload::from_jobs(jobs, summary, skipped))
    }

    pub fn from_jobs(
        mut jobs: Vec<SimJob>,
        read: ReadSummary,
        skipped: BTreeMap<&'static str, usize>,
    ) -> Workload {
        jobs.sort_by_key(|j| j.start);
        Workload {
            jobs,
            read,
            skipped,
        }
    }

    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }
}
