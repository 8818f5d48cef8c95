//! `storalloc history`: finished allocations, oldest first — those the
//! orchestrator still keeps in memory and those that left it after the
//! retention period (its history table).

use crate::orchestrator_args::{runtime, OrchestratorArgs};
use clap::Args;
use std::process::ExitCode;
use storalloc_client::json::allocation_state_name;
use storalloc_client::v1::HistoryRequest;
use storalloc_client::RetryPolicy;
use storalloc_core::TimeSpan;

#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub at: OrchestratorArgs,
    /// Only this user's allocations (a numeric uid). Users who are not
    /// admins only ever see their own.
    #[arg(long, value_name = "UID")]
    pub user: Option<u32>,
    /// Only allocations that finished in this last stretch of time, as a
    /// Slurm duration (`7-00:00:00` is a week, `2:00:00` two hours).
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Print at most this many (all of them when absent).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: HistoryArgs) -> anyhow::Result<ExitCode> {
    let since = match &a.since {
        None => None,
        Some(s) => match s.trim().parse::<TimeSpan>() {
            Ok(t) => Some(t.0),
            Err(e) => {
                eprintln!("storalloc: error: --since {s:?}: {e} (give a Slurm duration such as 7-00:00:00)");
                return Ok(ExitCode::from(2));
            }
        },
    };
    runtime()?.block_on(async move {
        let client = a.at.client(RetryPolicy::default()).await?;
        let since_unix = match since {
            Some(span) => Some(client.status().await?.now_unix - span as i64),
            None => None,
        };
        let mut after_id = 0;
        let mut printed = 0usize;
        if !a.json {
            println!(
                "{:>8}  {:<10}  {:>12}  {:>6}  {:<20}  explanation",
                "id", "state", "capacity", "uid", "finished"
            );
        }
        loop {
            let page = client
                .history(HistoryRequest {
                    uid: a.user,
                    since_unix,
                    after_id,
                    limit: 500,
                })
                .await?;
            for alloc in &page.allocations {
                if a.limit.is_some_and(|l| printed >= l) {
                    return Ok(ExitCode::SUCCESS);
                }
                printed += 1;
                if a.json {
                    println!("{}", storalloc_client::json::allocation(alloc));
                    continue;
                }
                let finished = alloc
                    .history
                    .last()
                    .map(|t| t.at_unix)
                    .unwrap_or(alloc.submitted_unix);
                println!(
                    "{:>8}  {:<10}  {:>12}  {:>6}  {:<20}  {}",
                    alloc.id,
                    allocation_state_name(alloc.state()).to_uppercase(),
                    storalloc_core::Bytes(
                        alloc
                            .request
                            .as_ref()
                            .map(|r| r.capacity_bytes)
                            .unwrap_or(0)
                    )
                    .to_string(),
                    alloc.owner_uid,
                    storalloc_core::Timestamp(finished).to_string(),
                    alloc.explanation
                );
            }
            if page.next_after_id == 0 {
                return Ok(ExitCode::SUCCESS);
            }
            after_id = page.next_after_id;
        }
    })
}
