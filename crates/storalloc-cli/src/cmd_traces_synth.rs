use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct SynthArgs {}

pub fn run(_args: SynthArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
