//! `storalloc simulate`: replay a job trace through the scheduling core.

use anyhow::{bail, Context};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use storalloc_core::{Bytes, Node, SchedulerConfig, StrategyKind, System};
use storalloc_sim::{replay, table, write_comparison, RunOptions, RunOutput, Workload};
use storalloc_traces::{CapacityFrom, DurationFrom, MappingOptions, ReadOptions};

#[derive(Args)]
pub struct SimulateArgs {
    /// Storage system: a system YAML file, or `uniform:NODESxDISKS:CAPACITY`
    /// (e.g. `uniform:250x4:8TB`) for a synthetic one.
    #[arg(long, value_name = "SYS")]
    system: String,
    /// Job trace: the original IOJobs.yml or the Theta per-job YAML.
    #[arg(long, value_name = "TRACE")]
    jobs: PathBuf,
    /// Orchestrator config supplying the strategy, block size and retry;
    /// the flags below override it.
    #[arg(long, value_name = "CFG")]
    config: Option<PathBuf>,
    /// A strategy name, or `all` to compare every strategy.
    #[arg(long, value_name = "NAME")]
    strategy: Option<String>,
    /// Split requests larger than SIZE into SIZE blocks (a bare number is
    /// GB); `none` never splits.
    #[arg(long, value_name = "SIZE")]
    block_size: Option<String>,
    /// Retry refused requests 5 minutes later, up to one hour (allow_retry).
    #[arg(long, conflicts_with = "no_retry")]
    retry: bool,
    /// Do not retry, whatever the config says.
    #[arg(long)]
    no_retry: bool,
    /// Seed of the strategies' random choices.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write output.yml, CSV time series and report.html here (one
    /// subdirectory per strategy with `--strategy all`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the summary as JSON on stdout instead of a table.
    #[arg(long)]
    json: bool,
    /// Skip malformed jobs (and report how many and why) instead of failing.
    #[arg(long)]
    skip_invalid: bool,
    /// Capacity of a job's request: max(read, written) as the original, their sum, or one of them.
    #[arg(long, default_value = "max", value_name = "max|sum|read|written")]
    capacity_from: CapacityFrom,
    /// Duration of a job's request: its run time (end − start) or its requested wall time.
    #[arg(long, default_value = "runtime", value_name = "runtime|walltime")]
    duration_from: DurationFrom,
    /// Check the scheduler's invariants after every step (slow; for debugging).
    #[arg(long)]
    check_invariants: bool,
}

/// `uniform:NODESxDISKS:CAPACITY`, e.g. `uniform:250x4:8TB`.
fn uniform_system(spec: &str) -> anyhow::Result<System> {
    let usage = || {
        format!("invalid synthetic system {spec:?}: expected uniform:NODESxDISKS:CAPACITY, e.g. uniform:250x4:8TB")
    };
    let mut parts = spec.splitn(3, ':').skip(1);
    let (shape, cap) = (
        parts.next().with_context(usage)?,
        parts.next().with_context(usage)?,
    );
    let (n, d) = shape.split_once('x').with_context(usage)?;
    let nodes: usize = n.parse().ok().with_context(usage)?;
    let disks: usize = d.parse().ok().with_context(usage)?;
    let capacity: Bytes = cap
        .parse()
        .map_err(|e| anyhow::anyhow!("{}: {e}", usage()))?;
    if nodes == 0 || disks == 0 || capacity == Bytes::ZERO {
        bail!("{}: nodes, disks and capacity must be positive", usage());
    }
    let mut system = System::uniform(nodes, disks, capacity);
    for (i, node) in system.nodes.iter_mut().enumerate() {
        name_node(node, i);
    }
    Ok(system)
}

fn name_node(node: &mut Node, i: usize) {
    node.hostname = format!("node{i}");
}

fn load_system(spec: &str) -> anyhow::Result<System> {
    if spec.starts_with("uniform:") {
        return uniform_system(spec);
    }
    let loaded = storalloc_config::load_system(Path::new(spec))?;
    for w in &loaded.warnings {
        eprintln!("storalloc: warning: {w}");
    }
    Ok(loaded.system)
}

fn base_config(args: &SimulateArgs) -> anyhow::Result<SchedulerConfig> {
    let mut cfg = match &args.config {
        Some(p) => {
            let loaded = storalloc_config::load_config(p)?;
            for w in &loaded.warnings {
                eprintln!("storalloc: warning: {w}");
            }
            loaded.config.scheduler_config(args.seed)
        }
        None => SchedulerConfig::new(StrategyKind::RoundRobin),
    };
    cfg.seed = args.seed;
    if let Some(b) = &args.block_size {
        cfg.block_size = if b.eq_ignore_ascii_case("none") {
            None
        } else {
            let size: Bytes = b.parse().with_context(|| format!("--block-size {b:?}"))?;
            if size == Bytes::ZERO {
                bail!("--block-size must be greater than zero (use `none` never to split)");
            }
            Some(size)
        };
    }
    if args.retry {
        cfg.allow_retry = true;
    }
    if args.no_retry {
        cfg.allow_retry = false;
    }
    Ok(cfg)
}

fn strategies(args: &SimulateArgs, base: StrategyKind) -> anyhow::Result<Vec<StrategyKind>> {
    match args.strategy.as_deref() {
        None => Ok(vec![base]),
        Some("all") => Ok(StrategyKind::ALL.to_vec()),
        Some(name) => name
            .parse::<StrategyKind>()
            .map(|k| vec![k])
            .map_err(|e| anyhow::anyhow!("{e} (or `all` to compare them)")),
    }
}

pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let base = base_config(&args)?;
    let kinds = strategies(&args, base.strategy)?;
    let system = load_system(&args.system)?;
    let mapping = MappingOptions {
        capacity_from: args.capacity_from,
        duration_from: args.duration_from,
    };
    let read = ReadOptions {
        skip_invalid: args.skip_invalid,
    };
    let t = std::time::Instant::now();
    let workload = Workload::load(&args.jobs, read, mapping)?;
    tracing::info!(
        requests = workload.jobs.len(),
        "read {} in {:.2?}",
        args.jobs.display(),
        t.elapsed()
    );
    report_skips(&workload);

    let progress = std::io::stderr().is_terminal() && !args.json;
    let mut runs: Vec<RunOutput> = Vec::new();
    for kind in &kinds {
        let config = SchedulerConfig {
            strategy: *kind,
            ..base.clone()
        };
        let dir = args.out.as_ref().map(|o| {
            if kinds.len() > 1 {
                o.join(kind.name())
            } else {
                o.clone()
            }
        });
        let mut bar = |done: usize, total: usize| {
            eprint!("\r{kind:<15} {done:>9}/{total} requests");
            let _ = std::io::stderr().flush();
        };
        let opts = RunOptions {
            check_invariants: args.check_invariants,
            progress: if progress { Some(&mut bar) } else { None },
            on_decision: None,
        };
        let t = std::time::Instant::now();
        let out = replay(&system, &config, &workload, dir.as_deref(), opts)?;
        tracing::info!(
            strategy = kind.name(),
            "simulated and wrote outputs in {:.2?}",
            t.elapsed()
        );
        if progress {
            eprintln!();
        }
        runs.push(out);
    }
    if let (Some(out), true) = (&args.out, kinds.len() > 1) {
        write_comparison(out, &runs)?;
    }

    let summaries: Vec<_> = runs.iter().map(|r| r.summary.clone()).collect();
    if args.json {
        let json = serde_json::json!({
            "trace": args.jobs.display().to_string(),
            "system": args.system,
            "jobs_read": workload.read.jobs_read,
            "jobs_skipped_invalid": workload.read.jobs_skipped,
            "skip_reasons": workload.read.skip_reasons,
            "jobs_without_request": workload.skipped,
            "block_size_bytes": base.block_size.map(|b| b.0),
            "retry": base.allow_retry,
            "seed": base.seed,
            "runs": summaries,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", table(&summaries));
        if let Some(out) = &args.out {
            println!("outputs in {}", out.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn report_skips(w: &Workload) {
    if w.read.jobs_skipped > 0 {
        let reasons: Vec<String> = w
            .read
            .skip_reasons
            .iter()
            .map(|(r, n)| format!("{n} × {r}"))
            .collect();
        eprintln!(
            "storalloc: skipped {} invalid job(s): {}",
            w.read.jobs_skipped,
            reasons.join("; ")
        );
        for e in &w.read.first_errors {
            eprintln!("  {e}");
        }
    }
    if w.skipped_total() > 0 {
        let reasons: Vec<String> = w.skipped.iter().map(|(r, n)| format!("{n} {r}")).collect();
        eprintln!(
            "storalloc: {} job(s) give no request: {}",
            w.skipped_total(),
            reasons.join(", ")
        );
    }
}
