//! JSON views of API messages, for `--json` output. The generated protobuf
//! types carry no serde derive, so the shape is spelled out here, once:
//! enum values are lower-case names, times are Unix seconds.

use crate::v1 as pb;
use serde_json::{json, Value};

pub fn allocation_state_name(s: pb::AllocationState) -> &'static str {
    use pb::AllocationState as S;
    match s {
        S::Unspecified => "unspecified",
        S::Pending => "pending",
        S::Granted => "granted",
        S::Refused => "refused",
        S::Allocated => "allocated",
        S::Failed => "failed",
        S::Ended => "ended",
        S::Cancelled => "cancelled",
        S::Lost => "lost",
    }
}

pub fn node_state_name(s: pb::NodeState) -> &'static str {
    match s {
        pb::NodeState::Unspecified => "unspecified",
        pb::NodeState::Up => "up",
        pb::NodeState::Down => "down",
        pb::NodeState::Drained => "drained",
    }
}

pub fn attachment(a: &pb::Attachment) -> Value {
    let mut v = json!({ "type": a.r#type });
    let m = v.as_object_mut().expect("object");
    for (k, s) in [
        ("nqn", &a.nqn),
        ("transport", &a.transport),
        ("address", &a.address),
        ("path", &a.path),
        ("connect_command", &a.connect_command),
    ] {
        if !s.is_empty() {
            m.insert(k.into(), json!(s));
        }
    }
    if a.port != 0 {
        m.insert("port".into(), json!(a.port));
    }
    v
}

pub fn request(r: &pb::StorageRequest) -> Value {
    json!({
        "capacity_bytes": r.capacity_bytes,
        "duration_s": r.duration_s,
        "start_unix": r.start_unix,
        "max_delay_s": r.max_delay_s,
        "bandwidth_gbps": r.bandwidth_gbps,
        "medium": r.medium,
        "tier": r.tier,
        "block_size_bytes": r.block_size_bytes,
        "host_nqns": r.host_nqns,
        "labels": r.labels,
    })
}

pub fn allocation(a: &pb::Allocation) -> Value {
    json!({
        "id": a.id,
        "request_id": a.request_id,
        "state": allocation_state_name(a.state()),
        "request": a.request.as_ref().map(request),
        "start_unix": a.start_unix,
        "end_unix": a.end_unix,
        "placements": a.placements.iter().map(|p| json!({
            "node": p.node,
            "disk": p.disk,
            "hostname": p.hostname,
            "capacity_bytes": p.capacity_bytes,
            "attachment": p.attachment.as_ref().map(attachment),
        })).collect::<Vec<_>>(),
        "explanation": a.explanation,
        "owner_uid": a.owner_uid,
        "owner_gid": a.owner_gid,
        "submitted_unix": a.submitted_unix,
        "delay_s": a.delay_s,
        "retries": a.retries,
        "degraded": a.degraded,
    })
}

/// One disk's use now, as both `status --json` and the dashboard show it.
pub fn disk_usage(u: &pb::DiskUsage) -> Value {
    json!({
        "disk": u.disk,
        "capacity_bytes": u.capacity_bytes,
        "used_bytes": u.used_bytes,
        "free_bytes": u.capacity_bytes.saturating_sub(u.used_bytes),
        "allocations": u.allocations,
        "medium": u.medium,
        "position": u.position,
        "identity": u.identity,
    })
}

pub fn node(n: &pb::NodeInfo) -> Value {
    let d = n.description.clone().unwrap_or_default();
    json!({
        "id": n.id,
        "hostname": d.hostname,
        "address": d.address,
        "state": node_state_name(n.state()),
        "last_heartbeat_unix": n.last_heartbeat_unix,
        "network_bw_gbps": d.network_bw_gbps,
        "disks": n.disks.iter().map(disk_usage).collect::<Vec<_>>(),
    })
}

pub fn status(s: &pb::StatusResponse) -> Value {
    json!({
        "strategy": s.strategy,
        "now_unix": s.now_unix,
        "nodes": s.nodes.iter().map(node).collect::<Vec<_>>(),
        "allocations": s.allocations.iter().map(allocation).collect::<Vec<_>>(),
    })
}
