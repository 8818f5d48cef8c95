use clap::Parser;

/// storalloc: a scheduler for storage resources on HPC systems.
#[derive(Parser)]
#[command(name = "storalloc", version, about)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
