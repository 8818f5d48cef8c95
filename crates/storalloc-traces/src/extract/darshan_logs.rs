//! One job per job id from Darshan logs; several logs of one job (several
//! application runs in one batch job) are merged.

use super::ExtractError;
use crate::job::{IOJob, JobId};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use storalloc_core::{TimeSpan, Timestamp};
use storalloc_darshan::{DarshanLog, ModuleId};

/// What one log contributes to its job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogIo {
    pub id: JobId,
    pub nprocs: u64,
    pub start: Timestamp,
    pub end: Timestamp,
    pub read_bytes: u64,
    pub written_bytes: u64,
}

fn module_bytes(log: &DarshanLog, module: ModuleId) -> (u64, u64) {
    log.io_totals(module).map_or((0, 0), |t| {
        (t.bytes_read.max(0) as u64, t.bytes_written.max(0) as u64)
    })
}

/// The job id, the run's span and its POSIX + STDIO bytes. A log without a
/// scheduler job id (0 or negative) is its own job, named after the file.
/// Darshan records whole seconds and darshan-util counts a run as
/// `end - start + 1` seconds, so a run ends at least 1 s after it starts.
pub fn log_io(log: &DarshanLog, path: &Path) -> LogIo {
    let (pr, pw) = module_bytes(log, ModuleId::Posix);
    let (sr, sw) = module_bytes(log, ModuleId::Stdio);
    let job = &log.job;
    let id = if job.jobid > 0 {
        JobId::Int(job.jobid)
    } else {
        JobId::Str(path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        ))
    };
    let start = Timestamp(job.start_time_sec);
    LogIo {
        id,
        nprocs: job.nprocs.max(0) as u64,
        start,
        end: Timestamp(job.end_time_sec.max(job.start_time_sec.saturating_add(1))),
        read_bytes: pr.saturating_add(sr),
        written_bytes: pw.saturating_add(sw),
    }
}

/// Merges runs into jobs: the earliest start, the latest end, the largest
/// process count and the summed bytes. Jobs come out sorted by start time.
pub fn merge(runs: impl IntoIterator<Item = LogIo>) -> Vec<IOJob> {
    let mut jobs: BTreeMap<JobId, IOJob> = BTreeMap::new();
    for run in runs {
        let job = jobs.entry(run.id.clone()).or_insert_with(|| {
            let mut j = IOJob::new(run.id.clone(), run.start, run.end, 0, 0);
            j.mpi_procs = Some(0);
            j
        });
        job.start_time = job.start_time.min(run.start);
        job.end_time = job.end_time.max(run.end);
        job.mpi_procs = job.mpi_procs.max(Some(run.nprocs));
        job.read_bytes = job.read_bytes.saturating_add(run.read_bytes);
        job.written_bytes = job.written_bytes.saturating_add(run.written_bytes);
    }
    let mut out: Vec<IOJob> = jobs
        .into_values()
        .map(|mut j| {
            j.run_time = Some(TimeSpan(j.end_time.since(j.start_time).0));
            j
        })
        .collect();
    out.sort_by(|a, b| (a.start_time, &a.id).cmp(&(b.start_time, &b.id)));
    out
}

/// The `*.darshan` files named or found (recursively) under the given
/// paths, sorted and without duplicates.
pub fn find_logs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ExtractError> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let meta = std::fs::metadata(&p).map_err(|error| ExtractError::Io {
            path: p.clone(),
            error,
        })?;
        if !meta.is_dir() {
            out.push(p);
            continue;
        }
        let entries = std::fs::read_dir(&p).map_err(|error| ExtractError::Io {
            path: p.clone(),
            error,
        })?;
        for entry in entries {
            let entry = entry.map_err(|error| ExtractError::Io {
                path: p.clone(),
                error,
            })?;
            let child = entry.path();
            if child.is_dir() {
                stack.push(child);
            } else if child.extension().is_some_and(|e| e == "darshan") {
                out.push(child);
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: i64, start: i64, end: i64, nprocs: u64, r: u64, w: u64) -> LogIo {
        LogIo {
            id: JobId::Int(id),
            nprocs,
            start: Timestamp(start),
            end: Timestamp(end),
            read_bytes: r,
            written_bytes: w,
        }
    }

    #[test]
    fn runs_of_one_job_merge_into_one() {
        let jobs = merge([
            run(7, 100, 200, 4, 10, 1),
            run(3, 50, 60, 1, 0, 0),
            run(7, 150, 400, 16, 5, 2),
        ]);
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].id, JobId::Int(3));
        let j = &jobs[1];
        assert_eq!((j.start_time, j.end_time), (Timestamp(100), Timestamp(400)));
        assert_eq!((j.read_bytes, j.written_bytes), (15, 3));
        assert_eq!(j.mpi_procs, Some(16));
        assert_eq!(j.run_time, Some(TimeSpan(300)));
    }
}
