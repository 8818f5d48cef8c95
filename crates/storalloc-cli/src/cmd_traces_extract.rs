use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct ExtractArgs {}

pub fn run(_args: ExtractArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
