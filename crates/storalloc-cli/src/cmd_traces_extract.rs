//! `storalloc traces extract`: Darshan logs (or the Theta CSV pair) to the
//! original `IOJobs.yml` format.

use anyhow::Context;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use storalloc_core::Bytes;
use storalloc_darshan::{ReadOptions, Reader};
use storalloc_traces::extract::{darshan_logs, keep_min_bytes, theta_csv};
use storalloc_traces::IOJob;

#[derive(Args)]
pub struct ExtractArgs {
    /// Darshan logs, or directories searched recursively for `*.darshan`.
    #[arg(required_unless_present = "darshan_csv")]
    pub logs: Vec<PathBuf>,
    /// Instead of logs: ALCF's Theta Darshan summary CSV (ANL-ALCF-DARSHAN-THETA_*.csv).
    #[arg(long, requires = "cobalt_csv", conflicts_with = "logs")]
    pub darshan_csv: Option<PathBuf>,
    /// The Cobalt job CSV joined with it on COBALT_JOBID (ANL-ALCF-DJC-THETA_*.csv).
    #[arg(long, requires = "darshan_csv")]
    pub cobalt_csv: Option<PathBuf>,
    /// Which CSV counters give bytes and write time.
    #[arg(long, value_enum, default_value_t = CsvBytes::PosixStdio)]
    pub csv_bytes: CsvBytes,
    /// Where to write the IOJobs.yml trace.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Keep only jobs that read or wrote at least this much (e.g. 10GB, 1GiB; bare numbers are bytes).
    #[arg(long, value_parser = parse_bytes, default_value = "0")]
    pub min_bytes: u64,
    /// Stop at the first unreadable log instead of skipping it.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CsvBytes {
    /// TOTAL_POSIX_* + TOTAL_STDIO_*: all file-system traffic, counted once.
    PosixStdio,
    /// TOTAL_MPIIO_* only, as the original prototype did.
    Mpiio,
}

fn parse_bytes(s: &str) -> Result<u64, String> {
    Bytes::parse_exact(s, 1)
        .map(|b| b.0)
        .map_err(|e| e.to_string())
}

pub fn run(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let jobs = match (&args.darshan_csv, &args.cobalt_csv) {
        (Some(d), Some(c)) => from_csv(d, c, args.csv_bytes)?,
        _ => from_logs(&args.logs, args.strict)?,
    };
    let before = jobs.len();
    let jobs = keep_min_bytes(jobs, args.min_bytes);
    if jobs.len() < before {
        eprintln!(
            "{} job(s) below --min-bytes {} left out",
            before - jobs.len(),
            args.min_bytes
        );
    }
    let file = std::fs::File::create(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    storalloc_traces::write_iojobs(std::io::BufWriter::new(file), &jobs)
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!("wrote {} job(s) to {}", jobs.len(), args.output.display());
    Ok(ExitCode::SUCCESS)
}

fn from_logs(paths: &[PathBuf], strict: bool) -> anyhow::Result<Vec<IOJob>> {
    let logs = darshan_logs::find_logs(paths)?;
    let mut runs = Vec::with_capacity(logs.len());
    let mut skipped = 0usize;
    let mut reader = Reader::new(ReadOptions::default());
    for path in &logs {
        match reader.open(path) {
            Ok(log) => runs.push(darshan_logs::log_io(&log, path)),
            Err(e) if !strict => {
                eprintln!("skipping {}: {e}", path.display());
                skipped += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if logs.is_empty() {
        anyhow::bail!("no Darshan logs (*.darshan) found in the given paths");
    }
    eprintln!(
        "read {} log(s), skipped {skipped} unreadable",
        logs.len() - skipped
    );
    Ok(darshan_logs::merge(runs))
}

fn from_csv(
    darshan: &std::path::Path,
    cobalt: &std::path::Path,
    bytes: CsvBytes,
) -> anyhow::Result<Vec<IOJob>> {
    let source = match bytes {
        CsvBytes::PosixStdio => theta_csv::ByteSource::PosixStdio,
        CsvBytes::Mpiio => theta_csv::ByteSource::MpiIo,
    };
    let out = theta_csv::extract(darshan, cobalt, source)?;
    eprintln!(
        "{} Darshan row(s): {} job(s) kept, {} not I/O-intensive, {} without a Cobalt row",
        out.darshan_rows,
        out.jobs.len(),
        out.not_intensive_jobs,
        out.unmatched_jobs
    );
    Ok(out.jobs)
}
