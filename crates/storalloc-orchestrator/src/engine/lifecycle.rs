//! An allocation's life after the decision: Allocate commands at its start,
//! confirmations, failure, the end of its time, and the timers that drive it.

use super::{disk_groups, is_live, Engine};
use crate::clock::Clock;
use crate::comm::AgentComm;
use crate::store::StateStore;
use crate::validate::core_request;
use storalloc_core::{AllocId, Decision, Timestamp};
use storalloc_proto::v1::agent_command::Kind;
use storalloc_proto::v1::{
    AllocateCommand, AllocationState, Attachment, Placement, ReleaseCommand,
};

impl<S: StateStore, A: AgentComm, C: Clock> Engine<S, A, C> {
    /// Runs the timers at the clock's current time: allocations whose end
    /// arrived end, reservations whose start arrived get their Allocate
    /// commands, silent nodes go DOWN, waiting requests are decided.
    pub fn tick(&mut self) {
        let now = self.now();
        while let Some(&(end, id)) = self.ends.first() {
            if end > now.0 {
                break;
            }
            self.end_allocation(id, now);
        }
        for id in self.sched().advance(now) {
            if self.allocs.get(&id.0).is_some_and(is_live) {
                self.end_allocation(id.0, now);
            }
        }
        while let Some(&(start, id)) = self.starts.first() {
            if start > now.0 {
                break;
            }
            self.starts.remove(&(start, id));
            self.issue_allocates(id);
        }
        let timeout = i64::from(self.cfg.heartbeat_timeout_s);
        let silent: Vec<u32> = self
            .nodes
            .iter()
            .filter(|n| n.up && now.0 - n.last_heartbeat > timeout)
            .map(|n| n.stored.id)
            .collect();
        for n in silent {
            tracing::warn!(node = n, "no heartbeat for {timeout} s: node is DOWN");
            self.mark_down(n);
        }
        self.decide_pending(now);
    }

    /// The earliest time a timer needs the engine, if any.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let s = self.starts.first().map(|&(t, _)| t);
        let e = self.ends.first().map(|&(t, _)| t);
        s.into_iter().chain(e).min().map(Timestamp)
    }

    /// Decides one request with the scheduler.
    pub(super) fn decide(&mut self, id: u64, now: Timestamp) {
        self.pending.remove(&id);
        let req = {
            let a = &self.allocs[&id];
            core_request(a.request.as_ref().expect("checked at submit"), now)
        };
        let decision = self.sched().submit(AllocId(id), &req, now);
        match decision {
            Decision::Granted(g) => {
                let placements: Vec<Placement> = g
                    .allocation
                    .placements
                    .iter()
                    .map(|p| Placement {
                        node: p.disk.node,
                        disk: p.disk.disk,
                        capacity_bytes: p.capacity.0,
                        hostname: self
                            .nodes
                            .get(p.disk.node as usize)
                            .map(|n| n.stored.description.hostname.clone())
                            .unwrap_or_default(),
                        attachment: None,
                    })
                    .collect();
                let (start, end) = (g.allocation.start.0, g.allocation.end.0);
                let a = self.alloc_mut(id);
                a.set_state(AllocationState::Granted);
                a.start_unix = start;
                a.end_unix = end;
                a.placements = placements;
                a.explanation = g.explanation;
                a.delay_s = g.delay.0;
                a.retries = g.retries;
                a.degraded = false;
                self.index_live(id);
                self.ends.insert((end, id));
                if start <= now.0 {
                    self.issue_allocates(id);
                } else {
                    self.starts.insert((start, id));
                }
            }
            Decision::Refused(r) => {
                let a = self.alloc_mut(id);
                a.set_state(AllocationState::Refused);
                a.explanation = r.explanation;
                a.retries = r.retries;
            }
        }
    }

    /// Decides the waiting requests once a node is up; refuses those that
    /// waited longer than `pending_timeout_s`.
    pub(super) fn decide_pending(&mut self, now: Timestamp) {
        if self.pending.is_empty() {
            return;
        }
        let ids: Vec<u64> = self.pending.iter().copied().collect();
        if self.any_node_available() {
            for id in ids {
                self.decide(id, now);
            }
            return;
        }
        let limit = i64::from(self.cfg.pending_timeout_s);
        for id in ids {
            let since = self.allocs[&id].submitted_unix.max(self.opened_at);
            if now.0 - since >= limit {
                self.pending.remove(&id);
                let a = self.alloc_mut(id);
                a.set_state(AllocationState::Refused);
                a.explanation = format!(
                    "no storage node was up (and not drained) within {limit} s of the request"
                );
            }
        }
    }

    pub(super) fn any_node_available(&self) -> bool {
        self.nodes.iter().any(|n| n.up && !n.stored.drained)
    }

    /// One Allocate command per disk the allocation uses and has not
    /// confirmed yet.
    pub(super) fn issue_allocates(&mut self, id: u64) {
        let a = &self.allocs[&id];
        let confirmed = |node: u32, disk: u32| {
            a.placements
                .iter()
                .any(|p| p.node == node && p.disk == disk && p.attachment.is_some())
        };
        let cmds: Vec<(u32, AllocateCommand)> = disk_groups(a)
            .into_iter()
            .filter(|&(n, d, _)| !confirmed(n, d))
            .map(|(node, disk, capacity_bytes)| {
                (
                    node,
                    AllocateCommand {
                        allocation_id: id,
                        disk,
                        capacity_bytes,
                        start_unix: a.start_unix,
                        end_unix: a.end_unix,
                        owner_uid: a.owner_uid,
                        owner_gid: a.owner_gid,
                        host_nqns: a
                            .request
                            .as_ref()
                            .map(|r| r.host_nqns.clone())
                            .unwrap_or_default(),
                    },
                )
            })
            .collect();
        for (node, c) in cmds {
            self.queue_command(node, Kind::Allocate(c));
        }
    }

    /// Whether the allocation's Allocate commands went out (its start came).
    pub(super) fn issued(&self, id: u64) -> bool {
        let a = &self.allocs[&id];
        !self.starts.contains(&(a.start_unix, id))
    }

    /// Drops Allocate commands not yet answered and queues a Release for
    /// every disk of the allocation except `except`.
    pub(super) fn release_storage(&mut self, id: u64, except: Option<(u32, u32)>) {
        for c in self.outstanding_for(id) {
            let is_allocate = matches!(self.outbox[&c].command.kind, Some(Kind::Allocate(_)));
            if is_allocate {
                self.finish_command(c);
            }
        }
        let groups = disk_groups(&self.allocs[&id]);
        for (node, disk, _) in groups {
            if Some((node, disk)) == except {
                continue;
            }
            self.queue_command(
                node,
                Kind::Release(ReleaseCommand {
                    allocation_id: id,
                    disk,
                }),
            );
        }
    }

    /// Its time ran out: ENDED, storage released, capacity back.
    pub(super) fn end_allocation(&mut self, id: u64, now: Timestamp) {
        let issued = self.issued(id);
        self.unindex_live(id);
        if issued {
            self.release_storage(id, None);
        }
        let a = self.alloc_mut(id);
        a.set_state(AllocationState::Ended);
        a.explanation = format!(
            "its time ran out at {}; the storage was released",
            now.0.max(a.end_unix)
        );
        a.degraded = false;
    }

    /// A server could not create the storage: FAILED, capacity back, the
    /// other disks released.
    pub(super) fn fail_allocation(
        &mut self,
        id: u64,
        why: String,
        failed_disk: Option<(u32, u32)>,
    ) {
        let issued = self.issued(id);
        self.unindex_live(id);
        if let Err(e) = self.sched().cancel(AllocId(id)) {
            tracing::warn!(allocation = id, error = %e, "cancel in the scheduler");
        }
        if issued {
            self.release_storage(id, failed_disk);
        }
        let a = self.alloc_mut(id);
        a.set_state(AllocationState::Failed);
        a.explanation = why;
        a.degraded = false;
    }

    /// An agent confirmed the storage of one disk of the allocation.
    pub(super) fn confirm(&mut self, id: u64, node: u32, disk: u32, attachment: Attachment) {
        if !self.allocs.get(&id).is_some_and(is_live) {
            return;
        }
        let a = self.alloc_mut(id);
        for p in a.placements.iter_mut() {
            if p.node == node && p.disk == disk {
                p.attachment = Some(attachment.clone());
            }
        }
        if a.state() == AllocationState::Granted
            && a.placements.iter().all(|p| p.attachment.is_some())
        {
            a.set_state(AllocationState::Allocated);
            a.explanation = format!("storage ready on {} placement(s)", a.placements.len());
        }
    }
}
