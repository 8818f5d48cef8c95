//! The terminal view `storalloc -v orchestrator` prints: one box per node,
//! one row per disk with its allocations, redrawn when allocations change
//! (like the original's per-disk printout, but on changes only).

use super::json::state_name;
use crate::service::EngineHandle;
use std::fmt::Write as _;
use std::time::Duration;
use storalloc_proto::v1::{AllocationState, StatusResponse};
use tokio::sync::broadcast;

const GB: f64 = 1e9;
const BAR: usize = 20;

/// Renders the per-disk view of a status snapshot.
pub fn render(s: &StatusResponse) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "── storalloc at {} (strategy {}) ──",
        s.now_unix, s.strategy
    );
    for n in &s.nodes {
        let host = n
            .description
            .as_ref()
            .map(|d| d.hostname.as_str())
            .unwrap_or("?");
        let state = super::json::node_state_name(n.state());
        let _ = writeln!(out, "┌─ node {} {host} ({state})", n.id);
        for d in &n.disks {
            let frac = if d.capacity_bytes > 0 {
                d.used_bytes as f64 / d.capacity_bytes as f64
            } else {
                0.0
            };
            let filled = ((frac * BAR as f64).round() as usize).min(BAR);
            let ids: Vec<String> = s
                .allocations
                .iter()
                .filter(|a| {
                    a.placements
                        .iter()
                        .any(|p| p.node == n.id && p.disk == d.disk)
                })
                .map(|a| {
                    let gb: u64 = a
                        .placements
                        .iter()
                        .filter(|p| p.node == n.id && p.disk == d.disk)
                        .map(|p| p.capacity_bytes)
                        .sum();
                    let mark = if a.state() == AllocationState::Granted && a.start_unix > s.now_unix
                    {
                        "reserved"
                    } else {
                        state_name(a.state())
                    };
                    format!("#{} {:.0}GB {mark}", a.id, gb as f64 / GB)
                })
                .collect();
            let _ = writeln!(
                out,
                "│ disk {:<2} {}{} {:>8.0}/{:<8.0} GB │ {}",
                d.disk,
                "█".repeat(filled),
                "░".repeat(BAR - filled),
                d.used_bytes as f64 / GB,
                d.capacity_bytes as f64 / GB,
                if ids.is_empty() {
                    "-".to_string()
                } else {
                    ids.join(", ")
                }
            );
        }
        let _ = writeln!(out, "└─");
    }
    let pending = s
        .allocations
        .iter()
        .filter(|a| a.state() == AllocationState::Pending)
        .count();
    if pending > 0 {
        let _ = writeln!(out, "{pending} request(s) pending");
    }
    out
}

/// Prints the view to stdout after every burst of changes, until the
/// engine stops. Runs on the current tokio runtime.
pub fn spawn(engine: EngineHandle) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Ok(mut rx) = engine.call(|e| e.subscribe()).await else {
            return;
        };
        loop {
            match rx.recv().await {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            }
            // One redraw per burst.
            tokio::time::sleep(Duration::from_millis(200)).await;
            while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) = rx.try_recv() {}
            match engine
                .call(|e| crate::service::client::status_to_proto(&e.status()))
                .await
            {
                Ok(s) => print!("{}", render(&s)),
                Err(_) => return,
            }
        }
    })
}
