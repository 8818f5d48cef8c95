//! `storalloc status`: nodes and their state, disks with used and free
//! space, and live allocations, as the orchestrator sees them now.

use crate::orchestrator_args::{runtime, OrchestratorArgs};
use clap::Args;
use std::process::ExitCode;
use storalloc_client::json::{allocation_state_name, node_state_name};
use storalloc_client::v1 as pb;
use storalloc_client::RetryPolicy;
use storalloc_core::{Bytes, Timestamp};

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub at: OrchestratorArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: StatusArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        let client = a.at.client(RetryPolicy::default()).await?;
        let s = client.status().await?;
        if a.json {
            println!("{}", storalloc_client::json::status(&s));
        } else {
            print!("{}", render(&s));
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn render(s: &pb::StatusResponse) -> String {
    let mut out = format!(
        "strategy {}, now {}\n",
        if s.strategy.is_empty() {
            "?"
        } else {
            &s.strategy
        },
        Timestamp(s.now_unix)
    );
    if s.nodes.is_empty() {
        out.push_str("no storage server has registered\n");
    }
    for n in &s.nodes {
        let d = n.description.clone().unwrap_or_default();
        let hb = if n.last_heartbeat_unix > 0 {
            format!(
                ", last heartbeat {}s ago",
                (s.now_unix - n.last_heartbeat_unix).max(0)
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "node {} {} ({}) {}{hb}\n",
            n.id,
            d.hostname,
            d.address,
            node_state_name(n.state()).to_uppercase()
        ));
        for u in &n.disks {
            out.push_str(&format!(
                "  disk {}{}: capacity {}, used {}, free {}, {} allocation(s)\n",
                u.disk,
                u.medium
                    .as_deref()
                    .map(|m| format!(" [{m}]"))
                    .unwrap_or_default(),
                Bytes(u.capacity_bytes),
                Bytes(u.used_bytes),
                Bytes(u.capacity_bytes.saturating_sub(u.used_bytes)),
                u.allocations
            ));
        }
    }
    if s.allocations.is_empty() {
        out.push_str("no allocations\n");
    } else {
        out.push_str("allocations:\n");
    }
    for a in &s.allocations {
        let size: u64 = a.placements.iter().map(|p| p.capacity_bytes).sum();
        let size = if size == 0 {
            a.request.as_ref().map(|r| r.capacity_bytes).unwrap_or(0)
        } else {
            size
        };
        let places: Vec<String> = a
            .placements
            .iter()
            .map(|p| format!("{}/{}", p.node, p.disk))
            .collect();
        out.push_str(&format!(
            "  {} {} {} {} → {} on {}{}\n",
            a.id,
            allocation_state_name(a.state()).to_uppercase(),
            Bytes(size),
            Timestamp(a.start_unix),
            Timestamp(a.end_unix),
            if places.is_empty() {
                "-".into()
            } else {
                places.join(",")
            },
            if a.degraded { " (degraded)" } else { "" }
        ));
    }
    out
}
