//! `storalloc server`: the storage-server agent for one host of a system
//! file (or, with `--all-hosts`, one agent task per host, for demos and
//! benchmarks). Runs until Ctrl-C or SIGTERM.

use crate::orchestrator_args::{runtime, OrchestratorArgs, Service};
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use storalloc_agent::{AgentEvent, AgentOptions, BackendSettings, Backoff, DiskBackends};
use storalloc_core::Node;
use tokio::sync::{mpsc, watch};

#[derive(Args, Debug)]
pub struct ServerArgs {
    #[command(flatten)]
    pub at: OrchestratorArgs,
    /// The storage system description (the original's YAML).
    #[arg(short = 's', long = "system", value_name = "SYSTEM.yml")]
    pub system: PathBuf,
    /// Touch no disk: every disk uses the simulate backend (NVMe-oF answers
    /// with deterministic NQNs), as in the original.
    #[arg(long)]
    pub simulate: bool,
    /// Where the agent keeps what it holds, so a restart keeps its allocations.
    /// Default: $XDG_STATE_HOME/storalloc/agent (~/.local/state/storalloc/agent).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Which host of the system file this server is. Default: the only
    /// host of a one-host file, else the host named like this machine.
    #[arg(long, value_name = "HOSTNAME", conflicts_with = "all_hosts")]
    pub host: Option<String>,
    /// Run one agent per host of the system file in this process.
    #[arg(long)]
    pub all_hosts: bool,
    /// Release everything this server holds before registering.
    #[arg(short = 'r', long)]
    pub reset: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub storage: crate::server_options::StorageOptions,
}

fn default_state_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("storalloc/agent");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h).join(".local/state/storalloc/agent");
    }
    PathBuf::from(".storalloc-agent")
}

type AgentTasks = Vec<tokio::task::JoinHandle<Result<(), storalloc_agent::AgentError>>>;

/// How the agents of one process keep their storage; the same for every host.
pub struct AgentStorage<'a> {
    /// Every disk uses the simulate backend.
    pub simulate: bool,
    pub state_dir: Option<&'a Path>,
    /// Release everything held before registering.
    pub reset: bool,
    pub backend: &'a BackendSettings,
    pub orphan_grace: Duration,
}

/// Starts one agent task per node; returns their handles.
pub fn spawn_agents(
    nodes: &[Node],
    orchestrator: &str,
    simulate: bool,
    state_dir: Option<&Path>,
    reset: bool,
    events: Option<mpsc::UnboundedSender<AgentEvent>>,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<AgentTasks> {
    let unsigned = None;
    let storage = AgentStorage {
        simulate,
        state_dir,
        reset,
        backend: &BackendSettings::default(),
        orphan_grace: storalloc_agent::agent::DEFAULT_ORPHAN_GRACE,
    };
    spawn_agents_signed(
        nodes,
        orchestrator,
        storage,
        unsigned,
        None,
        events,
        shutdown,
    )
}

/// [`spawn_agents`] whose agents sign their calls with the cluster's agent
/// secret and connect over TLS when `tls` is given (docs/security.md).
pub fn spawn_agents_signed(
    nodes: &[Node],
    orchestrator: &str,
    storage: AgentStorage<'_>,
    agent_key: Option<storalloc_auth::AgentKey>,
    tls: Option<storalloc_auth::ClientTls>,
    events: Option<mpsc::UnboundedSender<AgentEvent>>,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<AgentTasks> {
    let mut handles = Vec::with_capacity(nodes.len());
    for node in nodes {
        let backends = DiskBackends::for_node_with(
            node,
            storage.simulate,
            storage.state_dir,
            storage.backend,
        )?;
        let opts = AgentOptions {
            orchestrator: orchestrator.to_string(),
            node: storalloc_agent::node::describe(node, storage.simulate),
            backends,
            backoff: Backoff::default(),
            reset: storage.reset,
            orphan_grace: storage.orphan_grace,
        };
        handles.push(tokio::spawn(storalloc_agent::run_secure(
            opts,
            agent_key.clone(),
            tls.clone(),
            events.clone(),
            shutdown.clone(),
        )));
    }
    Ok(handles)
}

pub fn describe_event(e: &AgentEvent) -> String {
    match e {
        AgentEvent::Registered {
            hostname,
            node_id,
            held,
            orphans,
        } => format!(
            "storalloc: server {hostname} registered as node {node_id}, holding {held} block(s){}",
            if orphans.is_empty() {
                String::new()
            } else {
                format!(", orphans {orphans:?} to remove after the grace period")
            }
        ),
        AgentEvent::Allocated {
            hostname,
            allocation_id,
            disk,
            attachment,
        } => format!(
            "storalloc: {hostname} allocated job {allocation_id} on disk {disk}: {}",
            if attachment.connect_command.is_empty() {
                attachment.path.clone()
            } else {
                attachment.connect_command.clone()
            }
        ),
        AgentEvent::Released {
            hostname,
            allocation_id,
            disk,
        } => format!("storalloc: {hostname} released job {allocation_id} on disk {disk}"),
        AgentEvent::CommandFailed {
            hostname,
            allocation_id,
            error,
        } => format!("storalloc: {hostname} failed job {allocation_id}: {error}"),
        AgentEvent::Disconnected { hostname, error } => {
            format!("storalloc: {hostname} cannot reach the orchestrator ({error}); retrying")
        }
    }
}

pub fn run(a: ServerArgs) -> anyhow::Result<ExitCode> {
    let loaded = storalloc_config::load_system(&a.system)?;
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let system = loaded.system;
    let machine = crate::server_host::machine_hostname();
    let picked = crate::server_host::pick_hosts(
        &system,
        a.host.as_deref(),
        a.all_hosts,
        &a.system,
        machine.as_deref(),
    );
    let nodes = match picked {
        Ok(nodes) => nodes,
        Err(msg) => {
            eprintln!("storalloc: error: {msg}");
            return Ok(ExitCode::from(2));
        }
    };
    let state_dir = a.state_dir.clone().unwrap_or_else(default_state_dir);
    let backend = a.storage.backend_settings();
    let ignored = a.storage.nvmet_flags_given();
    if a.simulate && !ignored.is_empty() {
        tracing::warn!(
            "{} ha{} no effect with --simulate",
            ignored.join(", "),
            if ignored.len() == 1 { "s" } else { "ve" }
        );
    }
    std::fs::create_dir_all(&state_dir)
        .with_context(|| format!("creating the state dir {}", state_dir.display()))?;
    runtime()?.block_on(async move {
        let addr = a.at.resolve(Service::Agent).await?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
        let agent_key = crate::security_setup::agent_key_from(a.at.config.as_deref())?;
        let tls = a.at.tls()?;
        let handles = spawn_agents_signed(
            &nodes,
            &addr,
            AgentStorage {
                simulate: a.simulate,
                state_dir: Some(&state_dir),
                reset: a.reset,
                backend: &backend,
                orphan_grace: a.storage.orphan_grace,
            },
            agent_key,
            tls,
            Some(ev_tx),
            &stop_rx,
        )?;
        if !a.quiet {
            println!(
                "storalloc: server for {} host(s) → orchestrator {addr}, state in {}",
                nodes.len(),
                state_dir.display()
            );
        }
        let quiet = a.quiet;
        let printer = tokio::spawn(async move {
            while let Some(e) = ev_rx.recv().await {
                if !quiet || matches!(e, AgentEvent::CommandFailed { .. }) {
                    println!("{}", describe_event(&e));
                }
            }
        });
        // An agent returns before a signal only when it cannot work (a failed
        // backend preflight, or a registration the orchestrator refuses for
        // good): stop the server with its error then.
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        for h in handles {
            let tx = done_tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(h.await);
            });
        }
        drop(done_tx);
        tokio::select! {
            _ = wait_for_signal() => {}
            Some(r) = done_rx.recv() => r.context("agent task")??,
        }
        let _ = stop_tx.send(true);
        while let Some(r) = done_rx.recv().await {
            r.context("agent task")??;
        }
        printer.abort();
        Ok(ExitCode::SUCCESS)
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
