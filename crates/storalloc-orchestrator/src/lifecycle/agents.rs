//! What storage-server agents ask: registration (with disks matched by
//! identity and storage reconciled), heartbeats, command results; and a
//! node going DOWN.

use super::{core_node, Effect, EngineError, NodeRt, Step, World};
use crate::model::{
    AllocState, Attachment, CommandKind, DiskIdentity, DiskSlot, DiskSpec, Dispatch, NodeRecord,
};
use std::collections::{BTreeSet, HashMap, HashSet};
use storalloc_core::{AllocId, CoreError, DiskRef};

/// An agent's registration: its node and what storage it holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Registration {
    pub hostname: String,
    pub address: String,
    pub network_bw_gbps: f64,
    /// In the agent's order: a command's disk is an index in this list.
    pub disks: Vec<DiskSpec>,
    pub held: Vec<Held>,
}

/// Storage an agent holds: an allocation on its disk `position`.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    pub allocation_id: u64,
    pub position: u32,
    pub attachment: Option<Attachment>,
}

/// What the agent learns from a registration.
#[derive(Debug, Clone, PartialEq)]
pub struct Registered {
    pub node_id: u32,
    pub session_id: String,
    pub heartbeat_interval_s: u32,
    /// Allocations it holds that it must release.
    pub orphans: Vec<u64>,
}

/// The outcome of one command, as its agent reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandOutcome {
    Ok(Option<Attachment>),
    Failed { code: String, error: String },
}

/// How a node's reported disks map onto its slots.
struct DiskPlan {
    /// For each reported disk, its slot (existing, or new when >= the
    /// current slot count).
    slot_of: Vec<u32>,
    /// Existing slots the agent no longer reports.
    vanished: Vec<u32>,
}

impl World {
    /// A node's agent (re)starts. A known hostname keeps its node id and
    /// its disks are matched to their slots by identity (serial, else block
    /// device, else position): allocations on a disk still there survive,
    /// those on a vanished disk go LOST, new disks join, and a disk that
    /// shrank under its allocations refuses the registration.
    pub fn register(
        &mut self,
        reg: Registration,
        now: i64,
    ) -> Step<Result<Registered, EngineError>> {
        self.step(|w| w.register_inner(reg, now))
    }

    fn register_inner(&mut self, reg: Registration, now: i64) -> Result<Registered, EngineError> {
        let candidate = NodeRecord {
            id: 0,
            hostname: reg.hostname.clone(),
            address: reg.address.clone(),
            network_bw_gbps: reg.network_bw_gbps,
            disks: crate::model::node::identities(&reg.disks)
                .into_iter()
                .zip(&reg.disks)
                .enumerate()
                .map(|(i, (identity, spec))| DiskSlot {
                    identity,
                    spec: spec.clone(),
                    position: Some(i as u32),
                })
                .collect(),
            drained: false,
        };
        crate::validate::check_node(&candidate).map_err(EngineError::InvalidArgument)?;
        let id = match self.by_hostname.get(&reg.hostname) {
            Some(&id) => {
                self.apply_disks(id, &candidate, now)?;
                let r = &mut self.nodes[id as usize].record;
                if r.address != candidate.address || r.network_bw_gbps != candidate.network_bw_gbps
                {
                    r.address = candidate.address;
                    r.network_bw_gbps = candidate.network_bw_gbps;
                    self.fx.push(Effect::SaveNode(id));
                }
                id
            }
            None => self.add_node(candidate, now)?,
        };
        if let Some(old) = self.nodes[id as usize].session.take() {
            self.sessions.remove(&old);
        }
        self.fx.push(Effect::CloseStream(id));
        self.session_counter += 1;
        let session = format!("{:016x}-{id}-{}", self.run_nonce, self.session_counter);
        self.sessions.insert(session.clone(), id);
        let n = &mut self.nodes[id as usize];
        n.session = Some(session.clone());
        n.up = true;
        n.last_heartbeat = now;
        let available = !n.record.drained;
        let _ = self.sched.set_node_available(id, available);
        self.refresh_degraded(id);
        let orphans = self.reconcile(id, &reg.held, now);
        self.decide_pending(now);
        tracing::info!(node = id, orphans = orphans.len(), "node registered");
        Ok(Registered {
            node_id: id,
            session_id: session,
            heartbeat_interval_s: self.cfg.heartbeat_interval_s,
            orphans,
        })
    }

    fn add_node(&mut self, mut record: NodeRecord, now: i64) -> Result<u32, EngineError> {
        let id = self.nodes.len() as u32;
        record.id = id;
        let core = core_node(&record).map_err(EngineError::InvalidArgument)?;
        let got = self.sched.add_node(core);
        debug_assert_eq!(got, id);
        tracing::info!(node = id, hostname = %record.hostname, "new node");
        self.by_hostname.insert(record.hostname.clone(), id);
        self.nodes.push(NodeRt {
            record,
            up: false,
            last_heartbeat: now,
            session: None,
        });
        self.node_allocs.push(BTreeSet::new());
        self.fx.push(Effect::SaveNode(id));
        Ok(id)
    }

    fn plan_disks(&self, node: u32, reported: &NodeRecord) -> DiskPlan {
        let slots = &self.nodes[node as usize].record.disks;
        let by_identity: HashMap<&DiskIdentity, u32> = slots
            .iter()
            .enumerate()
            .map(|(i, s)| (&s.identity, i as u32))
            .collect();
        let mut next = slots.len() as u32;
        let mut slot_of = Vec::with_capacity(reported.disks.len());
        for d in &reported.disks {
            match by_identity.get(&d.identity) {
                Some(&s) => slot_of.push(s),
                None => {
                    slot_of.push(next);
                    next += 1;
                }
            }
        }
        let kept: HashSet<u32> = slot_of.iter().copied().collect();
        let vanished = (0..slots.len() as u32)
            .filter(|s| !kept.contains(s) && slots[*s as usize].position.is_some())
            .collect();
        DiskPlan { slot_of, vanished }
    }

    /// Applies a known node's reported disks to its slots, all or nothing.
    fn apply_disks(
        &mut self,
        node: u32,
        reported: &NodeRecord,
        now: i64,
    ) -> Result<(), EngineError> {
        let plan = self.plan_disks(node, reported);
        let old_slots = self.nodes[node as usize].record.disks.clone();
        let hostname = reported.hostname.clone();
        // Capacity changes first: a shrink under live allocations refuses
        // the whole registration, with what was already changed undone.
        let mut updated: Vec<u32> = Vec::new();
        for (i, &slot) in plan.slot_of.iter().enumerate() {
            let Some(old) = old_slots.get(slot as usize) else {
                continue;
            };
            let new = &reported.disks[i];
            if old.spec == new.spec {
                continue;
            }
            let disk = crate::validate::core_disk(&new.spec, &format!("node.disks[{i}]"))
                .map_err(EngineError::InvalidArgument)?;
            let r = DiskRef { node, disk: slot };
            if let Err(e) = self.sched.update_disk(r, disk) {
                for &s in &updated {
                    let back = crate::validate::core_disk(&old_slots[s as usize].spec, "")
                        .expect("it was accepted before");
                    let _ = self.sched.update_disk(DiskRef { node, disk: s }, back);
                }
                return Err(shrink_error(&hostname, i, &new.identity, e));
            }
            updated.push(slot);
        }
        let rec = &mut self.nodes[node as usize].record;
        let mut changed = false;
        for s in rec.disks.iter_mut() {
            if s.position.is_some() {
                s.position = None;
                changed = true;
            }
        }
        let mut returned = Vec::new();
        let mut added = Vec::new();
        for (i, &slot) in plan.slot_of.iter().enumerate() {
            let new = &reported.disks[i];
            match rec.disks.get_mut(slot as usize) {
                Some(s) => {
                    if old_slots[slot as usize].position.is_none() {
                        returned.push(slot);
                    }
                    if s.spec != new.spec {
                        s.spec = new.spec.clone();
                    }
                    s.position = Some(i as u32);
                }
                None => {
                    rec.disks.push(new.clone());
                    added.push((slot, i));
                }
            }
        }
        if rec.disks != old_slots || changed {
            self.fx.push(Effect::SaveNode(node));
        }
        for (slot, i) in added {
            let disk =
                crate::validate::core_disk(&reported.disks[i].spec, &format!("node.disks[{i}]"))
                    .map_err(EngineError::InvalidArgument)?;
            let r = self
                .sched
                .add_disk(node, disk)
                .map_err(|e| EngineError::InvalidArgument(e.to_string()))?;
            debug_assert_eq!(r.disk, slot);
            tracing::info!(node, slot, identity = %reported.disks[i].identity, "disk added");
        }
        for &slot in &returned {
            let _ = self
                .sched
                .set_disk_available(DiskRef { node, disk: slot }, true);
            tracing::info!(node, slot, "disk is back");
        }
        for &slot in &plan.vanished {
            let _ = self
                .sched
                .set_disk_available(DiskRef { node, disk: slot }, false);
        }
        for &slot in &plan.vanished {
            let identity = old_slots[slot as usize].identity.clone();
            for id in self.sched.allocations_on_disk(DiskRef { node, disk: slot }) {
                self.mark_lost(id.0, node, slot, &identity, now);
            }
        }
        if !returned.is_empty() {
            self.recover_lost(node, now);
        }
        Ok(())
    }

    /// An allocation's disk vanished: LOST, capacity still booked, nothing
    /// released.
    fn mark_lost(&mut self, id: u64, node: u32, slot: u32, identity: &DiskIdentity, now: i64) {
        let host = self.hostname(node);
        let Some(a) = self.allocs.get_mut(&id) else {
            return;
        };
        if !a.is_live() {
            return;
        }
        self.fx.push(Effect::SaveAllocation(id));
        let mut grant = a.state.take_grant().expect("live");
        for p in grant.placements.iter_mut() {
            if p.node == node && p.disk == slot {
                p.attachment = None;
            }
        }
        a.explanation = format!(
            "disk {slot} of {host} ({identity}) is no longer reported by its agent; \
             its capacity stays booked and nothing was released: put the disk back \
             (restart the agent with it) or cancel the allocation"
        );
        a.set_state(AllocState::Lost { grant }, now);
        tracing::error!(allocation = id, node, slot, %identity, "allocation LOST: its disk vanished");
    }

    /// LOST allocations on `node` whose disks are all back become GRANTED;
    /// reconciliation then confirms or re-creates their storage.
    fn recover_lost(&mut self, node: u32, now: i64) {
        let ids: Vec<u64> = self.node_allocs[node as usize].iter().copied().collect();
        for id in ids {
            let a = &self.allocs[&id];
            let AllocState::Lost { grant } = &a.state else {
                continue;
            };
            let all_back = grant.placements.iter().all(|p| {
                self.nodes
                    .get(p.node as usize)
                    .is_some_and(|n| n.record.position_of(p.disk).is_some())
            });
            if !all_back {
                continue;
            }
            let a = self.alloc_mut(id);
            let grant = a.state.take_grant().expect("lost has a grant");
            a.explanation = "its disk is back; checking its storage".into();
            a.set_state(AllocState::Granted { grant }, now);
        }
    }

    fn reconcile(&mut self, node: u32, held: &[Held], now: i64) -> Vec<u64> {
        let mut kept: HashSet<(u64, u32)> = HashSet::new();
        let mut orphans: BTreeSet<u64> = BTreeSet::new();
        for h in held {
            let slot = self.nodes[node as usize].record.slot_at(h.position);
            let known = slot.is_some_and(|slot| {
                self.allocs.get(&h.allocation_id).is_some_and(|a| {
                    a.state.live_grant().is_some_and(|g| {
                        g.placements
                            .iter()
                            .any(|p| p.node == node && p.disk == slot)
                    })
                }) && self.issued(h.allocation_id)
            });
            match (known, slot) {
                (true, Some(slot)) => {
                    kept.insert((h.allocation_id, slot));
                    let att = h.attachment.clone().unwrap_or_default();
                    self.confirm(h.allocation_id, node, slot, att, now);
                }
                _ => {
                    orphans.insert(h.allocation_id);
                }
            }
        }
        // Outstanding commands of this node: a Release is settled either way
        // (the disk is not held, or the agent releases the orphan itself) if
        // the agent has the disk; an Allocate is settled if the disk is held,
        // else re-sent on the stream.
        let mine: Vec<(u64, CommandKind)> = self
            .outbox
            .values()
            .filter(|c| c.node == node)
            .map(|c| (c.id, c.kind.clone()))
            .collect();
        let mut allocating: HashSet<(u64, u32)> = HashSet::new();
        for (cid, kind) in mine {
            let present = self.nodes[node as usize]
                .record
                .position_of(kind.disk())
                .is_some();
            match kind {
                CommandKind::Release { .. } if present => {
                    self.finish_command(cid);
                }
                CommandKind::Release { .. } => {}
                CommandKind::Allocate {
                    allocation_id,
                    disk,
                    ..
                } => {
                    if kept.contains(&(allocation_id, disk)) {
                        self.finish_command(cid);
                    } else {
                        allocating.insert((allocation_id, disk));
                    }
                }
            }
        }
        let live: Vec<u64> = self.node_allocs[node as usize].iter().copied().collect();
        for id in live {
            if !self.issued(id) || self.state_of(id) == Some(crate::model::StateName::Lost) {
                continue;
            }
            let Some(g) = self.allocs[&id].state.live_grant() else {
                continue;
            };
            let missing: Vec<u32> = g
                .disk_groups()
                .into_iter()
                .filter(|&(n, d, _)| {
                    n == node && !kept.contains(&(id, d)) && !allocating.contains(&(id, d))
                })
                .map(|(_, d, _)| d)
                .collect();
            if missing.is_empty() {
                continue;
            }
            let hostname = self.hostname(node);
            let a = self.alloc_mut(id);
            let mut grant = a.state.take_grant().expect("live");
            for p in grant.placements.iter_mut() {
                if p.node == node && missing.contains(&p.disk) {
                    p.attachment = None;
                }
            }
            a.explanation =
                format!("{hostname} does not hold its storage any more; re-creating it");
            a.set_state(AllocState::Granted { grant }, now);
            tracing::info!(
                allocation = id,
                node,
                "re-issuing Allocate for storage the agent lacks"
            );
            self.issue_allocates(id);
        }
        orphans.into_iter().collect()
    }

    /// A heartbeat; `false` tells the agent to register again.
    pub fn heartbeat(&mut self, session_id: &str, now: i64) -> bool {
        match self.sessions.get(session_id) {
            Some(&n) => {
                self.nodes[n as usize].last_heartbeat = now;
                true
            }
            None => false,
        }
    }

    /// The node of a session, and every command it still owes an answer to,
    /// in order, as its agent must receive them.
    pub fn commands_for_session(
        &self,
        session_id: &str,
    ) -> Result<(u32, Vec<Dispatch>), EngineError> {
        let node = self.session_node(session_id)?;
        let out = self
            .outbox
            .values()
            .filter(|c| c.node == node)
            .filter_map(|c| self.dispatch(c))
            .collect();
        Ok((node, out))
    }

    /// The outcome of one command. A result for a command that already has
    /// one (or was dropped) is acknowledged and ignored.
    pub fn report_result(
        &mut self,
        session_id: &str,
        command_id: u64,
        outcome: CommandOutcome,
        now: i64,
    ) -> Step<Result<(), EngineError>> {
        self.step(|w| {
            let node = w.session_node(session_id)?;
            let Some(c) = w.outbox.get(&command_id) else {
                return Ok(());
            };
            if c.node != node {
                return Err(EngineError::FailedPrecondition(format!(
                    "command {command_id} was sent to node {}, not to this session's node {node}",
                    c.node
                )));
            }
            let c = w.finish_command(command_id).expect("present");
            match (c.kind, outcome) {
                (CommandKind::Allocate { allocation_id, disk, .. }, CommandOutcome::Ok(att)) => {
                    w.confirm(allocation_id, node, disk, att.unwrap_or_default(), now);
                }
                (CommandKind::Allocate { allocation_id, disk, .. }, CommandOutcome::Failed { code, error }) => {
                    if w.allocs.get(&allocation_id).is_some_and(|a| a.is_live()) {
                        let host = w.hostname(node);
                        let why = format!(
                            "{host} could not create the storage on disk {disk}: {}",
                            if error.is_empty() { code } else { error }
                        );
                        tracing::warn!(allocation = allocation_id, node, "{why}");
                        w.fail_allocation(allocation_id, why, Some((node, disk)), now);
                    }
                }
                (CommandKind::Release { allocation_id, disk }, CommandOutcome::Failed { error, .. }) => {
                    tracing::warn!(allocation = allocation_id, node, disk, %error, "agent could not release storage");
                }
                (CommandKind::Release { .. }, CommandOutcome::Ok(_)) => {}
            }
            Ok(())
        })
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
        self.fx.push(Effect::CloseStream(node));
        let _ = self.sched.set_node_available(node, false);
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

    pub(super) fn compute_degraded(&self, id: u64) -> bool {
        self.allocs[&id].state.live_grant().is_some_and(|g| {
            g.placements
                .iter()
                .any(|p| !self.nodes.get(p.node as usize).is_some_and(|n| n.up))
        })
    }
}

fn shrink_error(host: &str, i: usize, identity: &DiskIdentity, e: CoreError) -> EngineError {
    let detail = match e {
        CoreError::CapacityBelowBooked {
            capacity,
            booked,
            allocations,
            ..
        } => format!(
            "its new capacity {capacity} is below the {booked} booked on it by allocation(s) {}",
            allocations
                .iter()
                .map(|a: &AllocId| a.0.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    };
    EngineError::FailedPrecondition(format!(
        "{host}: node.disks[{i}] ({identity}) cannot shrink: {detail}; \
         registration refused and nothing changed (restore the capacity, or \
         cancel those allocations first)"
    ))
}
