//! `storalloc demo`: the whole live system in one process, on embedded
//! defaults. It starts an orchestrator (state in a temporary dir, ports
//! picked by the OS), simulated storage servers for the example system, and
//! sends a few client requests over real gRPC on loopback, printing their
//! grants and how to attach them; then it shuts everything down.
//!
//! `start_local` is also what `storalloc bench` runs against.

use crate::cmd_client::{attach_lines, describe_grant};
use crate::orchestrator_args::runtime;
use anyhow::Context;
use clap::Args;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use storalloc_agent::AgentEvent;
use storalloc_client::v1 as pb;
use storalloc_client::{Client, RetryPolicy};
use storalloc_core::{Bytes, SchedulerConfig, System, TimeSpan};
use storalloc_orchestrator::{EngineConfig, Orchestrator, OrchestratorOptions};
use tokio::sync::{mpsc, watch};

const EXAMPLE_SYSTEM: &str = include_str!("../../../examples/system.yml");
const EXAMPLE_CONFIG: &str = include_str!("../../../examples/config.yml");

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the orchestrator's state here instead of a temporary dir.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<std::path::PathBuf>,
}

/// An orchestrator and one simulated agent per node, in this process.
pub struct Local {
    pub orchestrator: Orchestrator,
    pub client_addr: String,
    stop_agents: watch::Sender<bool>,
    agents: Vec<tokio::task::JoinHandle<Result<(), storalloc_agent::AgentError>>>,
}

impl Local {
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop_agents.send(true);
        for a in self.agents {
            a.await.context("agent task")??;
        }
        self.orchestrator.stop().await?;
        Ok(())
    }
}

/// Starts the orchestrator on loopback (port 0) with `state_dir`, then one
/// agent per node of `system` with in-memory simulated storage, and waits
/// until every node is up.
pub async fn start_local(
    system: &System,
    scheduler: SchedulerConfig,
    state_dir: &Path,
    heartbeat_interval_s: u32,
    events: Option<mpsc::UnboundedSender<AgentEvent>>,
) -> anyhow::Result<Local> {
    let mut engine = EngineConfig::new(scheduler);
    engine.heartbeat_interval_s = heartbeat_interval_s;
    engine.heartbeat_timeout_s = heartbeat_interval_s * 5;
    let orchestrator = Orchestrator::start(OrchestratorOptions {
        host: "127.0.0.1".into(),
        client_port: 0,
        server_port: 0,
        state_dir: state_dir.to_path_buf(),
        engine,
    })
    .await?;
    let ep = orchestrator.endpoints();
    let (stop_agents, stop_rx) = watch::channel(false);
    let agents = crate::cmd_server::spawn_agents(
        &system.nodes,
        &ep.server.to_string(),
        true,
        None,
        false,
        events,
        &stop_rx,
    )?;
    let local = Local {
        orchestrator,
        client_addr: ep.client.to_string(),
        stop_agents,
        agents,
    };
    let client = Client::new(&local.client_addr, RetryPolicy::default())?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let nodes = client.list_nodes().await?;
        let up = nodes
            .iter()
            .filter(|n| n.state() == pb::NodeState::Up)
            .count();
        if up >= system.nodes.len() {
            break;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "only {up} of {} storage servers registered within 60 s",
            system.nodes.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(local)
}

pub fn run(a: DemoArgs) -> anyhow::Result<ExitCode> {
    let system =
        storalloc_config::parse_system(EXAMPLE_SYSTEM, "examples/system.yml (embedded)")?.system;
    let config =
        storalloc_config::parse_config(EXAMPLE_CONFIG, "examples/config.yml (embedded)")?.config;
    let tmp = tempfile::tempdir().context("creating a temporary state dir")?;
    let state_dir = a
        .state_dir
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&state_dir)?;
    runtime()?.block_on(demo(system, config, state_dir))
}

/// The requests the demo sends: what it shows, GB, seconds, medium.
const ASKS: [(&str, u64, u64, Option<&str>); 4] = [
    ("200 GB for 1 hour", 200, 3600, None),
    (
        "500 GB for 30 minutes (split into 200 GB blocks)",
        500,
        1800,
        None,
    ),
    ("1 TB on hdd for 2 hours", 1000, 7200, Some("hdd")),
    (
        "50 TB for 1 hour (more than the system has)",
        50_000,
        3600,
        None,
    ),
];

async fn demo(
    system: System,
    config: storalloc_config::Config,
    state_dir: std::path::PathBuf,
) -> anyhow::Result<ExitCode> {
    println!(
        "storalloc demo: {} storage servers ({} disks, {}) from the embedded \
         examples/system.yml, strategy {}",
        system.nodes.len(),
        system.disk_count(),
        system.total_capacity(),
        config.sched_strategy
    );
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
    let sched = config.scheduler_config(1);
    let local = start_local(&system, sched, &state_dir, 1, Some(ev_tx)).await?;
    println!(
        "orchestrator: clients on {}, servers on {}",
        local.client_addr,
        local.orchestrator.endpoints().server
    );
    // Every node is up; show the servers' registrations before the requests.
    let mut registered = 0;
    while registered < system.nodes.len() {
        match tokio::time::timeout(Duration::from_secs(5), ev_rx.recv()).await {
            Ok(Some(e)) => {
                if matches!(e, AgentEvent::Registered { .. }) {
                    registered += 1;
                    println!("{}", crate::cmd_server::describe_event(&e));
                }
            }
            _ => break,
        }
    }
    // Later events (allocations, releases) are not part of the story told here.
    let printer = tokio::spawn(async move { while ev_rx.recv().await.is_some() {} });
    let client = Client::new(&local.client_addr, RetryPolicy::default())?;
    let mut granted = Vec::new();
    for (what, gb, secs, medium) in ASKS {
        let medium_arg = medium.map(|m| format!(" --medium {m}"));
        println!(
            "\n$ storalloc client -s {gb} -t {}{}",
            TimeSpan(secs),
            medium_arg.unwrap_or_default()
        );
        println!("  ({what})");
        if let Some(id) = ask(&client, gb, secs, medium).await? {
            granted.push(id);
        }
    }
    println!("\n$ storalloc status");
    let status = client.status().await?;
    for line in crate::cmd_status::render(&status).lines() {
        println!("  {line}");
    }
    if let Some(first) = granted.first() {
        println!("\n$ storalloc cancel {first}");
        let c = client.cancel(*first).await?;
        let state = storalloc_client::json::allocation_state_name(c.state());
        println!(
            "storalloc: job allocation {first} is {}",
            state.to_uppercase()
        );
    }
    println!("\nshutting down");
    drop(client);
    local.shutdown().await?;
    printer.abort();
    println!(
        "done: {} of {} requests granted and attached",
        granted.len(),
        ASKS.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// One client request, printed like `storalloc client` prints it; the
/// allocation id if it was granted and attached.
async fn ask(
    client: &Client,
    gb: u64,
    secs: u64,
    medium: Option<&str>,
) -> anyhow::Result<Option<u64>> {
    let req = pb::StorageRequest {
        capacity_bytes: Bytes::from_gb(gb).get(),
        duration_s: secs,
        medium: medium.map(str::to_string),
        ..Default::default()
    };
    let id = storalloc_client::new_request_id();
    let alloc = client
        .submit(&id, req)
        .await?
        .allocation
        .context("no allocation in the answer")?;
    let alloc = if alloc.state() == pb::AllocationState::Pending {
        client
            .wait_until(alloc.id, |x| x.state() != pb::AllocationState::Pending)
            .await?
    } else {
        alloc
    };
    if !matches!(
        alloc.state(),
        pb::AllocationState::Granted | pb::AllocationState::Allocated
    ) {
        println!("storalloc: Refused: {}", alloc.explanation);
        return Ok(None);
    }
    println!(
        "storalloc: Granted job allocation {}",
        describe_grant(&alloc)
    );
    let done = tokio::time::timeout(
        Duration::from_secs(10),
        client.wait_until(alloc.id, |x| x.state() == pb::AllocationState::Allocated),
    )
    .await
    .context("the simulated servers did not confirm within 10 s")??;
    for l in attach_lines(&done) {
        println!("{l}");
    }
    Ok(Some(done.id))
}
