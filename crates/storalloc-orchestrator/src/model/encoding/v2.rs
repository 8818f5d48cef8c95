//! Records to and from their schema-2 messages (`storalloc.store.v2`).

use crate::model::{
    AllocState, AllocationRecord, Attachment, Command, CommandKind, DiskIdentity, DiskSlot,
    DiskSpec, Grant, NodeRecord, Owner, PlacementRecord, StateName, StorageRequest, Transition,
};
use storalloc_proto::store::v2 as pb;

fn owner(o: &Owner) -> pb::Owner {
    pb::Owner {
        uid: o.uid,
        gid: o.gid,
    }
}

fn owner_back(o: Option<pb::Owner>) -> Owner {
    let o = o.unwrap_or_default();
    Owner {
        uid: o.uid,
        gid: o.gid,
    }
}

fn state(s: StateName) -> pb::State {
    match s {
        StateName::Pending => pb::State::Pending,
        StateName::Granted => pb::State::Granted,
        StateName::Allocated => pb::State::Allocated,
        StateName::Lost => pb::State::Lost,
        StateName::Refused => pb::State::Refused,
        StateName::Failed => pb::State::Failed,
        StateName::Ended => pb::State::Ended,
        StateName::Cancelled => pb::State::Cancelled,
    }
}

fn state_back(s: i32) -> Option<StateName> {
    Some(match pb::State::try_from(s).ok()? {
        pb::State::Unspecified => return None,
        pb::State::Pending => StateName::Pending,
        pb::State::Granted => StateName::Granted,
        pb::State::Allocated => StateName::Allocated,
        pb::State::Lost => StateName::Lost,
        pb::State::Refused => StateName::Refused,
        pb::State::Failed => StateName::Failed,
        pb::State::Ended => StateName::Ended,
        pb::State::Cancelled => StateName::Cancelled,
    })
}

fn attachment(a: &Attachment) -> pb::Attachment {
    pb::Attachment {
        kind: a.kind.clone(),
        nqn: a.nqn.clone(),
        transport: a.transport.clone(),
        address: a.address.clone(),
        port: a.port,
        path: a.path.clone(),
        connect_command: a.connect_command.clone(),
    }
}

fn attachment_back(a: pb::Attachment) -> Attachment {
    Attachment {
        kind: a.kind,
        nqn: a.nqn,
        transport: a.transport,
        address: a.address,
        port: a.port,
        path: a.path,
        connect_command: a.connect_command,
    }
}

fn grant(g: &Grant) -> pb::Grant {
    pb::Grant {
        start_unix: g.start_unix,
        end_unix: g.end_unix,
        delay_s: g.delay_s,
        retries: g.retries,
        placements: g
            .placements
            .iter()
            .map(|p| pb::Placement {
                node: p.node,
                disk: p.disk,
                capacity_bytes: p.capacity_bytes,
                hostname: p.hostname.clone(),
                attachment: p.attachment.as_ref().map(attachment),
            })
            .collect(),
    }
}

fn grant_back(g: pb::Grant) -> Grant {
    Grant {
        start_unix: g.start_unix,
        end_unix: g.end_unix,
        delay_s: g.delay_s,
        retries: g.retries,
        placements: g
            .placements
            .into_iter()
            .map(|p| PlacementRecord {
                node: p.node,
                disk: p.disk,
                capacity_bytes: p.capacity_bytes,
                hostname: p.hostname,
                attachment: p.attachment.map(attachment_back),
            })
            .collect(),
    }
}

fn request(r: &StorageRequest) -> pb::Request {
    pb::Request {
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

fn request_back(r: pb::Request) -> StorageRequest {
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

pub(super) fn allocation(a: &AllocationRecord) -> pb::Allocation {
    let mut out = pb::Allocation {
        id: a.id,
        request_id: a.request_id.clone(),
        owner: Some(owner(&a.owner)),
        request: Some(request(&a.request)),
        submitted_unix: a.submitted_unix,
        state: 0,
        grant: a.state.grant().map(grant),
        refused_retries: match a.state {
            AllocState::Refused { retries } => retries,
            _ => 0,
        },
        explanation: a.explanation.clone(),
        degraded: a.degraded,
        history: a
            .history
            .iter()
            .map(|t| pb::Transition {
                at_unix: t.at_unix,
                state: state(t.state) as i32,
            })
            .collect(),
    };
    out.set_state(state(a.state_name()));
    out
}

pub(super) fn allocation_back(a: pb::Allocation) -> Result<AllocationRecord, String> {
    let id = a.id;
    let name = state_back(a.state).ok_or_else(|| {
        format!(
            "allocation {id}: its state ({}) is not one this storalloc knows",
            a.state
        )
    })?;
    let needs = |g: Option<pb::Grant>| {
        g.map(grant_back)
            .ok_or_else(|| format!("allocation {id} is {} but has no grant", name.as_str()))
    };
    let state = match name {
        StateName::Pending => AllocState::Pending,
        StateName::Granted => AllocState::Granted {
            grant: needs(a.grant)?,
        },
        StateName::Allocated => AllocState::Allocated {
            grant: needs(a.grant)?,
        },
        StateName::Lost => AllocState::Lost {
            grant: needs(a.grant)?,
        },
        StateName::Ended => AllocState::Ended {
            grant: needs(a.grant)?,
        },
        StateName::Refused => AllocState::Refused {
            retries: a.refused_retries,
        },
        StateName::Failed => AllocState::Failed {
            grant: a.grant.map(grant_back),
        },
        StateName::Cancelled => AllocState::Cancelled {
            grant: a.grant.map(grant_back),
        },
    };
    let request = a
        .request
        .map(request_back)
        .ok_or_else(|| format!("allocation {id}: its request is missing"))?;
    let mut history = Vec::with_capacity(a.history.len());
    for t in a.history {
        history.push(Transition {
            at_unix: t.at_unix,
            state: state_back(t.state)
                .ok_or_else(|| format!("allocation {id}: a history step has state {}", t.state))?,
        });
    }
    Ok(AllocationRecord {
        id,
        request_id: a.request_id,
        owner: owner_back(a.owner),
        request,
        submitted_unix: a.submitted_unix,
        state,
        explanation: a.explanation,
        degraded: a.degraded,
        history,
    })
}

fn identity(i: &DiskIdentity) -> pb::DiskIdentity {
    use pb::disk_identity::Kind;
    pb::DiskIdentity {
        kind: Some(match i {
            DiskIdentity::Serial(s) => Kind::Serial(s.clone()),
            DiskIdentity::Device(d) => Kind::Device(d.clone()),
            DiskIdentity::Position(p) => Kind::Position(*p),
        }),
    }
}

fn identity_back(i: Option<pb::DiskIdentity>) -> Option<DiskIdentity> {
    use pb::disk_identity::Kind;
    Some(match i?.kind? {
        Kind::Serial(s) => DiskIdentity::Serial(s),
        Kind::Device(d) => DiskIdentity::Device(d),
        Kind::Position(p) => DiskIdentity::Position(p),
    })
}

fn spec(d: &DiskSpec) -> pb::DiskSpec {
    pb::DiskSpec {
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

fn spec_back(d: pb::DiskSpec) -> DiskSpec {
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

pub(super) fn node(n: &NodeRecord) -> pb::Node {
    pb::Node {
        id: n.id,
        hostname: n.hostname.clone(),
        address: n.address.clone(),
        network_bw_gbps: n.network_bw_gbps,
        disks: n
            .disks
            .iter()
            .map(|d| pb::DiskSlot {
                identity: Some(identity(&d.identity)),
                spec: Some(spec(&d.spec)),
                position: d.position,
            })
            .collect(),
        drained: n.drained,
    }
}

pub(super) fn node_back(n: pb::Node) -> Result<NodeRecord, String> {
    let id = n.id;
    let mut disks = Vec::with_capacity(n.disks.len());
    for (i, d) in n.disks.into_iter().enumerate() {
        disks.push(DiskSlot {
            identity: identity_back(d.identity)
                .ok_or_else(|| format!("node {id}: disk slot {i} has no identity"))?,
            spec: d
                .spec
                .map(spec_back)
                .ok_or_else(|| format!("node {id}: disk slot {i} has no description"))?,
            position: d.position,
        });
    }
    Ok(NodeRecord {
        id,
        hostname: n.hostname,
        address: n.address,
        network_bw_gbps: n.network_bw_gbps,
        disks,
        drained: n.drained,
    })
}

pub(super) fn command(c: &Command) -> pb::Command {
    use pb::command::Kind;
    pb::Command {
        id: c.id,
        node: c.node,
        kind: Some(match &c.kind {
            CommandKind::Allocate {
                allocation_id,
                disk,
                capacity_bytes,
                start_unix,
                end_unix,
                owner: o,
                host_nqns,
            } => Kind::Allocate(pb::Allocate {
                allocation_id: *allocation_id,
                disk: *disk,
                capacity_bytes: *capacity_bytes,
                start_unix: *start_unix,
                end_unix: *end_unix,
                owner: Some(owner(o)),
                host_nqns: host_nqns.clone(),
            }),
            CommandKind::Release {
                allocation_id,
                disk,
            } => Kind::Release(pb::Release {
                allocation_id: *allocation_id,
                disk: *disk,
            }),
        }),
    }
}

pub(super) fn command_back(c: pb::Command) -> Result<Command, String> {
    use pb::command::Kind;
    let kind = match c.kind {
        Some(Kind::Allocate(a)) => CommandKind::Allocate {
            allocation_id: a.allocation_id,
            disk: a.disk,
            capacity_bytes: a.capacity_bytes,
            start_unix: a.start_unix,
            end_unix: a.end_unix,
            owner: owner_back(a.owner),
            host_nqns: a.host_nqns,
        },
        Some(Kind::Release(r)) => CommandKind::Release {
            allocation_id: r.allocation_id,
            disk: r.disk,
        },
        None => return Err(format!("command {}: it has no kind", c.id)),
    };
    Ok(Command {
        id: c.id,
        node: c.node,
        kind,
    })
}
