//! A streaming trace reader. It pulls YAML events one at a time
//! (`yaml-rust2`'s event parser) and builds one [`IOJob`] at a time, so a
//! 250 MB trace costs memory for one job, not for a whole YAML tree.
//!
//! Both formats are accepted in the same file: each field is looked up by
//! its original name (`runTime`, `waitingTime`, `MPIprocs`) and by its Theta
//! name (`runtimeSeconds`, `waitingTimeSeconds`, `sum_nprocs`). Fields the
//! replay does not use (`runs`, `category`, `coreHoursReq`...) are skipped.

use crate::error::{JobError, JobErrorKind, TraceError};
use crate::fast_path::{self, Scan};
use crate::fields::{build_job, detect_format};
use crate::job::IOJob;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Which trace family a file belongs to, judged from its first job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// The original prototype's `IOJobs.yml`.
    IoJobs,
    /// The richer Theta per-job format of `data/traces`.
    Theta,
}

impl TraceFormat {
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::IoJobs => "IOJobs",
            TraceFormat::Theta => "theta",
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Skip malformed jobs (and count them) instead of failing.
    pub skip_invalid: bool,
}

/// What [`read_trace`] saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSummary {
    pub format: Option<TraceFormat>,
    pub jobs_read: usize,
    pub jobs_skipped: usize,
    /// Skipped jobs per reason (`field: kind`), for the user.
    pub skip_reasons: BTreeMap<String, usize>,
    /// The first few skipped jobs in full.
    pub first_errors: Vec<JobError>,
}

const KEPT_ERRORS: usize = 10;

/// Reads every job of the trace at `path` and hands each to `f`. Without
/// `skip_invalid` the first malformed job is an error; with it, malformed
/// jobs are counted in the summary. Broken YAML is always an error.
///
/// Plain block-style files (what trace tools write) are read with a fast
/// line-based path. At the first line outside its subset, the general YAML
/// event parser takes over from the start of the file, skipping the jobs
/// already handed over.
pub fn read_trace(
    path: &Path,
    opts: ReadOptions,
    f: impl FnMut(IOJob),
) -> Result<ReadSummary, TraceError> {
    let open = || {
        std::fs::File::open(path)
            .map(|file| BufReader::with_capacity(1 << 16, file))
            .map_err(|source| TraceError::Io {
                path: path.to_path_buf(),
                source,
            })
    };
    read_with(open, path, opts, f)
}

/// [`read_trace`] on a trace held in memory.
pub fn read_str(
    text: &str,
    opts: ReadOptions,
    f: impl FnMut(IOJob),
) -> Result<ReadSummary, TraceError> {
    read_with(|| Ok(text.as_bytes()), Path::new("<input>"), opts, f)
}

fn read_with<R: BufRead>(
    open: impl Fn() -> Result<R, TraceError>,
    path: &Path,
    opts: ReadOptions,
    mut f: impl FnMut(IOJob),
) -> Result<ReadSummary, TraceError> {
    let mut c = Collector::new(opts);
    let mut handed = 0usize;
    let mut failed = None;
    let scan = fast_path::scan(open()?, |index, line, fields| {
        if failed.is_some() {
            return;
        }
        if c.summary.format.is_none() {
            c.summary.format = Some(detect_format(fields));
        }
        let item = build_job(index, line, fields).map_err(|error| TraceError::Job {
            path: path.to_path_buf(),
            error: Box::new(error),
        });
        handed += 1;
        if let Err(e) = c.take(item, &mut f) {
            failed = Some(e);
        }
    })
    .map_err(|source| TraceError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    if scan == Scan::Done {
        return Ok(c.summary);
    }
    let mut stream = JobStream::from_reader(open()?, path);
    for (i, item) in stream.by_ref().enumerate() {
        match item {
            // Already handed over by the fast path.
            Ok(_) | Err(TraceError::Job { .. }) if i < handed => {}
            item => c.take(item, &mut f)?,
        }
    }
    c.summary.format = stream.format();
    Ok(c.summary)
}

/// Counts jobs and skipped jobs the same way for both reader paths.
struct Collector {
    opts: ReadOptions,
    summary: ReadSummary,
}

impl Collector {
    fn new(opts: ReadOptions) -> Collector {
        Collector {
            opts,
            summary: ReadSummary::default(),
        }
    }

    fn take(
        &mut self,
        item: Result<IOJob, TraceError>,
        f: &mut impl FnMut(IOJob),
    ) -> Result<(), TraceError> {
        let summary = &mut self.summary;
        match item {
            Ok(job) => {
                summary.jobs_read += 1;
                f(job);
                Ok(())
            }
            Err(TraceError::Job { error, path }) => {
                if !self.opts.skip_invalid {
                    return Err(TraceError::Job { error, path });
                }
                summary.jobs_skipped += 1;
                let reason = if error.field.is_empty() {
                    error.kind.to_string()
                } else {
                    format!("{}: {}", error.field, reason_class(&error.kind))
                };
                *summary.skip_reasons.entry(reason).or_default() += 1;
                if summary.first_errors.len() < KEPT_ERRORS {
                    summary.first_errors.push(*error);
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// Reads a trace held in memory with the fast path only: `None` when the
/// text is outside its subset. Each job or job error, in order; for tests.
pub fn parse_str_fast(text: &str) -> Option<Vec<Result<IOJob, JobError>>> {
    let mut out = Vec::new();
    let scan = fast_path::scan(text.as_bytes(), |index, line, fields| {
        out.push(build_job(index, line, fields));
    })
    .ok()?;
    (scan == Scan::Done).then_some(out)
}

/// The kind of an error without its value, so reasons group well.
fn reason_class(kind: &JobErrorKind) -> &'static str {
    match kind {
        JobErrorKind::Missing => "missing",
        JobErrorKind::NegativeBytes(_) => "negative byte count",
        JobErrorKind::EndBeforeStart { .. } => "end before start",
        JobErrorKind::BadTime(_) => "unparsable time",
        JobErrorKind::BadNumber(_) => "invalid number",
        JobErrorKind::BadSpan(_) => "invalid length of time",
        JobErrorKind::BadId(_) => "invalid id",
        JobErrorKind::NotAScalar(_) => "not a single value",
        JobErrorKind::NotAMapping(_) => "job is not a mapping",
    }
}

pub use crate::event_stream::{parse_str, CharReader, JobStream};
