//! The `storalloc` command. Each subcommand group lives in its own module;
//! this file only wires them together and sets up logging.

mod cmd_bench;
mod cmd_bench_retention;
mod cmd_cancel;
mod cmd_client;
mod cmd_config;
mod cmd_demo;
mod cmd_history;
mod cmd_log_server;
mod cmd_orchestrator;
mod cmd_server;
mod cmd_sim_client;
mod cmd_simulate;
mod cmd_status;
mod cmd_system;
mod cmd_traces;
mod cmd_traces_extract;
mod cmd_traces_inspect;
mod cmd_traces_synth;
mod log_ship;
mod orchestrator_args;
mod security_setup;
mod server_host;
mod server_options;

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
    /// Also send logs (as JSON lines) to a `storalloc log-server` at
    /// HOST:PORT. Without it, the config's `log_forward: true` sends them
    /// to `log_server_addr:log_server_port`.
    #[arg(long, global = true, value_name = "HOST:PORT")]
    log_server: Option<String>,
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
    /// Replay a job trace against a live orchestrator and summarise the outcome.
    SimClient(cmd_sim_client::SimClientArgs),
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
    /// List finished allocations, including those past the retention period.
    History(cmd_history::HistoryArgs),
    /// Run orchestrator, simulated servers and a few clients in one process.
    Demo(cmd_demo::DemoArgs),
    /// Measure grants per second and latency against a local orchestrator.
    Bench(cmd_bench::BenchArgs),
    /// Collect the logs of every component into one view on stdout.
    LogServer(cmd_log_server::LogServerArgs),
}

static VERBOSITY: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// How many `-v` were given.
pub fn verbosity() -> u8 {
    VERBOSITY.load(std::sync::atomic::Ordering::Relaxed)
}

/// The component name the log server shows, and the config file whose
/// `log_forward` decides whether logs are sent there.
fn log_source(c: &Command) -> (&'static str, Option<std::path::PathBuf>) {
    match c {
        Command::Orchestrator(a) => ("orchestrator", Some(a.config.clone())),
        Command::Server(a) => ("server", a.at.config.clone()),
        Command::Client(a) => ("client", a.at.config.clone()),
        Command::Status(_) => ("status", None),
        Command::Cancel(_) => ("cancel", None),
        Command::History(_) => ("history", None),
        Command::Demo(_) => ("demo", None),
        Command::Bench(_) => ("bench", None),
        Command::Simulate(_) => ("simulate", None),
        Command::SimClient(a) => ("sim-client", a.at.config.clone()),
        _ => ("storalloc", None),
    }
}

/// Where to send logs: `--log-server`, else the config's log server if
/// its `log_forward` is on.
fn log_target(cli: &Cli) -> Option<(String, &'static str)> {
    let (component, config) = log_source(&cli.command);
    if let Some(t) = &cli.log_server {
        return Some((t.clone(), component));
    }
    let cfg = storalloc_config::load_config(&config?).ok()?.config;
    cfg.log_forward
        .then(|| (cfg.log_server_endpoint(), component))
}

fn init_logging(verbose: u8, ship: Option<(String, &'static str)>) -> Option<log_ship::ShipGuard> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let level = |v: u8| match v {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = |default: &str| {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter(level(verbose)));
    // The log server gets at least info: it is where operators look.
    let (ship, guard) = match ship {
        Some((target, component)) => {
            let (l, g) = log_ship::layer(target, component);
            (Some(l.with_filter(filter(level(verbose.max(1))))), Some(g))
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(stderr)
        .with(ship)
        .init();
    guard
}

/// Offline commands die quietly on a closed stdout (`storalloc traces inspect
/// … | head`) like other Unix tools, instead of panicking in `println!`.
/// Commands that talk to the network keep Rust's default (SIGPIPE ignored):
/// with the default action, a write to a socket the peer just closed would
/// kill the whole process, orchestrator included.
fn restore_default_sigpipe(command: &Command) {
    let offline = matches!(
        command,
        Command::System(_) | Command::Config(_) | Command::Traces(_) | Command::Simulate(_)
    );
    if offline {
        // SAFETY: called in main before any other thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

/// The error and its causes on one line, each said once. anyhow's `{:#}`
/// joins every cause of the chain, and errors of the library crates that
/// both print their cause and return it as `source()` (an io error under
/// `path: cause`) would show it twice.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    restore_default_sigpipe(&cli.command);
    VERBOSITY.store(cli.verbose, std::sync::atomic::Ordering::Relaxed);
    let _log_ship = init_logging(cli.verbose, log_target(&cli));
    let result = match cli.command {
        Command::System(c) => cmd_system::run(c),
        Command::Config(c) => cmd_config::run(c),
        Command::Traces(c) => cmd_traces::run(c),
        Command::Simulate(a) => cmd_simulate::run(a),
        Command::SimClient(a) => cmd_sim_client::run(a),
        Command::Orchestrator(a) => cmd_orchestrator::run(a),
        Command::Server(a) => cmd_server::run(a),
        Command::Client(a) => cmd_client::run(a),
        Command::Status(a) => cmd_status::run(a),
        Command::History(a) => cmd_history::run(a),
        Command::Cancel(a) => cmd_cancel::run(a),
        Command::Demo(a) => cmd_demo::run(a),
        Command::Bench(a) => cmd_bench::run(a),
        Command::LogServer(a) => cmd_log_server::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("storalloc: error: {}", error_text(&e));
            std::process::ExitCode::FAILURE
        }
    }
}
