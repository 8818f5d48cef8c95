//! `storalloc bench`: N concurrent clients submit over gRPC to a local
//! orchestrator (in this process, durable SQLite commits) whose simulated
//! system has many nodes; prints grants per second and submit latency.
//! `storalloc bench retention` is in `cmd_bench_retention`.

use crate::cmd_demo::start_local;
use crate::orchestrator_args::runtime;
use anyhow::Context;
use clap::{Args, Subcommand};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use storalloc_client::v1 as pb;
use storalloc_client::{Client, RetryPolicy};
use storalloc_core::{
    Bandwidth, Bytes, Disk, Node, SchedulerConfig, StrategyKind, System, TimeSpan,
};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    /// Without a subcommand, the grants/s benchmark below.
    #[command(subcommand)]
    pub what: Option<BenchCmd>,
    /// Concurrent clients, each with its own connection.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Requests in total, spread over the clients.
    #[arg(long, default_value_t = 20_000)]
    pub requests: usize,
    /// Simulated storage servers, each with its own agent task.
    #[arg(long, default_value_t = 1000)]
    pub nodes: usize,
    #[arg(long, default_value_t = 8)]
    pub disks_per_node: usize,
    /// Each disk's capacity.
    #[arg(long, default_value = "1TB")]
    pub disk_size: String,
    /// Each request's capacity.
    #[arg(long, default_value = "10")]
    pub size: String,
    /// Each request's duration.
    #[arg(long, default_value = "1:00:00")]
    pub time: String,
    #[arg(long, default_value = "round_robin")]
    pub strategy: String,
    /// Keep the orchestrator's state here instead of a temporary dir.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<std::path::PathBuf>,
    /// Also wait until every grant is confirmed by its (simulated) server.
    #[arg(long)]
    pub wait_allocated: bool,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// Finish many allocations in the engine (no gRPC) and show that RSS,
    /// `status` latency and the `/api/state` size do not grow with them.
    Retention(crate::cmd_bench_retention::RetentionArgs),
}

fn bench_system(nodes: usize, disks: usize, capacity: Bytes) -> System {
    System {
        nodes: (0..nodes)
            .map(|n| Node {
                hostname: format!("bench{n:04}"),
                ipv4: "127.0.0.1".into(),
                network_bw: Bandwidth(12.5),
                disks: (0..disks)
                    .map(|_| Disk::simple(capacity, 2.93, 3.13))
                    .collect(),
            })
            .collect(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// What the clients saw.
struct Outcome {
    latencies: Vec<Duration>,
    granted: usize,
    refused: usize,
    elapsed: Duration,
}

pub fn run(mut a: BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(BenchCmd::Retention(r)) = a.what.take() {
        return crate::cmd_bench_retention::run(r);
    }
    anyhow::ensure!(
        a.clients > 0 && a.requests > 0 && a.nodes > 0 && a.disks_per_node > 0,
        "--clients, --requests, --nodes and --disks-per-node must be positive"
    );
    let parse_err = |opt: &str, e: &dyn std::fmt::Display| anyhow::anyhow!("{opt}: {e}");
    let disk_size: Bytes = a
        .disk_size
        .parse()
        .map_err(|e| parse_err("--disk-size", &e))?;
    let size: Bytes = a.size.parse().map_err(|e| parse_err("--size", &e))?;
    let time: TimeSpan = a.time.parse().map_err(|e| parse_err("--time", &e))?;
    let strategy: StrategyKind = a
        .strategy
        .parse()
        .map_err(|e| parse_err("--strategy", &e))?;
    // The in-process orchestrator authenticates nobody, so a MUNGE credential
    // per call would only measure munged. Set before any thread starts.
    if std::env::var_os("STORALLOC_AUTH").is_none() {
        std::env::set_var("STORALLOC_AUTH", "none");
    }
    let tmp = tempfile::tempdir()?;
    let state_dir = a
        .state_dir
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&state_dir)?;
    let req = pb::StorageRequest {
        capacity_bytes: size.get(),
        duration_s: time.secs(),
        ..Default::default()
    };
    runtime()?.block_on(async move {
        let system = bench_system(a.nodes, a.disks_per_node, disk_size);
        let mut sched = SchedulerConfig::new(strategy);
        sched.seed = 1;
        let t0 = Instant::now();
        let local = start_local(&system, sched, &state_dir, 30, None).await?;
        if !a.json {
            eprintln!(
                "bench: {} nodes × {} disks registered in {:.2?}; {} clients, {} requests \
                 of {size} for {time}, strategy {strategy}",
                a.nodes,
                a.disks_per_node,
                t0.elapsed(),
                a.clients,
                a.requests
            );
        }
        let start = Instant::now();
        let out = drive(&local.client_addr, a.clients, a.requests, req).await?;
        let allocated_after = if a.wait_allocated {
            wait_allocated(&local.client_addr, out.granted, start).await?
        } else {
            None
        };
        local.shutdown().await?;
        report(&a, strategy, &out, allocated_after);
        Ok(ExitCode::SUCCESS)
    })
}

/// `clients` concurrent clients, one connection each, submit `requests` in all.
async fn drive(
    addr: &str,
    clients: usize,
    requests: usize,
    req: pb::StorageRequest,
) -> anyhow::Result<Outcome> {
    // Open the connections outside the measurement.
    let conns: Vec<Client> = (0..clients)
        .map(|_| Client::new(addr, RetryPolicy::default()))
        .collect::<Result<_, _>>()?;
    for c in &conns {
        c.status().await?;
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (i, c) in conns.into_iter().enumerate() {
        let n = requests / clients + usize::from(i < requests % clients);
        let req = req.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(n);
            let mut granted = 0usize;
            for _ in 0..n {
                let id = storalloc_client::new_request_id();
                let t = Instant::now();
                let r = c.submit(&id, req.clone()).await?;
                lat.push(t.elapsed());
                let state = r.allocation.map(|x| x.state());
                if matches!(
                    state,
                    Some(pb::AllocationState::Granted | pb::AllocationState::Allocated)
                ) {
                    granted += 1;
                }
            }
            Ok::<_, storalloc_client::ClientError>((lat, granted))
        }));
    }
    let mut out = Outcome {
        latencies: Vec::with_capacity(requests),
        granted: 0,
        refused: 0,
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        let (lat, granted) = t.await.context("client task")??;
        out.refused += lat.len() - granted;
        out.granted += granted;
        out.latencies.extend(lat);
    }
    out.elapsed = start.elapsed();
    out.latencies.sort();
    Ok(out)
}

/// How long after `start` every one of `granted` allocations was ALLOCATED.
async fn wait_allocated(
    addr: &str,
    granted: usize,
    start: Instant,
) -> anyhow::Result<Option<Duration>> {
    let c = Client::new(addr, RetryPolicy::default())?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let all = c.list(false).await?;
        let done = all
            .iter()
            .filter(|x| x.state() == pb::AllocationState::Allocated)
            .count();
        if done >= granted {
            return Ok(Some(start.elapsed()));
        }
        if Instant::now() > deadline {
            eprintln!("bench: only {done} of {granted} allocations confirmed after 120 s");
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn report(a: &BenchArgs, strategy: StrategyKind, out: &Outcome, allocated: Option<Duration>) {
    let rate = out.granted as f64 / out.elapsed.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let lat = &out.latencies;
    let (p50, p99) = (percentile(lat, 0.50), percentile(lat, 0.99));
    let max = lat.last().copied().unwrap_or(Duration::ZERO);
    if a.json {
        let v = serde_json::json!({
            "nodes": a.nodes,
            "disks_per_node": a.disks_per_node,
            "clients": a.clients,
            "requests": a.requests,
            "granted": out.granted,
            "refused": out.refused,
            "elapsed_s": out.elapsed.as_secs_f64(),
            "grants_per_s": rate,
            "p50_ms": ms(p50),
            "p99_ms": ms(p99),
            "max_ms": ms(max),
            "strategy": strategy.to_string(),
            "all_allocated_s": allocated.map(|d| d.as_secs_f64()),
        });
        println!("{v}");
        return;
    }
    println!(
        "requests   {} ({} granted, {} refused) in {:.2?}",
        a.requests, out.granted, out.refused, out.elapsed
    );
    println!("grants/s   {rate:.0}");
    println!(
        "latency    p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(p50),
        ms(p99),
        ms(max)
    );
    if let Some(d) = allocated {
        println!("allocated  every grant confirmed by its server {d:.2?} after the first submit");
    }
}
