//! Nodes as operators see them: listing with per-disk use, drain and resume.

use super::{Engine, EngineError};
use crate::clock::Clock;
use crate::comm::AgentComm;
use crate::store::StateStore;
use std::collections::HashMap;
use storalloc_core::{DiskRef, Timestamp};
use storalloc_proto::v1::{node_request, DiskUsage, NodeInfo, NodeRequest, NodeState};

impl<S: StateStore, A: AgentComm, C: Clock> Engine<S, A, C> {
    pub fn node_infos(&mut self) -> Vec<NodeInfo> {
        self.sched();
        (0..self.nodes.len() as u32)
            .map(|n| self.node_info(n))
            .collect()
    }

    /// Needs a fresh scheduler (see `sched()`).
    fn node_info(&self, id: u32) -> NodeInfo {
        let n = &self.nodes[id as usize];
        let now = self.now();
        let mut per_disk: HashMap<u32, u32> = HashMap::new();
        for a in &self.node_allocs[id as usize] {
            let mut disks: Vec<u32> = self.allocs[a]
                .placements
                .iter()
                .filter(|p| p.node == id)
                .map(|p| p.disk)
                .collect();
            disks.dedup();
            for d in disks {
                *per_disk.entry(d).or_default() += 1;
            }
        }
        let disks = n
            .stored
            .description
            .disks
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let disk = DiskRef {
                    node: id,
                    disk: i as u32,
                };
                DiskUsage {
                    disk: i as u32,
                    capacity_bytes: d.capacity_bytes,
                    used_bytes: self.sched.peak_usage(disk, now, Timestamp(now.0 + 1)).0,
                    allocations: per_disk.get(&(i as u32)).copied().unwrap_or(0),
                    medium: d.medium.clone(),
                }
            })
            .collect();
        let state = if !n.up {
            NodeState::Down
        } else if n.stored.drained {
            NodeState::Drained
        } else {
            NodeState::Up
        };
        NodeInfo {
            id,
            description: Some(n.stored.description.clone()),
            state: state as i32,
            last_heartbeat_unix: n.last_heartbeat,
            disks,
        }
    }

    fn find_node(&self, req: &NodeRequest) -> Result<u32, EngineError> {
        match &req.node {
            Some(node_request::Node::Id(id)) if (*id as usize) < self.nodes.len() => Ok(*id),
            Some(node_request::Node::Id(id)) => {
                Err(EngineError::NotFound(format!("node {id} does not exist")))
            }
            Some(node_request::Node::Hostname(h)) => self
                .by_hostname
                .get(h)
                .copied()
                .ok_or_else(|| EngineError::NotFound(format!("no node has hostname {h:?}"))),
            None => Err(EngineError::InvalidArgument(
                "node is required: give its id or its hostname".into(),
            )),
        }
    }

    /// No new placements on the node; its allocations stay.
    pub fn drain_node(&mut self, req: &NodeRequest) -> Result<NodeInfo, EngineError> {
        let id = self.find_node(req)?;
        let n = &mut self.nodes[id as usize];
        if !n.stored.drained {
            n.stored.drained = true;
            self.txn.nodes.insert(id);
            self.set_available(id, false);
            tracing::info!(node = id, "node drained");
        }
        self.sched();
        Ok(self.node_info(id))
    }

    pub fn resume_node(&mut self, req: &NodeRequest) -> Result<NodeInfo, EngineError> {
        let id = self.find_node(req)?;
        let n = &mut self.nodes[id as usize];
        if n.stored.drained {
            n.stored.drained = false;
            let up = n.up;
            self.txn.nodes.insert(id);
            self.set_available(id, up);
            tracing::info!(node = id, "node resumed");
            let now = self.now();
            self.decide_pending(now);
        }
        self.sched();
        Ok(self.node_info(id))
    }
}
