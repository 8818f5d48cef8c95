//! The `storalloc` command. Each subcommand group lives in its own module;
//! this file only wires them together and sets up logging.

mod cmd_bench;
mod cmd_cancel;
mod cmd_client;
mod cmd_config;
mod cmd_demo;
mod cmd_orchestrator;
mod cmd_server;
mod cmd_simulate;
mod cmd_status;
mod cmd_system;
mod cmd_traces;
mod cmd_traces_extract;
mod cmd_traces_inspect;
mod cmd_traces_synth;

use clap::{Parser, Subcommand};

/// storalloc: a scheduler for storage resources on HPC systems.
///
/// It allocates node-local NVMe and burst-buffer capacity the way Slurm
/// allocates nodes: a request names a capacity, a duration and a start time;
/// storalloc places it on storage servers' disks, grants it, exposes it and
/// reclaims it when the time ends.
#[derive(Parser)]
#[command(name = "storalloc", version, about, long_about)]
struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate and summarise storage-system description files.
    #[command(subcommand)]
    System(cmd_system::SystemCmd),
    /// Validate orchestrator/client configuration files.
    #[command(subcommand)]
    Config(cmd_config::ConfigCmd),
    /// Read, convert and generate job traces and Darshan logs.
    #[command(subcommand)]
    Traces(cmd_traces::TracesCmd),
    /// Replay a job trace through the scheduling core in a discrete-event simulation.
    Simulate(cmd_simulate::SimulateArgs),
    /// Run the orchestrator: the live scheduler service clients and storage servers talk to.
    Orchestrator(cmd_orchestrator::OrchestratorCmdArgs),
    /// Run the storage-server agent for a host of a system file.
    Server(cmd_server::ServerArgs),
    /// Ask the orchestrator for storage and wait until it is attached.
    Client(cmd_client::ClientArgs),
    /// Show nodes, disks (used and free) and allocations.
    Status(cmd_status::StatusArgs),
    /// Cancel an allocation.
    Cancel(cmd_cancel::CancelArgs),
    /// Run orchestrator, simulated servers and a few clients in one process.
    Demo(cmd_demo::DemoArgs),
    /// Measure grants per second and latency against a local orchestrator.
    Bench(cmd_bench::BenchArgs),
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::System(c) => cmd_system::run(c),
        Command::Config(c) => cmd_config::run(c),
        Command::Traces(c) => cmd_traces::run(c),
        Command::Simulate(a) => cmd_simulate::run(a),
        Command::Orchestrator(a) => cmd_orchestrator::run(a),
        Command::Server(a) => cmd_server::run(a),
        Command::Client(a) => cmd_client::run(a),
        Command::Status(a) => cmd_status::run(a),
        Command::Cancel(a) => cmd_cancel::run(a),
        Command::Demo(a) => cmd_demo::run(a),
        Command::Bench(a) => cmd_bench::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("storalloc: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
