//! `storalloc cancel ID`: end an allocation early; its storage is released.

use crate::orchestrator_args::{runtime, OrchestratorArgs};
use clap::Args;
use std::process::ExitCode;
use storalloc_client::json::allocation_state_name;
use storalloc_client::RetryPolicy;

#[derive(Args, Debug)]
pub struct CancelArgs {
    #[command(flatten)]
    pub at: OrchestratorArgs,
    /// The allocation id (`job allocation N`).
    #[arg(value_name = "ID")]
    pub id: String,
    /// Print the allocation as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: CancelArgs) -> anyhow::Result<ExitCode> {
    let id: u64 = match a.id.trim().parse() {
        Ok(id) => id,
        Err(_) => {
            eprintln!(
                "storalloc: error: allocation id {:?} is not a number (see `storalloc status`)",
                a.id
            );
            return Ok(ExitCode::from(2));
        }
    };
    runtime()?.block_on(async move {
        let client = a.at.client(RetryPolicy::default()).await?;
        let alloc = client.cancel(id).await?;
        if a.json {
            println!("{}", storalloc_client::json::allocation(&alloc));
        } else {
            println!(
                "storalloc: job allocation {id} is {}",
                allocation_state_name(alloc.state()).to_uppercase()
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}
