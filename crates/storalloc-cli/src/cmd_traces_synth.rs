//! `storalloc traces synth`: a larger trace resampled from a real one.

use anyhow::Context;
use clap::Args;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use storalloc_traces::synth::{Model, SynthOptions};
use storalloc_traces::{read_trace, ReadOptions};

#[derive(Args)]
pub struct SynthArgs {
    /// The real trace to learn arrival gaps, sizes and durations from.
    #[arg(long, value_name = "TRACE")]
    like: PathBuf,
    /// How many jobs to write.
    #[arg(long)]
    jobs: u64,
    /// Same trace and seed, same output.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Multiply arrival gaps (0.01 = 100× denser arrivals).
    #[arg(long, default_value_t = 1.0)]
    gap_scale: f64,
    /// Skip malformed jobs of the source trace.
    #[arg(long)]
    skip_invalid: bool,
    /// Output file (IOJobs.yml format); stdout by default.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: SynthArgs) -> anyhow::Result<ExitCode> {
    let mut jobs = Vec::new();
    let summary = read_trace(
        &args.like,
        ReadOptions {
            skip_invalid: args.skip_invalid,
        },
        |j| jobs.push(j),
    )?;
    if summary.jobs_skipped > 0 {
        eprintln!(
            "storalloc: skipped {} invalid job(s) of {}",
            summary.jobs_skipped,
            args.like.display()
        );
    }
    let model = Model::learn(jobs).with_context(|| args.like.display().to_string())?;
    let opts = SynthOptions {
        jobs: args.jobs,
        seed: args.seed,
        gap_scale: args.gap_scale,
    };
    match &args.output {
        Some(path) => {
            let f = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            model
                .write(opts, BufWriter::with_capacity(1 << 16, f))
                .with_context(|| path.display().to_string())?;
        }
        None => {
            let stdout = std::io::stdout().lock();
            let mut w = model.write(opts, BufWriter::new(stdout))?;
            w.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
