use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum SystemCmd {
    /// Check files and print a summary.
    Validate {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
}

pub fn run(_cmd: SystemCmd) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
