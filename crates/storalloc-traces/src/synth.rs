//! A larger trace resampled from a real one (`storalloc traces synth`).
//!
//! Arrival gaps are drawn from the real trace's gaps between consecutive
//! start times; each job's shape (read and written bytes, duration, wait,
//! wall time, nodes, cores) is drawn from one real job as a whole, so sizes
//! and durations keep their correlation. Same input and seed, same output.

use crate::job::{IOJob, JobId};
use crate::writer::IoJobsWriter;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::{self, Write};
use storalloc_core::{TimeSpan, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthOptions {
    pub jobs: u64,
    pub seed: u64,
    /// Multiplies every arrival gap: 0.01 packs the same jobs 100× denser,
    /// to load a system larger than the one the trace came from.
    pub gap_scale: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SynthError {
    #[error("the source trace has {0} job(s): at least 2 are needed to learn arrival gaps")]
    TooFewJobs(usize),
    #[error("gap scale {0} must be a finite number ≥ 0")]
    BadGapScale(String),
}

/// What synthesis learns from the real trace.
#[derive(Debug, Clone)]
pub struct Model {
    origin: Timestamp,
    gaps: Vec<u64>,
    shapes: Vec<IOJob>,
}

impl Model {
    pub fn learn(mut jobs: Vec<IOJob>) -> Result<Model, SynthError> {
        if jobs.len() < 2 {
            return Err(SynthError::TooFewJobs(jobs.len()));
        }
        jobs.sort_by_key(|j| (j.start_time, j.end_time));
        let gaps = jobs
            .windows(2)
            .map(|w| w[1].start_time.since(w[0].start_time).0)
            .collect();
        Ok(Model {
            origin: jobs[0].start_time,
            gaps,
            shapes: jobs,
        })
    }

    /// Writes `opts.jobs` jobs with ids 1..=N as `IOJobs.yml`.
    pub fn write<W: Write>(&self, opts: SynthOptions, out: W) -> Result<W, SynthIoError> {
        if !(opts.gap_scale.is_finite() && opts.gap_scale >= 0.0) {
            return Err(SynthError::BadGapScale(opts.gap_scale.to_string()).into());
        }
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        let mut w = IoJobsWriter::new(out);
        let mut start = self.origin;
        for i in 0..opts.jobs {
            if i > 0 {
                let gap = self.gaps[rng.random_range(0..self.gaps.len())];
                start = start + TimeSpan((gap as f64 * opts.gap_scale).round() as u64);
            }
            let shape = &self.shapes[rng.random_range(0..self.shapes.len())];
            let job = IOJob {
                id: JobId::Int(i as i64 + 1),
                submission_time: shape.waiting_time.map(|wt| start - wt),
                start_time: start,
                end_time: start + shape.duration(),
                ..shape.clone()
            };
            w.write(&job)?;
        }
        Ok(w.finish()?)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SynthIoError {
    #[error(transparent)]
    Synth(#[from] SynthError),
    #[error(transparent)]
    Io(#[from] io::Error),
}
