//! `storalloc sim-client`: replay a job trace against a LIVE orchestrator,
//! as the original's interactive simulation mode did, and print a summary.
//!
//! Trace time is mapped onto the wall clock: the first job starts about a
//! second after the replay begins, and gaps and durations are divided by
//! `--speedup`, so a week of trace can be replayed in minutes. Capacities are
//! replayed as they are. Each job is submitted at its (scaled) start time, as
//! the original replayer did, with a fresh request id per replay.

use crate::orchestrator_args::{runtime, OrchestratorArgs};
use anyhow::{bail, Context};
use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use storalloc_client::v1 as pb;
use storalloc_client::{Client, RetryPolicy};
use storalloc_core::{Bytes, Request, TimeSpan};
use storalloc_traces::{CapacityFrom, DurationFrom, IOJob, MappingOptions, ReadOptions};

#[derive(Args, Debug)]
pub struct SimClientArgs {
    #[command(flatten)]
    pub at: OrchestratorArgs,
    /// The job trace: the original's IOJobs.yml or the Theta per-job YAML.
    #[arg(short = 'j', long = "jobs", value_name = "TRACE")]
    pub jobs: PathBuf,
    /// Replay this many times faster than the trace (gaps and durations are
    /// divided by it). 1 replays in real time.
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    pub speedup: f64,
    /// Skip malformed jobs (and report them) instead of stopping.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Capacity from max(read, written) (the original), their sum, read or written.
    #[arg(long, value_name = "max|sum|read|written", default_value = "max")]
    pub capacity_from: CapacityFrom,
    /// Duration from the job's runtime (the original) or its requested walltime.
    #[arg(long, value_name = "runtime|walltime", default_value = "runtime")]
    pub duration_from: DurationFrom,
    /// At most this many submissions in flight at once.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub concurrency: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One job ready to replay: when to send it (seconds after the replay
/// starts) and what to ask for.
struct Planned {
    index: usize,
    job_id: String,
    offset: Duration,
    capacity: Bytes,
    duration: TimeSpan,
}

/// What happened to one submission.
enum Outcome {
    Granted { bytes: u64, delay_s: u64 },
    Refused(String),
    Error(String),
}

#[derive(Serialize, Default)]
struct Summary {
    trace: String,
    speedup: f64,
    jobs_read: usize,
    jobs_invalid: usize,
    jobs_without_request: BTreeMap<String, usize>,
    submitted: usize,
    granted: usize,
    refused: usize,
    errors: usize,
    delayed: usize,
    granted_gb: f64,
    total_delay_minutes: f64,
    refusal_reasons: BTreeMap<String, usize>,
    first_errors: Vec<String>,
    wall_seconds: f64,
}

pub fn run(a: SimClientArgs) -> anyhow::Result<ExitCode> {
    if !(a.speedup.is_finite() && a.speedup > 0.0) {
        bail!("--speedup: expected a positive number, got {}", a.speedup);
    }
    if a.concurrency == 0 {
        bail!("--concurrency: expected at least 1");
    }
    let mapping = MappingOptions {
        capacity_from: a.capacity_from,
        duration_from: a.duration_from,
    };
    let mut summary = Summary {
        trace: a.jobs.display().to_string(),
        speedup: a.speedup,
        ..Summary::default()
    };
    let plan = plan(&a, mapping, &mut summary)?;
    if let Some(last) = plan.last() {
        eprintln!(
            "storalloc: replaying {} requests from {} over {} of wall time (speedup {})",
            plan.len(),
            a.jobs.display(),
            TimeSpan(last.offset.as_secs()),
            a.speedup
        );
    }
    let rt = runtime()?;
    let started = std::time::Instant::now();
    let outcomes = rt.block_on(async {
        let client = a.at.client(RetryPolicy::default()).await?;
        replay(client, plan, a.concurrency).await
    })?;
    summary.wall_seconds = started.elapsed().as_secs_f64();
    tally(&mut summary, outcomes);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary);
    }
    Ok(if summary.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Reads the trace and turns every job into a planned submission, in start order.
fn plan(
    a: &SimClientArgs,
    mapping: MappingOptions,
    summary: &mut Summary,
) -> anyhow::Result<Vec<Planned>> {
    let mut jobs: Vec<(usize, IOJob)> = Vec::new();
    let read = storalloc_traces::read_trace(
        &a.jobs,
        ReadOptions {
            skip_invalid: a.skip_invalid,
        },
        |job| jobs.push((jobs.len(), job)),
    )
    // The trace's errors name the file.
    .context("reading the trace")?;
    summary.jobs_read = read.jobs_read;
    summary.jobs_invalid = read.jobs_skipped;
    let mut requests: Vec<(usize, String, Request)> = Vec::new();
    for (index, job) in jobs {
        match mapping.request(&job) {
            Ok(r) => requests.push((index, job.id.to_string(), r)),
            Err(reason) => {
                *summary
                    .jobs_without_request
                    .entry(reason.name().to_string())
                    .or_default() += 1
            }
        }
    }
    requests.sort_by_key(|(index, _, r)| (r.earliest_start, *index));
    let Some(origin) = requests.first().map(|(_, _, r)| r.earliest_start) else {
        return Ok(Vec::new());
    };
    Ok(requests
        .into_iter()
        .map(|(index, job_id, r)| Planned {
            index,
            job_id,
            offset: Duration::from_secs_f64(
                r.earliest_start.since(origin).secs() as f64 / a.speedup,
            ),
            capacity: r.capacity,
            // The orchestrator works in whole seconds; never ask for zero.
            duration: TimeSpan(((r.duration.secs() as f64 / a.speedup).round() as u64).max(1)),
        })
        .collect())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn replay(
    client: Client,
    plan: Vec<Planned>,
    concurrency: usize,
) -> anyhow::Result<Vec<(Planned, Outcome)>> {
    // A prefix per replay, so replaying the same trace twice against one
    // orchestrator is two replays, not one deduplicated one.
    let run_id = storalloc_client::new_request_id();
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let t0 = tokio::time::Instant::now() + Duration::from_secs(1);
    let mut tasks = Vec::with_capacity(plan.len());
    for p in plan {
        tokio::time::sleep_until(t0 + p.offset).await;
        let permit = gate.clone().acquire_owned().await?;
        let client = client.clone();
        let request_id = format!("sim-{run_id}-{}", p.index);
        tasks.push(tokio::spawn(async move {
            let req = pb::StorageRequest {
                capacity_bytes: p.capacity.get(),
                duration_s: p.duration.secs(),
                start_unix: Some(unix_now()),
                ..Default::default()
            };
            let outcome = match client.submit(&request_id, req).await {
                Ok(resp) => outcome_of(resp.allocation.unwrap_or_default()),
                Err(e) => Outcome::Error(format!("job {} (#{}): {e}", p.job_id, p.index)),
            };
            drop(permit);
            (p, outcome)
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await?);
    }
    Ok(out)
}

fn outcome_of(a: pb::Allocation) -> Outcome {
    use pb::AllocationState as S;
    match a.state() {
        S::Granted | S::Allocated | S::Ended => Outcome::Granted {
            bytes: a.placements.iter().map(|p| p.capacity_bytes).sum(),
            delay_s: a.delay_s,
        },
        S::Refused => Outcome::Refused(a.explanation),
        other => Outcome::Error(format!(
            "allocation {} is {}: {}",
            a.id,
            storalloc_client::json::allocation_state_name(other),
            a.explanation
        )),
    }
}

/// The refusal's kind, without its numbers, so similar refusals group.
fn refusal_kind(explanation: &str) -> String {
    let head = explanation.split(';').next().unwrap_or(explanation);
    head.split_whitespace()
        .filter(|w| !w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .take(6)
        .collect::<Vec<_>>()
        .join(" ")
}

fn tally(s: &mut Summary, outcomes: Vec<(Planned, Outcome)>) {
    for (_, o) in outcomes {
        s.submitted += 1;
        match o {
            Outcome::Granted { bytes, delay_s } => {
                s.granted += 1;
                s.granted_gb += bytes as f64 / Bytes::GB as f64;
                if delay_s > 0 {
                    s.delayed += 1;
                    s.total_delay_minutes += delay_s as f64 / 60.0;
                }
            }
            Outcome::Refused(why) => {
                s.refused += 1;
                *s.refusal_reasons.entry(refusal_kind(&why)).or_default() += 1;
            }
            Outcome::Error(e) => {
                s.errors += 1;
                if s.first_errors.len() < 10 {
                    s.first_errors.push(e);
                }
            }
        }
    }
}

fn print_summary(s: &Summary) {
    println!("replayed {} (speedup {})", s.trace, s.speedup);
    println!(
        "  jobs read: {}, invalid (skipped): {}",
        s.jobs_read, s.jobs_invalid
    );
    for (why, n) in &s.jobs_without_request {
        println!("  jobs without a request ({why}): {n}");
    }
    println!(
        "  submitted: {}, granted: {}, refused: {}, errors: {}",
        s.submitted, s.granted, s.refused, s.errors
    );
    println!(
        "  granted: {:.3} GB; delayed: {} ({:.1} minutes in all)",
        s.granted_gb, s.delayed, s.total_delay_minutes
    );
    for (why, n) in &s.refusal_reasons {
        println!("  refused ({why}…): {n}");
    }
    for e in &s.first_errors {
        println!("  error: {e}");
    }
    println!("  wall time: {:.1} s", s.wall_seconds);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_group_by_kind_not_by_numbers() {
        let a = refusal_kind("no disk has 500 GB free between 2024-01-01 10:00:00 and 2024-01-01 11:00:00; the largest is 320 GB on node 2 disk 1");
        let b = refusal_kind("no disk has 12 GB free between 2023-05-01 10:00:00 and 2023-05-01 11:00:00; the largest is 2 GB on node 0 disk 0");
        assert_eq!(a, b);
        assert_eq!(a, "no disk has GB free between");
    }
}
