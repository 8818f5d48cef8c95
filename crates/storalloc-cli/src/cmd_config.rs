use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Check files and print a summary.
    Validate {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
}

pub fn run(_cmd: ConfigCmd) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
