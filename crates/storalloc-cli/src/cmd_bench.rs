//! `storalloc bench`: N concurrent clients submit over gRPC to a local
//! orchestrator (in this process, durable SQLite commits) whose simulated
//! system has many nodes; prints grants per second and submit latency.

use crate::cmd_client::runtime;
use crate::cmd_demo::start_local;
use anyhow::Context;
use clap::Args;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use storalloc_client::v1 as pb;
use storalloc_client::{Client, RetryPolicy};
use storalloc_core::{
    Bandwidth, Bytes, Disk, Node, SchedulerConfig, StrategyKind, System, TimeSpan,
};

#[derive(Args, Debug)]
pub struct BenchArgs {
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

pub fn run(a: BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        a.clients > 0 && a.requests > 0 && a.nodes > 0 && a.disks_per_node > 0,
        "--clients, --requests, --nodes and --disks-per-node must be positive"
    );
    let disk_size: Bytes = a
        .disk_size
        .parse()
        .map_err(|e| anyhow::anyhow!("--disk-size: {e}"))?;
    let size: Bytes = a.size.parse().map_err(|e| anyhow::anyhow!("--size: {e}"))?;
    let time: TimeSpan = a.time.parse().map_err(|e| anyhow::anyhow!("--time: {e}"))?;
    let strategy: StrategyKind = a
        .strategy
        .parse()
        .map_err(|e| anyhow::anyhow!("--strategy: {e}"))?;
    let system = bench_system(a.nodes, a.disks_per_node, disk_size);
    let tmp = tempfile::tempdir()?;
    let state_dir = a
        .state_dir
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&state_dir)?;
    runtime()?.block_on(async move {
        let t0 = Instant::now();
        let mut sched = SchedulerConfig::new(strategy);
        sched.seed = 1;
        let local = start_local(&system, sched, &state_dir, 5, None).await?;
        let setup = t0.elapsed();
        if !a.json {
            eprintln!(
                "bench: {} nodes × {} disks registered in {:.2?}; {} clients × {} requests of {} for {}, strategy {}",
                a.nodes, a.disks_per_node, setup, a.clients, a.requests, size, time, strategy
            );
        }
        let req = pb::StorageRequest {
            capacity_bytes: size.get(),
            duration_s: time.secs(),
            ..Default::default()
        };
        // Warm the connections and the engine outside the measurement.
        let clients: Vec<Client> = (0..a.clients)
            .map(|_| Client::new(&local.client_addr, RetryPolicy::default()))
            .collect::<Result<_, _>>()?;
        for c in &clients {
            c.status().await?;
        }
        let per = a.requests / a.clients;
        let extra = a.requests % a.clients;
        let start = Instant::now();
        let mut tasks = Vec::new();
        for (i, c) in clients.into_iter().enumerate() {
            let n = per + usize::from(i < extra);
            let req = req.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::with_capacity(n);
                let mut granted = Vec::with_capacity(n);
                let mut refused = 0usize;
                for _ in 0..n {
                    let id = storalloc_client::new_request_id();
                    let t = Instant::now();
                    let r = c.submit(&id, req.clone()).await?;
                    lat.push(t.elapsed());
                    match r.allocation.map(|x| (x.id, x.state())) {
                        Some((id, pb::AllocationState::Granted | pb::AllocationState::Allocated)) => granted.push(id),
                        _ => refused += 1,
                    }
                }
                Ok::<_, storalloc_client::ClientError>((lat, granted, refused))
            }));
        }
        let mut lat = Vec::with_capacity(a.requests);
        let mut granted = Vec::new();
        let mut refused = 0;
        for t in tasks {
            let (l, g, r) = t.await.context("client task")??;
            lat.extend(l);
            granted.extend(g);
            refused += r;
        }
        let elapsed = start.elapsed();
        lat.sort();
        let rate = granted.len() as f64 / elapsed.as_secs_f64();
        let (p50, p99, max) = (percentile(&lat, 0.50), percentile(&lat, 0.99), *lat.last().unwrap_or(&Duration::ZERO));
        let mut allocated_after = None;
        if a.wait_allocated {
            let c = Client::new(&local.client_addr, RetryPolicy::default())?;
            let deadline = Instant::now() + Duration::from_secs(120);
            loop {
                let all = c.list(false).await?;
                let done = all.iter().filter(|x| x.state() == pb::AllocationState::Allocated).count();
                if done >= granted.len() {
                    allocated_after = Some(start.elapsed());
                    break;
                }
                if Instant::now() > deadline {
                    eprintln!("bench: only {done} of {} allocations confirmed after 120 s", granted.len());
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        local.shutdown().await?;
        if a.json {
            println!(
                "{}",
                serde_json::json!({
                    "nodes": a.nodes, "disks_per_node": a.disks_per_node, "clients": a.clients,
                    "requests": a.requests, "granted": granted.len(), "refused": refused,
                    "elapsed_s": elapsed.as_secs_f64(), "grants_per_s": rate,
                    "p50_ms": p50.as_secs_f64() * 1e3, "p99_ms": p99.as_secs_f64() * 1e3,
                    "max_ms": max.as_secs_f64() * 1e3, "strategy": strategy.to_string(),
                    "all_allocated_s": allocated_after.map(|d| d.as_secs_f64()),
                })
            );
        } else {
            println!("requests   {} ({} granted, {refused} refused) in {elapsed:.2?}", a.requests, granted.len());
            println!("grants/s   {rate:.0}");
            println!("latency    p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms", p50.as_secs_f64() * 1e3, p99.as_secs_f64() * 1e3, max.as_secs_f64() * 1e3);
            if let Some(d) = allocated_after {
                println!("allocated  every grant confirmed by its server {d:.2?} after the first submit");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
