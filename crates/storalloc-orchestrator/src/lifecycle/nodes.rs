//! Nodes as operators see them: per-disk use now, drain and resume.

use super::{EngineError, Step, World};
use crate::model::NodeRecord;
use std::collections::{BTreeMap, BTreeSet};
use storalloc_core::{DiskRef, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    Up,
    Down,
    Drained,
}

impl NodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Up => "UP",
            NodeState::Down => "DOWN",
            NodeState::Drained => "DRAINED",
        }
    }
}

/// One disk slot's use now.
#[derive(Debug, Clone, PartialEq)]
pub struct DiskUse {
    pub slot: u32,
    /// Where the agent has it now; `None` while it is missing.
    pub position: Option<u32>,
    pub capacity_bytes: u64,
    pub used_bytes: u64,
    /// Live allocations with a placement on it (each counted once).
    pub allocations: u32,
    pub medium: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeView {
    pub record: NodeRecord,
    pub state: NodeState,
    pub last_heartbeat_unix: i64,
    pub disks: Vec<DiskUse>,
}

/// Which node an admin names.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeName {
    Id(u32),
    Hostname(String),
}

impl World {
    pub fn node_views(&self, now: i64) -> Vec<NodeView> {
        (0..self.nodes.len() as u32)
            .map(|n| self.node_view(n, now))
            .collect()
    }

    fn node_view(&self, id: u32, now: i64) -> NodeView {
        let n = &self.nodes[id as usize];
        let mut per_disk: BTreeMap<u32, u32> = BTreeMap::new();
        for a in &self.node_allocs[id as usize] {
            let Some(g) = self.allocs[a].state.live_grant() else {
                continue;
            };
            // A split allocation may land twice on one disk: count it once.
            let disks: BTreeSet<u32> = g
                .placements
                .iter()
                .filter(|p| p.node == id)
                .map(|p| p.disk)
                .collect();
            for d in disks {
                *per_disk.entry(d).or_default() += 1;
            }
        }
        let disks = n
            .record
            .disks
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let r = DiskRef {
                    node: id,
                    disk: i as u32,
                };
                DiskUse {
                    slot: i as u32,
                    position: d.position,
                    capacity_bytes: d.spec.capacity_bytes,
                    used_bytes: self
                        .sched
                        .peak_usage(r, Timestamp(now), Timestamp(now + 1))
                        .0,
                    allocations: per_disk.get(&(i as u32)).copied().unwrap_or(0),
                    medium: d.spec.medium.clone(),
                }
            })
            .collect();
        let state = if !n.up {
            NodeState::Down
        } else if n.record.drained {
            NodeState::Drained
        } else {
            NodeState::Up
        };
        NodeView {
            record: n.record.clone(),
            state,
            last_heartbeat_unix: n.last_heartbeat,
            disks,
        }
    }

    fn find_node(&self, name: &NodeName) -> Result<u32, EngineError> {
        match name {
            NodeName::Id(id) if (*id as usize) < self.nodes.len() => Ok(*id),
            NodeName::Id(id) => Err(EngineError::NotFound(format!("node {id} does not exist"))),
            NodeName::Hostname(h) => self
                .by_hostname
                .get(h)
                .copied()
                .ok_or_else(|| EngineError::NotFound(format!("no node has hostname {h:?}"))),
        }
    }

    /// No new placements on the node; its allocations stay.
    pub fn drain_node(&mut self, name: &NodeName, now: i64) -> Step<Result<NodeView, EngineError>> {
        self.step(|w| {
            let id = w.find_node(name)?;
            let n = &mut w.nodes[id as usize];
            if !n.record.drained {
                n.record.drained = true;
                w.fx.push(super::Effect::SaveNode(id));
                let _ = w.sched.set_node_available(id, false);
                tracing::info!(node = id, "node drained");
            }
            Ok(w.node_view(id, now))
        })
    }

    pub fn resume_node(
        &mut self,
        name: &NodeName,
        now: i64,
    ) -> Step<Result<NodeView, EngineError>> {
        self.step(|w| {
            let id = w.find_node(name)?;
            let n = &mut w.nodes[id as usize];
            if n.record.drained {
                n.record.drained = false;
                let up = n.up;
                w.fx.push(super::Effect::SaveNode(id));
                let _ = w.sched.set_node_available(id, up);
                tracing::info!(node = id, "node resumed");
                w.decide_pending(now);
            }
            Ok(w.node_view(id, now))
        })
    }
}
