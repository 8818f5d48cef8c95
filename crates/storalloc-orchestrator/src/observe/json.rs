//! The dashboard's view of the orchestrator as JSON: nodes with per-disk use
//! now, and allocations (live ones and the most recent finished ones) with
//! their placements. prost types have no serde, so the mapping is by hand.

use crate::clock::Clock;
use crate::comm::AgentComm;
use crate::engine::Engine;
use crate::service::convert::allocation_to_proto;
use crate::service::status_to_proto;
use crate::store::StateStore;
use serde_json::{json, Value};
use storalloc_proto::json::disk_usage;
use storalloc_proto::v1::{Allocation, NodeInfo};

/// How many finished allocations the dashboard shows (newest first).
pub const FINISHED_SHOWN: usize = 200;

pub use storalloc_proto::json::{allocation_state_name as state_name, node_state_name};

pub fn allocation(a: &Allocation) -> Value {
    let r = a.request.as_ref();
    json!({
        "id": a.id,
        "request_id": a.request_id,
        "state": state_name(a.state()),
        "capacity_bytes": r.map(|r| r.capacity_bytes).unwrap_or(0),
        "duration_s": r.map(|r| r.duration_s).unwrap_or(0),
        "start_unix": a.start_unix,
        "end_unix": a.end_unix,
        "submitted_unix": a.submitted_unix,
        "explanation": a.explanation,
        "delay_s": a.delay_s,
        "retries": a.retries,
        "degraded": a.degraded,
        "placements": a.placements.iter().map(|p| json!({
            "node": p.node,
            "disk": p.disk,
            "hostname": p.hostname,
            "capacity_bytes": p.capacity_bytes,
            "ready": p.attachment.is_some(),
        })).collect::<Vec<_>>(),
    })
}

pub fn node(n: &NodeInfo) -> Value {
    let d = n.description.as_ref();
    json!({
        "id": n.id,
        "hostname": d.map(|d| d.hostname.as_str()).unwrap_or(""),
        "state": node_state_name(n.state()),
        "last_heartbeat_unix": n.last_heartbeat_unix,
        "disks": n.disks.iter().map(disk_usage).collect::<Vec<_>>(),
    })
}

/// The whole dashboard state. `all` holds every allocation by id; the
/// finished ones are cut to the newest [`FINISHED_SHOWN`].
pub fn state(now: i64, strategy: &str, nodes: &[NodeInfo], all: &[Allocation]) -> Value {
    let mut finished = 0;
    let mut shown: Vec<&Allocation> = Vec::new();
    for a in all.iter().rev() {
        if crate::observe::metrics::finished(a.state()) {
            finished += 1;
            if finished > FINISHED_SHOWN {
                continue;
            }
        }
        shown.push(a);
    }
    shown.reverse();
    json!({
        "now_unix": now,
        "strategy": strategy,
        "nodes": nodes.iter().map(node).collect::<Vec<_>>(),
        "allocations": shown.into_iter().map(allocation).collect::<Vec<_>>(),
    })
}

/// The `/api/state` document of `e`, exactly as the dashboard serves it
/// (public so `storalloc bench retention` measures the real thing).
pub fn engine_state<S: StateStore, A: AgentComm, C: Clock>(e: &mut Engine<S, A, C>) -> String {
    let status = status_to_proto(&e.status());
    let all: Vec<Allocation> = e.list(true).iter().map(allocation_to_proto).collect();
    state(status.now_unix, &status.strategy, &status.nodes, &all).to_string()
}
