//! Building the world from what the store holds: the start-up path after a
//! clean stop and after a crash alike.

use super::{core_node, NodeRt, Step, World};
use crate::model::{AllocationRecord, Command, NodeRecord};
use std::collections::BTreeSet;
use storalloc_core::{AllocId, Allocation as CoreAllocation, Bytes, DiskRef, Placement, Timestamp};

/// A stored state that cannot be loaded as it is; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}")]
pub struct RecoveryError {
    pub what: String,
}

fn corrupt(what: String) -> RecoveryError {
    RecoveryError { what }
}

/// The core's view of a live allocation record.
pub(crate) fn core_allocation(a: &AllocationRecord) -> Option<CoreAllocation> {
    let g = a.state.live_grant()?;
    Some(CoreAllocation {
        id: AllocId(a.id),
        start: Timestamp(g.start_unix),
        end: Timestamp(g.end_unix),
        placements: g
            .placements
            .iter()
            .map(|p| Placement {
                disk: DiskRef {
                    node: p.node,
                    disk: p.disk,
                },
                capacity: Bytes(p.capacity_bytes),
            })
            .collect(),
    })
}

/// What the store gives back at start-up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub nodes: Vec<NodeRecord>,
    pub allocations: Vec<AllocationRecord>,
    pub outbox: Vec<Command>,
    pub next_allocation_id: u64,
    pub next_command_id: u64,
}

impl World {
    /// Restores every record. Every node starts DOWN (its disks unknown)
    /// until its agent registers again; allocations whose end passed while
    /// the orchestrator was stopped end now (their release commands wait in
    /// the outbox for the agents). A record that contradicts the others
    /// (a placement on a disk that does not exist, an over-committed disk)
    /// is an error naming it: the orchestrator refuses to start.
    pub fn restore(
        cfg: super::EngineConfig,
        loaded: Loaded,
        now: i64,
        run_nonce: u64,
    ) -> Result<Step<World>, RecoveryError> {
        let mut w = World::new(cfg, run_nonce);
        w.opened_at = now;
        for (i, record) in loaded.nodes.into_iter().enumerate() {
            if record.id as usize != i {
                return Err(corrupt(format!(
                    "node ids are not dense: expected {i}, found {}",
                    record.id
                )));
            }
            let core = core_node(&record).map_err(|e| corrupt(format!("node {i}: {e}")))?;
            w.sched.add_node(core);
            let _ = w.sched.set_node_available(i as u32, false);
            w.by_hostname.insert(record.hostname.clone(), i as u32);
            w.nodes.push(NodeRt {
                record,
                up: false,
                last_heartbeat: 0,
                session: None,
            });
            w.node_allocs.push(BTreeSet::new());
        }
        for (i, n) in w.nodes.iter().enumerate() {
            for (s, d) in n.record.disks.iter().enumerate() {
                if d.position.is_none() {
                    let _ = w.sched.set_disk_available(
                        DiskRef {
                            node: i as u32,
                            disk: s as u32,
                        },
                        false,
                    );
                }
            }
        }
        w.next_alloc_id = loaded.next_allocation_id.max(1);
        w.next_command_id = loaded.next_command_id.max(1);
        for c in loaded.outbox {
            if c.node as usize >= w.nodes.len() {
                return Err(corrupt(format!(
                    "command {} is for node {}, which does not exist",
                    c.id, c.node
                )));
            }
            w.next_command_id = w.next_command_id.max(c.id + 1);
            w.outbox_by_alloc
                .entry(c.kind.allocation_id())
                .or_default()
                .insert(c.id);
            w.outbox.insert(c.id, c);
        }
        let mut live = Vec::new();
        for a in loaded.allocations {
            if let Some(&other) = w.by_request_id.get(&a.request_id) {
                return Err(corrupt(format!(
                    "allocations {other} and {} share request id {:?}",
                    a.id, a.request_id
                )));
            }
            w.by_request_id.insert(a.request_id.clone(), a.id);
            w.next_alloc_id = w.next_alloc_id.max(a.id + 1);
            match a.state_name() {
                crate::model::StateName::Pending => {
                    w.pending.insert(a.id);
                }
                _ if a.is_live() => live.push(a.id),
                _ => {
                    let at = a.finished_unix().unwrap_or(a.submitted_unix);
                    w.finished.insert((at, a.id));
                }
            }
            w.allocs.insert(a.id, a);
        }
        live.sort_unstable();
        for id in live {
            let a = &w.allocs[&id];
            let core = core_allocation(a).expect("live has a grant");
            w.sched.restore(core).map_err(|e| {
                corrupt(format!(
                    "allocation {id} ({}) cannot be restored: {e}",
                    a.state_name().as_str()
                ))
            })?;
            let g = a.state.live_grant().expect("live");
            if g.start_unix > now && g.none_ready() {
                w.starts.insert((g.start_unix, id));
            }
            w.index_live(id);
            if w.compute_degraded(id) && !w.allocs[&id].degraded {
                w.allocs.get_mut(&id).expect("present").degraded = true;
            }
        }
        let step = w.tick(now);
        tracing::info!(
            nodes = w.nodes.len(),
            allocations = w.allocs.len(),
            live = w.sched.live_count(),
            pending = w.pending.len(),
            outbox = w.outbox.len(),
            "state recovered"
        );
        Ok(Step {
            effects: step.effects,
            out: w,
        })
    }
}
