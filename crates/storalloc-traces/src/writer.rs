//! Writes the original prototype's `IOJobs.yml` format, one job at a time,
//! so a million-job trace never sits in memory as text.

use crate::job::{IOJob, JobId};
use crate::timefmt::{format_span_days, format_time};
use std::io::{self, Write};

/// A streaming `IOJobs.yml` writer. Call [`IoJobsWriter::finish`] at the end:
/// an empty trace is written as `jobs: []`.
pub struct IoJobsWriter<W: Write> {
    out: W,
    count: u64,
}

impl<W: Write> IoJobsWriter<W> {
    pub fn new(out: W) -> IoJobsWriter<W> {
        IoJobsWriter { out, count: 0 }
    }

    /// Keys are written in the original's (alphabetical) order; `None`
    /// fields are left out. `walltimeSeconds` is our extension and reads back.
    pub fn write(&mut self, job: &IOJob) -> io::Result<()> {
        let o = &mut self.out;
        if self.count == 0 {
            o.write_all(b"---\njobs:\n")?;
        }
        self.count += 1;
        let mut first = true;
        let mut key = |o: &mut W, k: &str| -> io::Result<()> {
            let lead = if first { "- " } else { "  " };
            first = false;
            write!(o, "{lead}{k}: ")
        };
        if let Some(v) = job.mpi_procs {
            key(o, "MPIprocs")?;
            writeln!(o, "{v}")?;
        }
        if let Some(v) = job.cores_used {
            key(o, "coresUsed")?;
            writeln!(o, "{v}")?;
        }
        key(o, "endTime")?;
        writeln!(o, "'{}'", format_time(job.end_time))?;
        key(o, "id")?;
        match &job.id {
            JobId::Int(i) => writeln!(o, "{i}")?,
            JobId::Str(s) => writeln!(o, "'{}'", s.replace('\'', "''"))?,
        }
        if let Some(v) = job.nodes_used {
            key(o, "nodesUsed")?;
            writeln!(o, "{v}")?;
        }
        key(o, "readBytes")?;
        writeln!(o, "{}", job.read_bytes)?;
        if let Some(v) = job.run_time {
            key(o, "runTime")?;
            writeln!(o, "{}", v.0)?;
        }
        key(o, "startTime")?;
        writeln!(o, "'{}'", format_time(job.start_time))?;
        if let Some(v) = job.submission_time {
            key(o, "submissionTime")?;
            writeln!(o, "'{}'", format_time(v))?;
        }
        if let Some(v) = job.waiting_time {
            key(o, "waitingTime")?;
            writeln!(o, "{}", format_span_days(v))?;
        }
        if let Some(v) = job.walltime {
            key(o, "walltimeSeconds")?;
            writeln!(o, "{}", v.0)?;
        }
        key(o, "writtenBytes")?;
        writeln!(o, "{}", job.written_bytes)
    }

    /// Ends the document and flushes; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.count == 0 {
            self.out.write_all(b"---\njobs: []\n")?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes `jobs` as an `IOJobs.yml` document.
pub fn write_iojobs<'a, W: Write>(
    out: W,
    jobs: impl IntoIterator<Item = &'a IOJob>,
) -> io::Result<W> {
    let mut w = IoJobsWriter::new(out);
    for j in jobs {
        w.write(j)?;
    }
    w.finish()
}
