//! What storage-server agents ask of the engine: registration with
//! reconciliation, heartbeats, the command stream and command results.

use super::{disk_groups, is_live, Engine, EngineError, NodeRt};
use crate::clock::Clock;
use crate::comm::AgentComm;
use crate::store::{StateStore, StoredNode};
use crate::validate::core_node;
use std::collections::{BTreeSet, HashSet};
use storalloc_proto::v1::agent_command::Kind;
use storalloc_proto::v1::{
    AllocationState, CommandResult, HeartbeatResponse, HeldAllocation, RegisterRequest,
    RegisterResponse, ResultCode,
};

impl<S: StateStore, A: AgentComm, C: Clock> Engine<S, A, C> {
    /// A node's agent (re)starts. A known hostname keeps its node id; a new
    /// one gets the next id and the scheduler's system grows. What the agent
    /// holds is reconciled with the records: orphans come back in the
    /// response for the agent to release, and started allocations it lacks
    /// get new Allocate commands.
    pub fn register(&mut self, req: RegisterRequest) -> Result<RegisterResponse, EngineError> {
        let desc = req
            .node
            .ok_or_else(|| EngineError::InvalidArgument("node is required (got none)".into()))?;
        let core = core_node(&desc).map_err(EngineError::InvalidArgument)?;
        let now = self.now();
        let id = match self.by_hostname.get(&desc.hostname) {
            Some(&id) => {
                let n = &mut self.nodes[id as usize];
                if n.stored.description != desc {
                    n.stored.description = desc;
                    self.txn.nodes.insert(id);
                }
                if n.core != core {
                    n.core = core;
                    tracing::info!(
                        node = id,
                        "node description changed: rebuilding the scheduler"
                    );
                    self.sched_stale = true;
                }
                id
            }
            None => {
                let id = self.nodes.len() as u32;
                tracing::info!(node = id, hostname = %desc.hostname, "new node");
                self.by_hostname.insert(desc.hostname.clone(), id);
                self.nodes.push(NodeRt {
                    stored: StoredNode {
                        id,
                        description: desc,
                        drained: false,
                    },
                    core,
                    up: false,
                    last_heartbeat: now.0,
                    session: None,
                });
                self.txn.nodes.insert(id);
                self.node_allocs.push(Default::default());
                self.sched_stale = true;
                id
            }
        };
        if let Some(old) = self.nodes[id as usize].session.take() {
            self.sessions.remove(&old);
        }
        self.comm.close_stream(id);
        self.session_counter += 1;
        let session = format!("{:016x}-{id}-{}", self.run_nonce, self.session_counter);
        self.sessions.insert(session.clone(), id);
        let n = &mut self.nodes[id as usize];
        n.session = Some(session.clone());
        n.up = true;
        n.last_heartbeat = now.0;
        let available = !n.stored.drained;
        self.set_available(id, available);
        self.refresh_degraded(id);
        let orphans = self.reconcile(id, &req.held);
        self.decide_pending(now);
        tracing::info!(node = id, orphans = orphans.len(), "node registered");
        Ok(RegisterResponse {
            node_id: id,
            session_id: session,
            heartbeat_interval_s: self.cfg.heartbeat_interval_s,
            orphans,
        })
    }

    fn reconcile(&mut self, node: u32, held: &[HeldAllocation]) -> Vec<u64> {
        let mut kept: HashSet<(u64, u32)> = HashSet::new();
        let mut orphans: BTreeSet<u64> = BTreeSet::new();
        for h in held {
            let known = self.allocs.get(&h.allocation_id).is_some_and(|a| {
                is_live(a)
                    && a.placements
                        .iter()
                        .any(|p| p.node == node && p.disk == h.disk)
            }) && self.issued(h.allocation_id);
            if known {
                kept.insert((h.allocation_id, h.disk));
                let att = h.attachment.clone().unwrap_or_default();
                self.confirm(h.allocation_id, node, h.disk, att);
            } else {
                orphans.insert(h.allocation_id);
            }
        }
        // Outstanding commands of this node: a Release is settled either way
        // (the disk is not held, or the agent releases the orphan itself); an
        // Allocate is settled if the disk is held, else re-sent on the stream.
        let mine: Vec<(u64, Kind)> = self
            .outbox
            .values()
            .filter(|c| c.node == node)
            .filter_map(|c| c.command.kind.clone().map(|k| (c.command.command_id, k)))
            .collect();
        let mut allocating: HashSet<(u64, u32)> = HashSet::new();
        for (cid, kind) in mine {
            match kind {
                Kind::Release(_) => {
                    self.finish_command(cid);
                }
                Kind::Allocate(a) => {
                    if kept.contains(&(a.allocation_id, a.disk)) {
                        self.finish_command(cid);
                    } else {
                        allocating.insert((a.allocation_id, a.disk));
                    }
                }
            }
        }
        let live: Vec<u64> = self.node_allocs[node as usize].iter().copied().collect();
        for id in live {
            if !self.issued(id) {
                continue;
            }
            let lost: Vec<u32> = disk_groups(&self.allocs[&id])
                .into_iter()
                .filter(|&(n, d, _)| {
                    n == node && !kept.contains(&(id, d)) && !allocating.contains(&(id, d))
                })
                .map(|(_, d, _)| d)
                .collect();
            if lost.is_empty() {
                continue;
            }
            let hostname = self.nodes[node as usize]
                .stored
                .description
                .hostname
                .clone();
            let a = self.alloc_mut(id);
            for p in a.placements.iter_mut() {
                if p.node == node && lost.contains(&p.disk) {
                    p.attachment = None;
                }
            }
            if a.state() == AllocationState::Allocated {
                a.set_state(AllocationState::Granted);
                a.explanation =
                    format!("{hostname} does not hold its storage any more; re-creating it");
            }
            tracing::info!(
                allocation = id,
                node,
                "re-issuing Allocate for storage the agent lacks"
            );
            self.issue_allocates(id);
        }
        orphans.into_iter().collect()
    }

    /// A heartbeat; `known: false` tells the agent to register again.
    pub fn heartbeat(&mut self, session_id: &str) -> HeartbeatResponse {
        let now = self.now().0;
        match self.sessions.get(session_id) {
            Some(&n) => {
                self.nodes[n as usize].last_heartbeat = now;
                HeartbeatResponse { known: true }
            }
            None => HeartbeatResponse { known: false },
        }
    }

    /// The agent of `session_id` opens its command stream: every command of
    /// its node without a result is sent again, in order.
    pub fn open_commands(&mut self, session_id: &str) -> Result<A::Stream, EngineError> {
        let node = self.session_node(session_id)?;
        let stream = self.comm.open_stream(node);
        let uncommitted: HashSet<u64> = self.txn.added.iter().copied().collect();
        // Commands of this transaction go out at commit; the rest now.
        for c in self.outbox.values() {
            if c.node == node && !uncommitted.contains(&c.command.command_id) {
                self.comm.send(node, &c.command);
            }
        }
        Ok(stream)
    }

    /// The outcome of one command. A result for a command that already has
    /// one (or was dropped) is acknowledged and ignored.
    pub fn report_result(&mut self, r: CommandResult) -> Result<(), EngineError> {
        let node = self.session_node(&r.session_id)?;
        let code = r.code();
        if code == ResultCode::Unspecified {
            return Err(EngineError::InvalidArgument(format!(
                "code is required for command {} (got RESULT_CODE_UNSPECIFIED)",
                r.command_id
            )));
        }
        let Some(c) = self.outbox.get(&r.command_id) else {
            return Ok(());
        };
        if c.node != node {
            return Err(EngineError::FailedPrecondition(format!(
                "command {} was sent to node {}, not to this session's node {node}",
                r.command_id, c.node
            )));
        }
        let c = self.finish_command(r.command_id).expect("present");
        match c.command.kind {
            Some(Kind::Allocate(a)) => {
                if code == ResultCode::Ok {
                    self.confirm(
                        a.allocation_id,
                        node,
                        a.disk,
                        r.attachment.unwrap_or_default(),
                    );
                } else if self.allocs.get(&a.allocation_id).is_some_and(is_live) {
                    let host = &self.nodes[node as usize].stored.description.hostname;
                    let why = format!(
                        "{host} could not create the storage on disk {}: {}",
                        a.disk,
                        if r.error.is_empty() {
                            code.as_str_name()
                        } else {
                            &r.error
                        }
                    );
                    tracing::warn!(allocation = a.allocation_id, node, "{why}");
                    self.fail_allocation(a.allocation_id, why, Some((node, a.disk)));
                }
            }
            Some(Kind::Release(rel)) if code != ResultCode::Ok => {
                tracing::warn!(
                    allocation = rel.allocation_id,
                    node,
                    disk = rel.disk,
                    error = %r.error,
                    "agent could not release storage"
                );
            }
            Some(Kind::Release(_)) => {}
            None => {}
        }
        Ok(())
    }

    fn session_node(&self, session_id: &str) -> Result<u32, EngineError> {
        self.sessions.get(session_id).copied().ok_or_else(|| {
            EngineError::FailedPrecondition(format!(
                "session {session_id:?} is unknown or stale; register again"
            ))
        })
    }

    /// The node missed its heartbeats: no new placements, its session ends
    /// and its allocations are degraded.
    pub(super) fn mark_down(&mut self, node: u32) {
        let n = &mut self.nodes[node as usize];
        n.up = false;
        if let Some(s) = n.session.take() {
            self.sessions.remove(&s);
        }
        self.comm.close_stream(node);
        self.set_available(node, false);
        self.refresh_degraded(node);
    }

    /// Recomputes `degraded` for the live allocations on `node`.
    pub(super) fn refresh_degraded(&mut self, node: u32) {
        let ids: Vec<u64> = self.node_allocs[node as usize].iter().copied().collect();
        for id in ids {
            let d = self.compute_degraded(id);
            if self.allocs[&id].degraded != d {
                self.alloc_mut(id).degraded = d;
            }
        }
    }
}
