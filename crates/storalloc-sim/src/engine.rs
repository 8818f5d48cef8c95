//! The discrete-event loop. Arrivals are the jobs' start times (each job is
//! submitted at its start, `now = start`, as in the original); end events
//! are the granted allocations' ends, handled by `Scheduler::advance`, which
//! frees their capacity. The scheduler is the same one the live
//! orchestrator runs.

use crate::input::Workload;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use storalloc_core::{
    AllocId, Decision, InvariantViolation, Scheduler, SchedulerConfig, System, Timestamp,
};

/// What happened to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The allocation window, when granted.
    pub granted: Option<(Timestamp, Timestamp)>,
    /// Retries (5-minute shifts) tried, granted or not.
    pub retries: u32,
    /// Range of this request's placements in [`Record::placements`].
    pub placements: (u32, u32),
}

/// One granted block: the flat index of its disk (node-major order, as
/// [`System::disks`]) and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlacedBlock {
    pub disk: u32,
    pub bytes: u64,
}

/// Everything the metrics need from one run.
#[derive(Debug, Clone)]
pub struct Record {
    pub outcomes: Vec<Outcome>,
    pub placements: Vec<PlacedBlock>,
    /// Bytes of allocations that `advance` reported as ended.
    pub deallocated_bytes: u128,
    pub ended_count: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("after request {index} (at {at}): {violation}")]
    Invariant {
        index: usize,
        at: Timestamp,
        violation: InvariantViolation,
    },
}

/// Called with a request's index and the scheduler's whole decision.
pub type DecisionSink<'a> = &'a mut dyn FnMut(usize, &Decision);

/// How the run is watched.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// Call `check_invariants()` after every arrival and every end step
    /// (tests); slow on large systems.
    pub check_invariants: bool,
    /// Called with (requests done, total) now and then.
    pub progress: Option<&'a mut dyn FnMut(usize, usize)>,
    /// Called with each request's index and the scheduler's whole decision
    /// (explanation included), which the [`Record`] keeps only in part:
    /// for comparing decisions with another caller of the core.
    pub on_decision: Option<DecisionSink<'a>>,
}

/// Replays `workload` on `system` under `config`.
pub fn run(
    system: &System,
    config: &SchedulerConfig,
    workload: &Workload,
    mut opts: RunOptions<'_>,
) -> Result<Record, SimError> {
    let mut sched = Scheduler::new(system.clone(), config.clone());
    let disk_base = disk_bases(system);
    let n = workload.jobs.len();
    let mut rec = Record {
        outcomes: Vec::with_capacity(n),
        placements: Vec::with_capacity(n),
        deallocated_bytes: 0,
        ended_count: 0,
    };
    let mut ends: BinaryHeap<Reverse<Timestamp>> = BinaryHeap::new();
    let check_inv = opts.check_invariants;
    let check = |sched: &Scheduler, index: usize, at: Timestamp| -> Result<(), SimError> {
        if check_inv {
            sched
                .check_invariants()
                .map_err(|violation| SimError::Invariant {
                    index,
                    at,
                    violation,
                })?;
        }
        Ok(())
    };
    let step = (n / 200).max(1);
    for (i, job) in workload.jobs.iter().enumerate() {
        let now = job.start;
        if ends.peek().is_some_and(|Reverse(t)| *t <= now) {
            while ends.peek().is_some_and(|Reverse(t)| *t <= now) {
                ends.pop();
            }
            end_step(&mut sched, &mut rec, workload, now);
            check(&sched, i, now)?;
        }
        let decision = sched.submit(AllocId(i as u64), &job.request(), now);
        let first = rec.placements.len() as u32;
        let outcome = match &decision {
            Decision::Granted(g) => {
                let a = &g.allocation;
                for p in &a.placements {
                    rec.placements.push(PlacedBlock {
                        disk: disk_base[p.disk.node as usize] + p.disk.disk,
                        bytes: p.capacity.0,
                    });
                }
                ends.push(Reverse(a.end));
                Outcome {
                    granted: Some((a.start, a.end)),
                    retries: g.retries,
                    placements: (first, rec.placements.len() as u32),
                }
            }
            Decision::Refused(r) => Outcome {
                granted: None,
                retries: r.retries,
                placements: (first, first),
            },
        };
        rec.outcomes.push(outcome);
        if let Some(f) = opts.on_decision.as_mut() {
            f(i, &decision);
        }
        check(&sched, i, now)?;
        if let Some(p) = opts.progress.as_mut() {
            if i % step == 0 {
                p(i, n);
            }
        }
    }
    // Run the clock out so every allocation ends and is reclaimed.
    if let Some(last) = ends.into_iter().map(|Reverse(t)| t).max() {
        end_step(&mut sched, &mut rec, workload, last);
        check(&sched, n, last)?;
    }
    if let Some(p) = opts.progress.as_mut() {
        p(n, n);
    }
    Ok(rec)
}

fn end_step(sched: &mut Scheduler, rec: &mut Record, workload: &Workload, now: Timestamp) {
    for id in sched.advance(now) {
        if let Some(job) = workload.jobs.get(id.0 as usize) {
            rec.deallocated_bytes += job.capacity.0 as u128;
            rec.ended_count += 1;
        }
    }
}

/// The flat index of each node's first disk.
pub fn disk_bases(system: &System) -> Vec<u32> {
    let mut base = 0u32;
    system
        .nodes
        .iter()
        .map(|n| {
            let b = base;
            base += n.disks.len() as u32;
            b
        })
        .collect()
}
