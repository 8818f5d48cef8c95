//! The simulator and the orchestrator decide alike. The real trace
//! theta2022_week4 (all of its 211 requests) goes through `storalloc-sim`
//! and through the orchestrator's engine (memory store, recording comm,
//! manual clock, the system's nodes registered with what their agents send,
//! every command answered as agents would), on two real systems, under every
//! strategy and three scheduler settings with the same seed. Every request
//! must get the identical decision from both: the same placements (node,
//! disk, bytes per block), start, end, delay, retries and explanation,
//! granted or refused.
//!
//! Both sides run the same `storalloc_core::Scheduler`, so a difference can
//! only come from how each one feeds it: the system (registration versus
//! the system file), the request (the engine's `StorageRequest` versus the
//! simulator's mapping of a job), the time a request is decided at, and the
//! order of arrivals. Capacity given back when grants end does not change a
//! decision (the calendars are per time), so the end of each run checks it
//! apart: both sides ended every grant and the engine holds nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use storalloc_core::{Bytes, Decision, Node, SchedulerConfig, StrategyKind, System};
use storalloc_orchestrator::lifecycle::{CommandOutcome, Registration};
use storalloc_orchestrator::model::{
    AllocState, AllocationRecord, Owner, StateName, StorageRequest,
};
use storalloc_orchestrator::service::convert;
use storalloc_orchestrator::store::HistoryQuery;
use storalloc_orchestrator::{Engine, EngineConfig, ManualClock, MemoryStore, RecordingComm};
use storalloc_proto::v1::RegisterRequest;
use storalloc_sim::{Record, RunOptions, Workload};
use storalloc_traces::{MappingOptions, ReadOptions};

const TRACE: &str = "traces/theta2022_week4.yaml";
/// 4 nodes of 2 disks of 250 GB: small enough for this week of Theta that
/// every strategy refuses requests under every configuration below, some
/// for want of room at the time (not only for being larger than a disk),
/// and starts some late.
const SMALL: &str = "systems/infra2TB/multi_node_multi_disk.yml";
/// 6 nodes of unlike disks (1600 GB at 2.93 GB/s, 2000 GB at 0.05 GB/s)
/// and unlike links (12.5 and 25 GB/s): the strategies that weigh capacity
/// or bandwidth see the figures each side took from the system file.
const UNLIKE: &str = "systems/infra32TBBB/multi_node_multi_disk.yml";
const SEED: u64 = 7;

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

/// One decision, in terms both sides can state.
#[derive(Debug, Clone, PartialEq)]
enum Said {
    Granted {
        start: i64,
        end: i64,
        delay_s: u64,
        retries: u32,
        /// (node, disk, bytes) per block, in block order.
        blocks: Vec<(u32, u32, u64)>,
        explanation: String,
    },
    Refused {
        retries: u32,
        explanation: String,
    },
}

impl Said {
    fn of_core(d: &Decision) -> Said {
        match d {
            Decision::Granted(g) => Said::Granted {
                start: g.allocation.start.0,
                end: g.allocation.end.0,
                delay_s: g.delay.0,
                retries: g.retries,
                blocks: g
                    .allocation
                    .placements
                    .iter()
                    .map(|p| (p.disk.node, p.disk.disk, p.capacity.0))
                    .collect(),
                explanation: g.explanation.clone(),
            },
            Decision::Refused(r) => Said::Refused {
                retries: r.retries,
                explanation: r.explanation.clone(),
            },
        }
    }

    /// What the engine recorded right after the submission.
    fn of_record(a: &AllocationRecord) -> Said {
        match &a.state {
            AllocState::Granted { grant } | AllocState::Allocated { grant } => Said::Granted {
                start: grant.start_unix,
                end: grant.end_unix,
                delay_s: grant.delay_s,
                retries: grant.retries,
                blocks: grant
                    .placements
                    .iter()
                    .map(|p| (p.node, p.disk, p.capacity_bytes))
                    .collect(),
                explanation: a.explanation.clone(),
            },
            AllocState::Refused { retries } => Said::Refused {
                retries: *retries,
                explanation: a.explanation.clone(),
            },
            other => panic!(
                "allocation {} is {:?} right after its submission: {}",
                a.id,
                other.name(),
                a.explanation
            ),
        }
    }

    fn is_refused(&self) -> bool {
        matches!(self, Said::Refused { .. })
    }

    /// Refused for want of room at the time (some disk was large enough).
    fn is_crowded_out(&self) -> bool {
        matches!(self, Said::Refused { explanation, .. } if !explanation.contains("does not fit on any"))
    }

    fn is_split(&self) -> bool {
        matches!(self, Said::Granted { blocks, .. } if blocks.len() > 1)
    }

    fn is_delayed(&self) -> bool {
        matches!(self, Said::Granted { delay_s, .. } if *delay_s > 0)
    }
}

/// The simulator's decisions, in its replay order (the workload's), and
/// its record of the run.
fn simulate(system: &System, cfg: &SchedulerConfig, w: &Workload) -> (Vec<Said>, Record) {
    let mut said = Vec::with_capacity(w.jobs.len());
    let mut keep = |i: usize, d: &Decision| {
        assert_eq!(i, said.len(), "the simulator decides in workload order");
        said.push(Said::of_core(d));
    };
    let rec = storalloc_sim::run(
        system,
        cfg,
        w,
        RunOptions {
            on_decision: Some(&mut keep),
            ..RunOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", cfg.strategy));
    (said, rec)
}

/// What the node's agent sends at start (`storalloc server --simulate`),
/// as the orchestrator's gRPC edge turns it into a registration.
fn registration(n: &Node) -> Registration {
    convert::registration(RegisterRequest {
        node: Some(storalloc_agent::node::describe(n, true)),
        held: Vec::new(),
        agent_version: "differential".into(),
    })
    .unwrap()
}

type Eng = Engine<MemoryStore, RecordingComm, ManualClock>;

/// Reports every command sent since the last look as done, as agents
/// would: storage is created and released, so grants go ALLOCATED and
/// ENDED through the same paths as in production.
fn answer_commands(e: &mut Eng, comm: &RecordingComm, sessions: &HashMap<u32, String>) {
    for d in comm.take_sent() {
        e.report_result(&sessions[&d.node], d.command.id, CommandOutcome::Ok(None))
            .unwrap();
    }
    e.commit().unwrap();
}

/// The orchestrator's decisions: the system's nodes register at the first
/// arrival, in system-file order (so node ids and disk slots are the
/// simulator's indices), then each job is submitted at its arrival time,
/// in the simulator's order, with the clock set to that time.
fn orchestrate(system: &System, cfg: &SchedulerConfig, w: &Workload) -> (Vec<Said>, Eng) {
    let first = w.jobs.first().expect("the trace has jobs").start.0;
    let clock = ManualClock::new(first);
    let comm = RecordingComm::new();
    let mut ecfg = EngineConfig::new(cfg.clone());
    // The manual clock jumps a week without a heartbeat: nodes must stay up.
    ecfg.heartbeat_timeout_s = u32::MAX;
    let mut e = Engine::open(MemoryStore::new(), comm.clone(), clock.clone(), ecfg).unwrap();
    let mut sessions = HashMap::new();
    for (i, n) in system.nodes.iter().enumerate() {
        let r = e.register(registration(n)).unwrap();
        assert_eq!(r.node_id as usize, i, "node ids follow registration order");
        sessions.insert(r.node_id, r.session_id);
    }
    e.commit().unwrap();
    let mut said = Vec::with_capacity(w.jobs.len());
    for (i, job) in w.jobs.iter().enumerate() {
        clock.set(job.start.0);
        e.tick();
        // Half the jobs name their start, half leave it to "now": both
        // must map to the simulator's start, the arrival time.
        let req = StorageRequest {
            capacity_bytes: job.capacity.0,
            duration_s: job.duration.0,
            start_unix: (i % 2 == 0).then_some(job.start.0),
            ..StorageRequest::default()
        };
        let (a, duplicate) = e
            .submit(format!("job-{i}"), req, Owner::default())
            .unwrap_or_else(|err| panic!("{}: job {i}: {err}", cfg.strategy));
        assert!(!duplicate);
        e.commit().unwrap();
        said.push(Said::of_record(&a));
        answer_commands(&mut e, &comm, &sessions);
    }
    // Let every grant run out, as the simulator does at the end.
    let last_end = said
        .iter()
        .filter_map(|s| match s {
            Said::Granted { end, .. } => Some(*end),
            Said::Refused { .. } => None,
        })
        .max()
        .unwrap_or(first);
    clock.set(last_end.max(first));
    e.tick();
    e.commit().unwrap();
    answer_commands(&mut e, &comm, &sessions);
    (said, e)
}

fn workload() -> Workload {
    Workload::load(
        &shared(TRACE),
        ReadOptions::default(),
        MappingOptions::default(),
    )
    .unwrap()
}

fn system(rel: &str) -> System {
    storalloc_config::load_system(&shared(rel)).unwrap().system
}

/// Compares two runs job by job; the message names the first difference.
fn first_difference(sim: &[Said], orch: &[Said], w: &Workload) -> Option<String> {
    if sim.len() != orch.len() {
        return Some(format!(
            "the simulator decided {} requests, the orchestrator {}",
            sim.len(),
            orch.len()
        ));
    }
    sim.iter()
        .zip(orch)
        .enumerate()
        .find(|(_, (s, o))| s != o)
        .map(|(i, (s, o))| {
            let j = &w.jobs[i];
            format!(
                "job {i} ({} for {} from {}):\n  simulator:    {s:?}\n  orchestrator: {o:?}",
                j.capacity, j.duration, j.start.0
            )
        })
}

/// The scheduler settings each strategy runs under: (block size, retry).
const SETTINGS: [(Option<u64>, bool); 3] = [
    // Whole requests, retried in 5-minute steps for up to 55 minutes;
    // those larger than any disk are refused.
    (None, true),
    // A third of the requests split into 50 GB blocks over several disks,
    // and the disks fill up.
    (Some(50), true),
    // Fewer, larger blocks, no retry.
    (Some(200), false),
];

/// What one system's runs amounted to, over every strategy and setting.
#[derive(Default)]
struct Tally {
    refused: usize,
    /// Refused for want of room at the time, not for being too large.
    crowded: usize,
    delayed: usize,
    split: usize,
}

/// Runs every strategy under every setting on `sys_file` through both
/// sides, asserts the decisions are identical, and counts what happened.
fn compare_on(sys_file: &str, w: &Workload) -> Tally {
    let sys = system(sys_file);
    let mut tally = Tally::default();
    for kind in StrategyKind::ALL {
        for (block_gb, allow_retry) in SETTINGS {
            let cfg = SchedulerConfig {
                strategy: kind,
                block_size: block_gb.map(Bytes::from_gb),
                allow_retry,
                seed: SEED,
            };
            let ctx =
                format!("{sys_file}, {kind}, block size {block_gb:?} GB, retry {allow_retry}");
            let (sim, rec) = simulate(&sys, &cfg, w);
            let (orch, mut e) = orchestrate(&sys, &cfg, w);
            if let Some(d) = first_difference(&sim, &orch, w) {
                panic!("{ctx}: the simulator and the orchestrator disagree on {d}");
            }
            let refused = sim.iter().filter(|s| s.is_refused()).count();
            assert!(refused < sim.len(), "{ctx}: everything was refused");
            tally.refused += refused;
            tally.crowded += sim.iter().filter(|s| s.is_crowded_out()).count();
            tally.delayed += sim.iter().filter(|s| s.is_delayed()).count();
            tally.split += sim.iter().filter(|s| s.is_split()).count();
            // Every grant ran out and gave its capacity back on both sides.
            let granted = sim.len() - refused;
            assert_eq!(rec.ended_count as usize, granted, "{ctx}");
            e.check_invariants().unwrap();
            assert_eq!(e.world().scheduler().live_count(), 0, "{ctx}");
            assert_eq!(finished(&mut e), (granted, refused), "{ctx}");
            if sys_file == SMALL {
                // A run where everything is granted at once would prove little.
                assert!(refused > 0, "{ctx}: nothing was refused");
            }
        }
    }
    tally
}

#[test]
fn the_simulator_and_the_orchestrator_decide_every_request_alike() {
    let w = workload();
    assert!(w.jobs.len() > 200, "the trace gives {} jobs", w.jobs.len());
    let small = compare_on(SMALL, &w);
    assert!(small.crowded > 0, "no request was refused for want of room");
    assert!(small.delayed > 0, "no request started late");
    assert!(small.split > 0, "no request was split");
    let unlike = compare_on(UNLIKE, &w);
    assert!(unlike.refused > 0 && unlike.split > 0);
}

/// How many allocations the engine ended and refused, in memory or archived.
fn finished(e: &mut Eng) -> (usize, usize) {
    let page = e
        .history(&HistoryQuery {
            limit: 5000,
            ..HistoryQuery::default()
        })
        .unwrap();
    assert_eq!(page.next_after_id, None, "one page holds them all");
    let count = |name| {
        page.allocations
            .iter()
            .filter(|a| a.state_name() == name)
            .count()
    };
    assert_eq!(
        count(StateName::Ended) + count(StateName::Refused),
        page.allocations.len(),
        "every allocation ended or was refused"
    );
    (count(StateName::Ended), count(StateName::Refused))
}
