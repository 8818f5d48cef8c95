//! The Theta CSV pair the original trace came from: ALCF's Darshan summary
//! (`ANL-ALCF-DARSHAN-THETA_*.csv`, one row per instrumented run) joined on
//! `COBALT_JOBID` with the Cobalt job log (`ANL-ALCF-DJC-THETA_*.csv`).
//! Column names are those of the public ALCF datasets, as the original
//! prototype's `extract_traces.py` read them.

use super::ExtractError;
use crate::job::{IOJob, JobId};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use storalloc_core::{TimeSpan, Timestamp};

/// Which Darshan counters give a job's bytes and write time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ByteSource {
    /// `TOTAL_POSIX_*` + `TOTAL_STDIO_*`: everything that reached the file
    /// system, counted once (our default).
    #[default]
    PosixStdio,
    /// `TOTAL_MPIIO_*` only, as the original did; misses jobs that do not
    /// use MPI-IO.
    MpiIo,
}

/// The original's I/O-intensive thresholds.
pub const WRITE_TIME_RATIO: f64 = 0.1;
pub const INTENSIVE_BYTES: u64 = 10_000_000_000;

/// What came out of a CSV pair, with counts of what was left out.
#[derive(Debug, Clone, Default)]
pub struct CsvExtraction {
    /// I/O-intensive jobs, sorted by start time.
    pub jobs: Vec<IOJob>,
    /// Rows of the Darshan CSV read.
    pub darshan_rows: usize,
    /// Job ids with Darshan rows but no Cobalt row (no times to replay).
    pub unmatched_jobs: usize,
    /// Jobs that did not pass the I/O-intensive filter.
    pub not_intensive_jobs: usize,
}

pub mod columns {
    //! Column names of the public ALCF Theta datasets.
    pub const JOBID: &str = "COBALT_JOBID";
    pub const NPROCS: &str = "NPROCS";
    pub const RUN_TIME: &str = "RUN_TIME";
    pub const QUEUED: &str = "QUEUED_TIMESTAMP";
    pub const START: &str = "START_TIMESTAMP";
    pub const END: &str = "END_TIMESTAMP";
    pub const NODES_USED: &str = "NODES_USED";
    pub const CORES_USED: &str = "CORES_USED";
}

/// (bytes read, bytes written, write time) columns per layer.
const POSIX: [&str; 3] = [
    "TOTAL_POSIX_BYTES_READ",
    "TOTAL_POSIX_BYTES_WRITTEN",
    "TOTAL_POSIX_F_WRITE_TIME",
];
const STDIO: [&str; 3] = [
    "TOTAL_STDIO_BYTES_READ",
    "TOTAL_STDIO_BYTES_WRITTEN",
    "TOTAL_STDIO_F_WRITE_TIME",
];
const MPIIO: [&str; 3] = [
    "TOTAL_MPIIO_BYTES_READ",
    "TOTAL_MPIIO_BYTES_WRITTEN",
    "TOTAL_MPIIO_F_WRITE_TIME",
];

struct Table {
    path: PathBuf,
    what: &'static str,
    reader: csv::Reader<std::fs::File>,
    header: HashMap<String, usize>,
}

impl Table {
    fn open(path: &Path, what: &'static str) -> Result<Table, ExtractError> {
        let file = std::fs::File::open(path).map_err(|error| ExtractError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(file);
        let header = reader
            .headers()
            .map_err(|e| csv_error(path, &e))?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_string(), i))
            .collect();
        Ok(Table {
            path: path.to_path_buf(),
            what,
            reader,
            header,
        })
    }

    fn column(&self, name: &'static str) -> Result<usize, ExtractError> {
        self.header
            .get(name)
            .copied()
            .ok_or_else(|| ExtractError::MissingColumn {
                path: self.path.clone(),
                column: name,
                what: self.what,
            })
    }

    fn rows(
        &mut self,
    ) -> impl Iterator<Item = Result<(u64, csv::StringRecord), ExtractError>> + '_ {
        let path = self.path.clone();
        self.reader.records().map(move |r| {
            let rec = r.map_err(|e| csv_error(&path, &e))?;
            let line = rec.position().map_or(0, |p| p.line());
            Ok((line, rec))
        })
    }
}

fn csv_error(path: &Path, e: &csv::Error) -> ExtractError {
    ExtractError::Csv {
        path: path.to_path_buf(),
        line: e.position().map_or(0, |p| p.line()),
        detail: e.to_string(),
    }
}

/// One cell of a row, with what the error needs to name it.
struct Cell<'a> {
    path: &'a Path,
    line: u64,
    column: &'static str,
    value: &'a str,
}

impl Cell<'_> {
    fn bad(&self, expected: &'static str) -> ExtractError {
        ExtractError::BadValue {
            path: self.path.to_path_buf(),
            line: self.line,
            column: self.column,
            value: self.value.to_string(),
            expected,
        }
    }

    /// A number as pandas writes it (`12`, `12.0`, `1.2e10`); empty is 0.
    fn number(&self) -> Result<f64, ExtractError> {
        let v = self.value.trim();
        if v.is_empty() || v.eq_ignore_ascii_case("nan") {
            return Ok(0.0);
        }
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
            _ => Err(self.bad("a non-negative number")),
        }
    }

    fn count(&self) -> Result<u64, ExtractError> {
        let x = self.number()?;
        if x > u64::MAX as f64 {
            return Err(self.bad("a count that fits 64 bits"));
        }
        Ok(x as u64)
    }

    fn job_id(&self) -> Result<i64, ExtractError> {
        let v = self.value.trim();
        let v = v.strip_suffix(".0").unwrap_or(v);
        v.parse::<i64>().map_err(|_| self.bad("an integer job id"))
    }

    fn time(&self) -> Result<Timestamp, ExtractError> {
        self.value
            .trim()
            .parse()
            .map_err(|_| self.bad("a time (YYYY-MM-DD HH:MM:SS)"))
    }
}

struct CobaltJob {
    queued: Timestamp,
    start: Timestamp,
    end: Timestamp,
    nodes: u64,
    cores: u64,
}

fn read_cobalt(path: &Path) -> Result<HashMap<i64, CobaltJob>, ExtractError> {
    use columns::*;
    let mut t = Table::open(path, "Cobalt job (DJC)")?;
    let names = [JOBID, QUEUED, START, END, NODES_USED, CORES_USED];
    let mut idx = [0usize; 6];
    for (slot, name) in idx.iter_mut().zip(names) {
        *slot = t.column(name)?;
    }
    let mut jobs = HashMap::new();
    for row in t.rows() {
        let (line, rec) = row?;
        let cell = |i: usize| Cell {
            path,
            line,
            column: names[i],
            value: rec.get(idx[i]).unwrap_or(""),
        };
        let start = cell(2).time()?;
        let end = cell(3).time()?;
        if end < start {
            return Err(cell(3).bad("a time after START_TIMESTAMP"));
        }
        jobs.insert(
            cell(0).job_id()?,
            CobaltJob {
                queued: cell(1).time()?,
                start,
                end,
                nodes: cell(4).count()?,
                cores: cell(5).count()?,
            },
        );
    }
    Ok(jobs)
}

#[derive(Default)]
struct RunTotals {
    nprocs: u64,
    run_time: u64,
    read: u64,
    written: u64,
    write_time_ratio_met: bool,
}

fn read_darshan(
    path: &Path,
    source: ByteSource,
) -> Result<(BTreeMap<i64, RunTotals>, usize), ExtractError> {
    use columns::*;
    let mut t = Table::open(path, "Darshan (ANL-ALCF-DARSHAN)")?;
    let jobid = t.column(JOBID)?;
    let nprocs = t.column(NPROCS)?;
    let run_time = t.column(RUN_TIME)?;
    // STDIO columns are optional: not every year's summary has them.
    let layers: Vec<([&'static str; 3], [usize; 3])> = match source {
        ByteSource::PosixStdio => {
            let mut v = vec![(
                POSIX,
                [
                    t.column(POSIX[0])?,
                    t.column(POSIX[1])?,
                    t.column(POSIX[2])?,
                ],
            )];
            if let (Ok(a), Ok(b), Ok(c)) =
                (t.column(STDIO[0]), t.column(STDIO[1]), t.column(STDIO[2]))
            {
                v.push((STDIO, [a, b, c]));
            }
            v
        }
        ByteSource::MpiIo => vec![(
            MPIIO,
            [
                t.column(MPIIO[0])?,
                t.column(MPIIO[1])?,
                t.column(MPIIO[2])?,
            ],
        )],
    };
    let mut jobs: BTreeMap<i64, RunTotals> = BTreeMap::new();
    let mut rows = 0;
    for row in t.rows() {
        let (line, rec) = row?;
        rows += 1;
        let cell = |column: &'static str, i: usize| Cell {
            path,
            line,
            column,
            value: rec.get(i).unwrap_or(""),
        };
        let id = cell(JOBID, jobid).job_id()?;
        let procs = cell(NPROCS, nprocs).count()?;
        let secs = cell(RUN_TIME, run_time).number()?;
        let (mut read, mut written, mut write_time) = (0u64, 0u64, 0.0f64);
        for (names, idx) in &layers {
            read = read.saturating_add(cell(names[0], idx[0]).count()?);
            written = written.saturating_add(cell(names[1], idx[1]).count()?);
            write_time += cell(names[2], idx[2]).number()?;
        }
        // The original's rule: (write time / nprocs) / run time >= 0.1.
        let ratio_met =
            procs > 0 && secs > 0.0 && (write_time / procs as f64) / secs >= WRITE_TIME_RATIO;
        let job = jobs.entry(id).or_default();
        job.nprocs = job.nprocs.max(procs);
        job.run_time = job.run_time.max(secs as u64);
        job.read = job.read.saturating_add(read);
        job.written = job.written.saturating_add(written);
        job.write_time_ratio_met |= ratio_met;
    }
    Ok((jobs, rows))
}

/// Joins the two CSVs and keeps the I/O-intensive jobs: a run spent at
/// least 10% of its time writing (per process), or the job wrote or read at
/// least 10 GB. A job with several Darshan rows becomes one job.
pub fn extract(
    darshan_csv: &Path,
    cobalt_csv: &Path,
    source: ByteSource,
) -> Result<CsvExtraction, ExtractError> {
    let cobalt = read_cobalt(cobalt_csv)?;
    let (runs, darshan_rows) = read_darshan(darshan_csv, source)?;
    let mut out = CsvExtraction {
        darshan_rows,
        ..CsvExtraction::default()
    };
    for (id, run) in runs {
        let Some(c) = cobalt.get(&id) else {
            out.unmatched_jobs += 1;
            continue;
        };
        let intensive = run.write_time_ratio_met
            || run.written >= INTENSIVE_BYTES
            || run.read >= INTENSIVE_BYTES;
        if !intensive {
            out.not_intensive_jobs += 1;
            continue;
        }
        let mut job = IOJob::new(JobId::Int(id), c.start, c.end, run.read, run.written);
        job.mpi_procs = Some(run.nprocs);
        job.submission_time = Some(c.queued);
        job.waiting_time = Some(TimeSpan(c.start.since(c.queued).0));
        job.nodes_used = Some(c.nodes);
        job.cores_used = Some(c.cores);
        job.run_time = Some(TimeSpan(run.run_time));
        out.jobs.push(job);
    }
    out.jobs
        .sort_by(|a, b| (a.start_time, &a.id).cmp(&(b.start_time, &b.id)));
    Ok(out)
}
