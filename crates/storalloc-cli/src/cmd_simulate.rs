use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct SimulateArgs {}

pub fn run(_args: SimulateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
