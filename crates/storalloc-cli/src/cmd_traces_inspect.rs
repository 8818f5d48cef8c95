use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct InspectArgs {}

pub fn run(_args: InspectArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
