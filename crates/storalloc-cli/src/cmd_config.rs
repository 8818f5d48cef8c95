//! `storalloc config validate`: load orchestrator/client config files and
//! show the settings storalloc will use.

use crate::cmd_system::{validate_all, warning_lines};
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use storalloc_config::Config;

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Check files and print a summary.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub fn run(cmd: ConfigCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCmd::Validate { files } => Ok(validate_all(&files, |file| {
            let loaded = storalloc_config::load_config(file)?;
            let mut out = summary(&loaded.config);
            out.extend(warning_lines(file, &loaded.warnings));
            Ok(out)
        })),
    }
}

fn summary(c: &Config) -> Vec<String> {
    let split = match c.block_size {
        Some(b) => format!("requests above {b} are split into {b} blocks"),
        None => "never".to_string(),
    };
    let retry = if c.allow_retry {
        "on (a refused unsplit request retries 5 minutes later, up to 1 hour)"
    } else {
        "off"
    };
    let state = match &c.state_dir {
        Some(d) => d.display().to_string(),
        None => "not set (the orchestrator uses ./storalloc-state unless --state-dir is given)"
            .to_string(),
    };
    vec![
        format!("strategy: {}", c.sched_strategy),
        format!("split: {split}"),
        format!("retry: {retry}"),
        format!(
            "orchestrator: {} ({}), clients on {}, agents on {}",
            c.orchestrator_hostname,
            c.orchestrator_addr,
            c.client_endpoint(),
            c.server_endpoint()
        ),
        format!("state dir: {state}"),
        format!(
            "heartbeats: every {} s, node down after {} s",
            c.heartbeat_interval_s, c.heartbeat_timeout_s
        ),
    ]
}
