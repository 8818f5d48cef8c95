//! `storalloc orchestrator`: the live scheduler service. Serves clients and
//! admins on `orchestrator_addr:client_port` and agents on
//! `orchestrator_addr:server_port`, keeps its state in the state directory,
//! and runs until Ctrl-C or SIGTERM.

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use storalloc_orchestrator::{EngineConfig, Orchestrator, OrchestratorOptions};

/// Used when neither `--state-dir` nor the config's `state_dir` says where.
const DEFAULT_STATE_DIR: &str = "./storalloc-state";

#[derive(Args, Debug)]
pub struct OrchestratorCmdArgs {
    /// The config file (the original's YAML, plus storalloc's extensions).
    #[arg(short = 'c', long = "config", value_name = "CONFIG.yml")]
    pub config: PathBuf,
    /// Where the orchestrator keeps its state (SQLite database and
    /// endpoints.json). Default: the config's `state_dir`, else
    /// ./storalloc-state.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Seed of the scheduler's random choices (random_alloc, ties).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Serve the dashboard and /metrics on HOST:PORT (overrides the config's
    /// `http_addr`/`http_port`; `off` turns them off).
    #[arg(long, value_name = "HOST:PORT")]
    pub http: Option<String>,
}

pub fn run(a: OrchestratorCmdArgs) -> anyhow::Result<ExitCode> {
    let loaded = storalloc_config::load_config(&a.config)?;
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let cfg = loaded.config;
    let state_dir = a
        .state_dir
        .or_else(|| cfg.state_dir.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR));
    let mut engine = EngineConfig::new(cfg.scheduler_config(a.seed));
    engine.heartbeat_interval_s = u32::try_from(cfg.heartbeat_interval_s).unwrap_or(u32::MAX);
    engine.heartbeat_timeout_s = u32::try_from(cfg.heartbeat_timeout_s).unwrap_or(u32::MAX);
    engine.retention_s = cfg.retention_s;
    engine.keep_history = cfg.keep_history;
    engine.clock_jump_grace_s = cfg.clock_jump_grace_s;
    let opts = OrchestratorOptions {
        host: cfg.orchestrator_addr.clone(),
        client_port: cfg.client_port,
        server_port: cfg.server_port,
        state_dir: state_dir.clone(),
        engine,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let security = crate::security_setup::orchestrator_security(&cfg)?;
        let tls = crate::security_setup::orchestrator_tls(&cfg)?;
        let orch = Orchestrator::start_tls(opts, security, tls)
            .await
            .with_context(|| {
                format!(
                    "starting the orchestrator with state dir {}",
                    state_dir.display()
                )
            })?;
        let ep = orch.endpoints();
        println!(
            "storalloc orchestrator: clients on {}, servers on {}, state in {} (strategy {})",
            ep.client,
            ep.server,
            state_dir.display(),
            cfg.sched_strategy
        );
        if orch.tls() {
            println!("storalloc orchestrator: both ports use TLS");
        }
        let http_at = a.http.clone().or_else(|| cfg.http_endpoint());
        let http = match http_at.filter(|h| h != "off") {
            Some(at) => {
                let h = storalloc_orchestrator::observe::serve_http(&at, orch.engine())
                    .await
                    .with_context(|| format!("starting the dashboard on {at}"))?;
                println!("storalloc orchestrator: dashboard on {}", h.url());
                Some(h)
            }
            None => None,
        };
        if crate::verbosity() >= 1 {
            storalloc_orchestrator::observe::terminal::spawn(orch.engine());
        }
        orch.run_until(shutdown_signal()).await?;
        if let Some(h) = http {
            h.stop().await;
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down");
}
