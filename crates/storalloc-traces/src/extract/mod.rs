//! Building an `IOJobs.yml` trace from real I/O data: Darshan logs
//! ([`darshan_logs`]) or the Theta CSV pair ([`theta_csv`]).
//!
//! Bytes come from the POSIX and STDIO layers only. MPI-IO (and HDF5,
//! PnetCDF) calls end up as POSIX calls, which Darshan counts again in the
//! POSIX module; adding MPI-IO bytes would count that traffic twice.

pub mod darshan_logs;
pub mod theta_csv;

use crate::job::IOJob;
use std::path::PathBuf;

/// Why extraction failed.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(transparent)]
    Darshan(#[from] storalloc_darshan::DarshanError),

    #[error("cannot read {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },

    #[error("{path}: not valid CSV near line {line}: {detail}")]
    Csv {
        path: PathBuf,
        line: u64,
        detail: String,
    },

    #[error(
        "{path}: missing column {column:?} (the Theta {what} CSV has it; see docs/darshan.md)"
    )]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        what: &'static str,
    },

    #[error("{path}: line {line}, column {column}: {value:?} is not {expected}")]
    BadValue {
        path: PathBuf,
        line: u64,
        column: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// Keeps jobs that read or wrote at least `min_bytes` (the replayer sizes a
/// request by the larger of the two).
pub fn keep_min_bytes(jobs: Vec<IOJob>, min_bytes: u64) -> Vec<IOJob> {
    jobs.into_iter()
        .filter(|j| j.read_bytes.max(j.written_bytes) >= min_bytes)
        .collect()
}
