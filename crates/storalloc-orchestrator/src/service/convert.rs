//! The edge between `storalloc.v1` and the engine's own records: every
//! conversion between wire messages and domain types lives here.

use crate::lifecycle::{CommandOutcome, DiskUse, Held, NodeState, NodeView, Registration};
use crate::model::{
    AllocState, AllocationRecord, Attachment, Command, CommandKind, DiskSlot, DiskSpec, Dispatch,
    Grant, NodeRecord, Owner, PlacementRecord, StateName, StorageRequest, Transition,
};
use storalloc_proto::v1 as pb;

pub fn request_from_proto(r: pb::StorageRequest) -> StorageRequest {
    StorageRequest {
        capacity_bytes: r.capacity_bytes,
        duration_s: r.duration_s,
        start_unix: r.start_unix,
        max_delay_s: r.max_delay_s,
        bandwidth_gbps: r.bandwidth_gbps,
        medium: r.medium,
        tier: r.tier,
        block_size_bytes: r.block_size_bytes,
        host_nqns: r.host_nqns,
        labels: r.labels.into_iter().collect(),
    }
}

pub fn request_to_proto(r: &StorageRequest) -> pb::StorageRequest {
    pb::StorageRequest {
        capacity_bytes: r.capacity_bytes,
        duration_s: r.duration_s,
        start_unix: r.start_unix,
        max_delay_s: r.max_delay_s,
        bandwidth_gbps: r.bandwidth_gbps,
        medium: r.medium.clone(),
        tier: r.tier.clone(),
        block_size_bytes: r.block_size_bytes,
        host_nqns: r.host_nqns.clone(),
        labels: r.labels.clone().into_iter().collect(),
    }
}

/// A submission's id and request; `Err` is the message for
/// `InvalidArgument`.
pub fn submission(req: pb::SubmitRequest) -> Result<(String, StorageRequest), String> {
    let r = req
        .request
        .ok_or_else(|| "request is required (got none)".to_string())?;
    Ok((req.request_id, request_from_proto(r)))
}

pub fn attachment_from_proto(a: pb::Attachment) -> Attachment {
    Attachment {
        kind: a.r#type,
        nqn: a.nqn,
        transport: a.transport,
        address: a.address,
        port: a.port,
        path: a.path,
        connect_command: a.connect_command,
    }
}

pub fn attachment_to_proto(a: &Attachment) -> pb::Attachment {
    pb::Attachment {
        r#type: a.kind.clone(),
        nqn: a.nqn.clone(),
        transport: a.transport.clone(),
        address: a.address.clone(),
        port: a.port,
        path: a.path.clone(),
        connect_command: a.connect_command.clone(),
    }
}

pub fn state_to_proto(s: StateName) -> pb::AllocationState {
    match s {
        StateName::Pending => pb::AllocationState::Pending,
        StateName::Granted => pb::AllocationState::Granted,
        StateName::Allocated => pb::AllocationState::Allocated,
        StateName::Lost => pb::AllocationState::Lost,
        StateName::Refused => pb::AllocationState::Refused,
        StateName::Failed => pb::AllocationState::Failed,
        StateName::Ended => pb::AllocationState::Ended,
        StateName::Cancelled => pb::AllocationState::Cancelled,
    }
}

fn state_from_proto(s: pb::AllocationState) -> Option<StateName> {
    Some(match s {
        pb::AllocationState::Unspecified => return None,
        pb::AllocationState::Pending => StateName::Pending,
        pb::AllocationState::Granted => StateName::Granted,
        pb::AllocationState::Allocated => StateName::Allocated,
        pb::AllocationState::Lost => StateName::Lost,
        pb::AllocationState::Refused => StateName::Refused,
        pb::AllocationState::Failed => StateName::Failed,
        pb::AllocationState::Ended => StateName::Ended,
        pb::AllocationState::Cancelled => StateName::Cancelled,
    })
}

pub fn allocation_to_proto(a: &AllocationRecord) -> pb::Allocation {
    let g = a.state.grant();
    let mut out = pb::Allocation {
        id: a.id,
        request_id: a.request_id.clone(),
        request: Some(request_to_proto(&a.request)),
        state: 0,
        start_unix: g.map(|g| g.start_unix).unwrap_or(0),
        end_unix: g.map(|g| g.end_unix).unwrap_or(0),
        placements: g
            .map(|g| {
                g.placements
                    .iter()
                    .map(|p| pb::Placement {
                        node: p.node,
                        disk: p.disk,
                        capacity_bytes: p.capacity_bytes,
                        hostname: p.hostname.clone(),
                        attachment: p.attachment.as_ref().map(attachment_to_proto),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        explanation: a.explanation.clone(),
        owner_uid: a.owner.uid,
        owner_gid: a.owner.gid,
        submitted_unix: a.submitted_unix,
        delay_s: g.map(|g| g.delay_s).unwrap_or(0),
        retries: match &a.state {
            AllocState::Refused { retries } => *retries,
            _ => g.map(|g| g.retries).unwrap_or(0),
        },
        degraded: a.degraded,
        history: a
            .history
            .iter()
            .map(|t| pb::StateTransition {
                at_unix: t.at_unix,
                state: state_to_proto(t.state) as i32,
            })
            .collect(),
    };
    out.set_state(state_to_proto(a.state_name()));
    out
}

/// An allocation as release 0.1.0 stored it (the wire message itself).
pub fn allocation_from_stored_v1(a: pb::Allocation) -> Result<AllocationRecord, String> {
    let name = state_from_proto(a.state()).ok_or_else(|| {
        format!(
            "allocation {}: its state is unspecified ({})",
            a.id, a.state
        )
    })?;
    let request = a.request.clone().ok_or_else(|| {
        format!(
            "allocation {} ({}): its request is missing",
            a.id,
            name.as_str()
        )
    })?;
    let grant = || Grant {
        start_unix: a.start_unix,
        end_unix: a.end_unix,
        delay_s: a.delay_s,
        retries: a.retries,
        placements: a
            .placements
            .iter()
            .map(|p| PlacementRecord {
                node: p.node,
                disk: p.disk,
                capacity_bytes: p.capacity_bytes,
                hostname: p.hostname.clone(),
                attachment: p.attachment.clone().map(attachment_from_proto),
            })
            .collect(),
    };
    let needs_grant = |g: Grant| -> Result<Grant, String> {
        if g.placements.is_empty() || g.end_unix <= g.start_unix {
            return Err(format!(
                "allocation {} ({}): it has no valid placement or time window",
                a.id,
                name.as_str()
            ));
        }
        Ok(g)
    };
    let optional = |g: Grant| (!g.placements.is_empty()).then_some(g);
    let state = match name {
        StateName::Pending => AllocState::Pending,
        StateName::Granted => AllocState::Granted {
            grant: needs_grant(grant())?,
        },
        StateName::Allocated => AllocState::Allocated {
            grant: needs_grant(grant())?,
        },
        StateName::Lost => AllocState::Lost {
            grant: needs_grant(grant())?,
        },
        StateName::Refused => AllocState::Refused { retries: a.retries },
        StateName::Failed => AllocState::Failed {
            grant: optional(grant()),
        },
        StateName::Ended => AllocState::Ended { grant: grant() },
        StateName::Cancelled => AllocState::Cancelled {
            grant: optional(grant()),
        },
    };
    let mut history = vec![Transition {
        at_unix: a.submitted_unix,
        state: StateName::Pending,
    }];
    if name != StateName::Pending {
        // Release 0.1.0 kept no history: the last change is dated by the
        // end of the time window where one exists.
        let at = match name {
            StateName::Ended => a.end_unix.max(a.submitted_unix),
            _ => a.submitted_unix,
        };
        history.push(Transition {
            at_unix: at,
            state: name,
        });
    }
    Ok(AllocationRecord {
        id: a.id,
        request_id: a.request_id,
        owner: Owner {
            uid: a.owner_uid,
            gid: a.owner_gid,
        },
        request: request_from_proto(request),
        submitted_unix: a.submitted_unix,
        state,
        explanation: a.explanation,
        degraded: a.degraded,
        history,
    })
}

pub fn disk_from_proto(d: pb::DiskDescription) -> DiskSpec {
    DiskSpec {
        capacity_bytes: d.capacity_bytes,
        write_bw_gbps: d.write_bw_gbps,
        read_bw_gbps: d.read_bw_gbps,
        vendor: d.vendor,
        model: d.model,
        serial: d.serial,
        block_device: d.block_device,
        medium: d.medium,
        tier: d.tier,
        labels: d.labels,
        backend: d.backend,
        mount: d.mount,
    }
}

pub fn disk_to_proto(d: &DiskSpec) -> pb::DiskDescription {
    pb::DiskDescription {
        capacity_bytes: d.capacity_bytes,
        write_bw_gbps: d.write_bw_gbps,
        read_bw_gbps: d.read_bw_gbps,
        vendor: d.vendor.clone(),
        model: d.model.clone(),
        serial: d.serial.clone(),
        block_device: d.block_device.clone(),
        medium: d.medium.clone(),
        tier: d.tier.clone(),
        labels: d.labels.clone(),
        backend: d.backend.clone(),
        mount: d.mount.clone(),
    }
}

/// A node as release 0.1.0 stored it: its disks' slots are their positions.
pub fn node_from_stored_v1(id: u32, drained: bool, d: pb::NodeDescription) -> NodeRecord {
    NodeRecord {
        id,
        hostname: d.hostname,
        address: d.address,
        network_bw_gbps: d.network_bw_gbps,
        disks: {
            let specs: Vec<DiskSpec> = d.disks.into_iter().map(disk_from_proto).collect();
            crate::model::node::identities(&specs)
                .into_iter()
                .zip(specs)
                .enumerate()
                .map(|(i, (identity, spec))| DiskSlot {
                    identity,
                    spec,
                    position: Some(i as u32),
                })
                .collect()
        },
        drained,
    }
}

pub fn registration(req: pb::RegisterRequest) -> Result<Registration, String> {
    let node = req
        .node
        .ok_or_else(|| "node is required (got none)".to_string())?;
    Ok(Registration {
        hostname: node.hostname,
        address: node.address,
        network_bw_gbps: node.network_bw_gbps,
        disks: node.disks.into_iter().map(disk_from_proto).collect(),
        held: req
            .held
            .into_iter()
            .map(|h| Held {
                allocation_id: h.allocation_id,
                position: h.disk,
                attachment: h.attachment.map(attachment_from_proto),
            })
            .collect(),
    })
}

/// A command result; `Err` is the message for `InvalidArgument`.
pub fn outcome(r: &pb::CommandResult) -> Result<CommandOutcome, String> {
    match r.code() {
        pb::ResultCode::Unspecified => Err(format!(
            "code is required for command {} (got RESULT_CODE_UNSPECIFIED)",
            r.command_id
        )),
        pb::ResultCode::Ok => Ok(CommandOutcome::Ok(
            r.attachment.clone().map(attachment_from_proto),
        )),
        code => Ok(CommandOutcome::Failed {
            code: code.as_str_name().to_string(),
            error: r.error.clone(),
        }),
    }
}

/// A command as its agent receives it: disks by the agent's position.
pub fn dispatch_to_proto(d: &Dispatch) -> pb::AgentCommand {
    use pb::agent_command::Kind;
    let kind = match &d.command.kind {
        CommandKind::Allocate {
            allocation_id,
            capacity_bytes,
            start_unix,
            end_unix,
            owner,
            host_nqns,
            ..
        } => Kind::Allocate(pb::AllocateCommand {
            allocation_id: *allocation_id,
            disk: d.position,
            capacity_bytes: *capacity_bytes,
            start_unix: *start_unix,
            end_unix: *end_unix,
            owner_uid: owner.uid,
            owner_gid: owner.gid,
            host_nqns: host_nqns.clone(),
        }),
        CommandKind::Release { allocation_id, .. } => Kind::Release(pb::ReleaseCommand {
            allocation_id: *allocation_id,
            disk: d.position,
        }),
    };
    pb::AgentCommand {
        command_id: d.command.id,
        kind: Some(kind),
    }
}

/// A command as release 0.1.0 stored it (disk positions were slots then).
pub fn command_from_stored_v1(node: u32, c: pb::AgentCommand) -> Result<Command, String> {
    use pb::agent_command::Kind;
    let kind = match c.kind {
        Some(Kind::Allocate(a)) => CommandKind::Allocate {
            allocation_id: a.allocation_id,
            disk: a.disk,
            capacity_bytes: a.capacity_bytes,
            start_unix: a.start_unix,
            end_unix: a.end_unix,
            owner: Owner {
                uid: a.owner_uid,
                gid: a.owner_gid,
            },
            host_nqns: a.host_nqns,
        },
        Some(Kind::Release(r)) => CommandKind::Release {
            allocation_id: r.allocation_id,
            disk: r.disk,
        },
        None => return Err(format!("command {}: it has no kind", c.command_id)),
    };
    Ok(Command {
        id: c.command_id,
        node,
        kind,
    })
}

fn node_state(s: NodeState) -> pb::NodeState {
    match s {
        NodeState::Up => pb::NodeState::Up,
        NodeState::Down => pb::NodeState::Down,
        NodeState::Drained => pb::NodeState::Drained,
    }
}

fn disk_usage(d: &DiskUse, slot: &DiskSlot) -> pb::DiskUsage {
    pb::DiskUsage {
        disk: d.slot,
        capacity_bytes: d.capacity_bytes,
        used_bytes: d.used_bytes,
        allocations: d.allocations,
        medium: d.medium.clone(),
        position: d.position,
        identity: slot.identity.to_string(),
    }
}

/// A node for operators: its description lists every disk slot in slot
/// order (`DiskUsage.position` says where the agent has each).
pub fn node_info(v: &NodeView) -> pb::NodeInfo {
    let r = &v.record;
    let mut out = pb::NodeInfo {
        id: r.id,
        description: Some(pb::NodeDescription {
            hostname: r.hostname.clone(),
            address: r.address.clone(),
            network_bw_gbps: r.network_bw_gbps,
            disks: r.disks.iter().map(|s| disk_to_proto(&s.spec)).collect(),
        }),
        state: 0,
        last_heartbeat_unix: v.last_heartbeat_unix,
        disks: v
            .disks
            .iter()
            .zip(&r.disks)
            .map(|(d, s)| disk_usage(d, s))
            .collect(),
    };
    out.set_state(node_state(v.state));
    out
}
