//! The `storalloc` command. Each subcommand group lives in its own module;
//! this file only wires them together and sets up logging.

mod cmd_config;
mod cmd_simulate;
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
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("storalloc: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
