//! `storalloc bench retention`: pushes many allocations through their whole
//! life in the real engine (in this process, durable SQLite, a hand-moved
//! clock, agents answered at once) and measures, at checkpoints, what must
//! not grow with the number finished: the process RSS, `status` latency and
//! the `/api/state` size. Finished allocations leave memory after the
//! retention period (into the history table), so these should be flat.

use anyhow::Context;
use clap::Args;
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use storalloc_core::TimeSpan;
use storalloc_orchestrator::engine::Owner;
use storalloc_orchestrator::lifecycle::{CommandOutcome, Registration};
use storalloc_orchestrator::model::{Attachment, DiskSpec, StorageRequest};
use storalloc_orchestrator::service::status_to_proto;
use storalloc_orchestrator::{Engine, EngineConfig, ManualClock, RecordingComm, SqliteStore};

const GB: u64 = 1_000_000_000;
/// The simulated clock's start (2023-11-14), any plausible time would do.
const T0: i64 = 1_700_000_000;
const DEFAULT_CHECKPOINTS: [u64; 4] = [1_000, 10_000, 100_000, 1_000_000];

#[derive(Args, Debug)]
pub struct RetentionArgs {
    /// Allocations to finish in all.
    #[arg(long, default_value_t = 1_000_000)]
    pub finished: u64,
    /// When to measure, in finished allocations, comma-separated (default
    /// 1000,10000,100000,1000000 up to --finished, and --finished itself).
    #[arg(long, value_delimiter = ',', value_name = "N,N,...")]
    pub checkpoints: Option<Vec<u64>>,
    /// The engine's retention period: seconds, or a Slurm duration.
    #[arg(long, default_value = "3600")]
    pub retention: String,
    /// Each allocation's duration (Slurm form); also the simulated time
    /// between two rounds.
    #[arg(long, default_value = "1:00:00")]
    pub time: String,
    /// Allocations submitted together in one round (one commit).
    #[arg(long, default_value_t = 1000)]
    pub batch: u64,
    /// Storage nodes registered, each with --disks-per-node disks of 1 TB.
    #[arg(long, default_value_t = 100)]
    pub nodes: usize,
    #[arg(long, default_value_t = 8)]
    pub disks_per_node: usize,
    /// `status` calls timed at each checkpoint (the median is reported).
    #[arg(long, default_value_t = 50)]
    pub samples: usize,
    /// Keep the state database here (an empty or new directory) instead of
    /// a temporary one.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<std::path::PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What one checkpoint measured.
struct Figures {
    finished: u64,
    live_in_memory: usize,
    finished_in_memory: usize,
    in_history: u64,
    rss_kib: u64,
    status_p50: Duration,
    api_state_bytes: usize,
    db_bytes: u64,
    /// Allocations finished per second of wall time since the previous
    /// checkpoint, measurements excluded.
    finished_per_s: f64,
}

type BenchEngine = Engine<SqliteStore, RecordingComm, ManualClock>;

/// The engine and what the simulated agents need to answer it.
struct Rig {
    engine: BenchEngine,
    comm: RecordingComm,
    clock: ManualClock,
    /// Each node's agent session.
    sessions: HashMap<u32, String>,
    next_request: u64,
}

/// `--retention`: seconds, or a Slurm duration, as the config key.
fn parse_seconds(opt: &str, v: &str) -> anyhow::Result<u64> {
    if let Ok(s) = v.trim().parse::<u64>() {
        return Ok(s);
    }
    v.trim().parse::<TimeSpan>().map(|t| t.secs()).map_err(|e| {
        anyhow::anyhow!("{opt}: expected seconds or a Slurm duration, got {v:?} ({e})")
    })
}

/// The checkpoints to measure at: increasing, positive, the last one
/// `finished`.
fn checkpoints(given: Option<&[u64]>, finished: u64) -> anyhow::Result<Vec<u64>> {
    let mut cps: Vec<u64> = match given {
        Some(list) => {
            for &c in list {
                anyhow::ensure!(
                    c > 0 && c <= finished,
                    "--checkpoints: {c} is not between 1 and --finished ({finished})"
                );
            }
            list.to_vec()
        }
        None => DEFAULT_CHECKPOINTS
            .iter()
            .copied()
            .filter(|&c| c <= finished)
            .collect(),
    };
    cps.push(finished);
    cps.sort_unstable();
    cps.dedup();
    Ok(cps)
}

pub fn run(a: RetentionArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        a.finished > 0 && a.batch > 0 && a.nodes > 0 && a.disks_per_node > 0 && a.samples > 0,
        "--finished, --batch, --nodes, --disks-per-node and --samples must be positive"
    );
    let retention_s = parse_seconds("--retention", &a.retention)?;
    let time: TimeSpan = a.time.parse().map_err(|e| anyhow::anyhow!("--time: {e}"))?;
    anyhow::ensure!(time.secs() > 0, "--time must be longer than 0 s");
    let cps = checkpoints(a.checkpoints.as_deref(), a.finished)?;
    let tmp = tempfile::tempdir()?;
    let state_dir = match &a.state_dir {
        Some(d) => {
            let used = d
                .read_dir()
                .map(|mut it| it.next().is_some())
                .unwrap_or(false);
            anyhow::ensure!(
                !used,
                "--state-dir {}: not empty; give a new or empty directory",
                d.display()
            );
            d.clone()
        }
        None => tmp.path().to_path_buf(),
    };
    let t0 = Instant::now();
    let mut rig = Rig::open(&state_dir, retention_s, a.nodes, a.disks_per_node)?;
    if !a.json {
        eprintln!(
            "bench retention: {} nodes × {} disks registered in {:.2?}; rounds of {} allocations \
             of 10 GB for {time}, retention {retention_s} s, state in {}",
            a.nodes,
            a.disks_per_node,
            t0.elapsed(),
            a.batch,
            state_dir.display()
        );
        print_header();
    }
    let start = Instant::now();
    let mut results = Vec::with_capacity(cps.len());
    let mut finished = 0u64;
    let mut live = 0u64;
    let mut since_cp = Instant::now();
    let mut finished_at_cp = 0u64;
    for &cp in &cps {
        loop {
            // End the round in flight, then start the next one: its size
            // makes the following round's end land on the checkpoint.
            if live > 0 {
                rig.end_round(time.secs() as i64)?;
                finished += live;
            }
            live = if finished < cp {
                a.batch.min(cp - finished)
            } else {
                a.batch
            };
            rig.start_round(live, time.secs())?;
            if finished == cp {
                break;
            }
        }
        let interval = since_cp.elapsed().as_secs_f64();
        let mut f = rig.measure(&state_dir, finished, a.samples)?;
        f.finished_per_s = (finished - finished_at_cp) as f64 / interval;
        if !a.json {
            print_row(&f);
        }
        results.push(f);
        finished_at_cp = finished;
        since_cp = Instant::now();
    }
    let elapsed = start.elapsed();
    if a.json {
        println!(
            "{}",
            to_json(&a, retention_s, time.secs(), elapsed, &results)
        );
    } else {
        println!(
            "{finished} allocations finished in {elapsed:.2?} ({:.0}/s overall, measurements included)",
            finished as f64 / elapsed.as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

impl Rig {
    fn open(dir: &Path, retention_s: u64, nodes: usize, disks: usize) -> anyhow::Result<Rig> {
        let store = SqliteStore::open(dir)?;
        let comm = RecordingComm::new();
        let clock = ManualClock::new(T0);
        let mut cfg = EngineConfig::new(storalloc_core::SchedulerConfig::new(
            storalloc_core::StrategyKind::RoundRobin,
        ));
        cfg.retention_s = retention_s;
        let mut engine = Engine::open(store, comm.clone(), clock.clone(), cfg)?;
        let mut sessions = HashMap::with_capacity(nodes);
        for n in 0..nodes {
            let r = engine
                .register(Registration {
                    hostname: format!("bench{n:04}"),
                    address: "127.0.0.1".into(),
                    network_bw_gbps: 12.5,
                    disks: (0..disks)
                        .map(|_| DiskSpec {
                            capacity_bytes: 1000 * GB,
                            write_bw_gbps: 2.93,
                            read_bw_gbps: 3.13,
                            backend: "simulate".into(),
                            ..Default::default()
                        })
                        .collect(),
                    held: vec![],
                })
                .map_err(|e| anyhow::anyhow!("registering bench{n:04}: {e}"))?;
            engine
                .open_commands(&r.session_id)
                .map_err(|e| anyhow::anyhow!("opening bench{n:04}'s command stream: {e}"))?;
            sessions.insert(r.node_id, r.session_id);
        }
        engine.commit()?;
        comm.take();
        Ok(Rig {
            engine,
            comm,
            clock,
            sessions,
            next_request: 0,
        })
    }

    /// Submits `n` allocations now, commits once, and has their agents
    /// create the storage (and answer the Releases of the round that just
    /// ended), so nothing is left owed.
    fn start_round(&mut self, n: u64, duration_s: u64) -> anyhow::Result<()> {
        for _ in 0..n {
            self.next_request += 1;
            let request = StorageRequest {
                capacity_bytes: 10 * GB,
                duration_s,
                ..Default::default()
            };
            let owner = Owner {
                uid: 1000,
                gid: 1000,
            };
            let (a, _) = self
                .engine
                .submit(format!("bench-{}", self.next_request), request, owner)
                .map_err(|e| anyhow::anyhow!("submit: {e}"))?;
            anyhow::ensure!(
                !a.is_finished(),
                "allocation {} was {}: {}; give more --nodes or a smaller --batch",
                a.id,
                a.state_name().as_str(),
                a.explanation
            );
        }
        self.engine.commit()?;
        self.answer()
    }

    /// Time passes until the round's allocations end; their Releases are
    /// sent at the next commit.
    fn end_round(&mut self, duration_s: i64) -> anyhow::Result<()> {
        self.clock.advance(duration_s);
        for s in self.sessions.values() {
            anyhow::ensure!(self.engine.heartbeat(s), "session {s} was dropped");
        }
        self.engine.tick();
        Ok(())
    }

    /// Every simulated agent answers every command it was sent: OK.
    fn answer(&mut self) -> anyhow::Result<()> {
        for d in self.comm.take_sent() {
            let session = &self.sessions[&d.node];
            let outcome = CommandOutcome::Ok(d.command.kind.is_allocate().then(|| Attachment {
                kind: "simulated".into(),
                ..Default::default()
            }));
            self.engine
                .report_result(session, d.command.id, outcome)
                .map_err(|e| anyhow::anyhow!("result of command {}: {e}", d.command.id))?;
        }
        self.engine.commit()?;
        Ok(())
    }

    fn measure(&mut self, dir: &Path, finished: u64, samples: usize) -> anyhow::Result<Figures> {
        let mut times: Vec<Duration> = (0..samples)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(status_to_proto(&self.engine.status()));
                t.elapsed()
            })
            .collect();
        times.sort_unstable();
        let api_state_bytes =
            storalloc_orchestrator::observe::json::engine_state(&mut self.engine).len();
        let in_memory = self.engine.world().list(true);
        let live_in_memory = in_memory.iter().filter(|a| !a.is_finished()).count();
        Ok(Figures {
            finished,
            live_in_memory,
            finished_in_memory: in_memory.len() - live_in_memory,
            in_history: self.engine.store().history_len()?,
            rss_kib: rss_kib()?,
            status_p50: times[times.len() / 2],
            api_state_bytes,
            db_bytes: db_bytes(dir)?,
            finished_per_s: 0.0,
        })
    }
}

/// This process's resident set (VmRSS), in KiB.
fn rss_kib() -> anyhow::Result<u64> {
    const FILE: &str = "/proc/self/status";
    let text = std::fs::read_to_string(FILE).with_context(|| format!("reading {FILE}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("{FILE} has no readable VmRSS line"))
}

/// The state database's size on disk, its write-ahead log included.
fn db_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for f in ["state.sqlite3", "state.sqlite3-wal"] {
        let p = dir.join(f);
        match std::fs::metadata(&p) {
            Ok(m) => total += m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("{}", p.display())),
        }
    }
    Ok(total)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn print_header() {
    println!(
        "{:>10}  {:>12}  {:>10}  {:>8}  {:>10}  {:>11}  {:>9}  {:>10}",
        "finished",
        "in memory",
        "history",
        "RSS MiB",
        "status p50",
        "/api/state",
        "DB MiB",
        "finished/s"
    );
    println!("{:>10}  {:>12}", "", "live/finished");
}

fn print_row(f: &Figures) {
    let mib = |kib: f64| kib / 1024.0;
    println!(
        "{:>10}  {:>12}  {:>10}  {:>8.1}  {:>7.2} ms  {:>9} B  {:>9.1}  {:>10.0}",
        f.finished,
        format!("{}/{}", f.live_in_memory, f.finished_in_memory),
        f.in_history,
        mib(f.rss_kib as f64),
        ms(f.status_p50),
        f.api_state_bytes,
        mib(f.db_bytes as f64 / 1024.0),
        f.finished_per_s
    );
}

fn to_json(
    a: &RetentionArgs,
    retention_s: u64,
    time_s: u64,
    elapsed: Duration,
    results: &[Figures],
) -> serde_json::Value {
    serde_json::json!({
        "nodes": a.nodes,
        "disks_per_node": a.disks_per_node,
        "batch": a.batch,
        "time_s": time_s,
        "retention_s": retention_s,
        "finished": a.finished,
        "elapsed_s": elapsed.as_secs_f64(),
        "checkpoints": results.iter().map(|f| serde_json::json!({
            "finished": f.finished,
            "live_in_memory": f.live_in_memory,
            "finished_in_memory": f.finished_in_memory,
            "in_history": f.in_history,
            "rss_kib": f.rss_kib,
            "status_p50_ms": ms(f.status_p50),
            "api_state_bytes": f.api_state_bytes,
            "db_bytes": f.db_bytes,
            "finished_per_s": f.finished_per_s,
        })).collect::<Vec<_>>(),
    })
}
