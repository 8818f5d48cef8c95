//! Storage on the agents: the commands owed to them, and the transitions
//! that follow their answers (confirm, fail) or end an allocation's time.

use super::{Effect, World};
use crate::model::{AllocState, Attachment, Command, CommandKind, Dispatch};
use storalloc_core::AllocId;

impl World {
    /// Queues a command: durable in the outbox at commit, sent right after
    /// when the agent has the disk now.
    pub(super) fn queue_command(&mut self, node: u32, kind: CommandKind) {
        let id = self.next_command_id;
        self.next_command_id += 1;
        self.fx.push(Effect::SaveCounters);
        let command = Command { id, node, kind };
        self.outbox_by_alloc
            .entry(command.kind.allocation_id())
            .or_default()
            .insert(id);
        self.fx.push(Effect::AddCommand(command.clone()));
        if let Some(d) = self.dispatch(&command) {
            self.fx.push(Effect::Send(d));
        }
        self.outbox.insert(id, command);
    }

    /// The command as its agent must receive it, if the agent has its disk.
    pub(super) fn dispatch(&self, c: &Command) -> Option<Dispatch> {
        let position = self
            .nodes
            .get(c.node as usize)?
            .record
            .position_of(c.kind.disk())?;
        Some(Dispatch {
            node: c.node,
            position,
            command: c.clone(),
        })
    }

    /// A command got its result or became moot: it leaves the outbox.
    pub(super) fn finish_command(&mut self, command_id: u64) -> Option<Command> {
        let c = self.outbox.remove(&command_id)?;
        let alloc = c.kind.allocation_id();
        if let Some(set) = self.outbox_by_alloc.get_mut(&alloc) {
            set.remove(&command_id);
            if set.is_empty() {
                self.outbox_by_alloc.remove(&alloc);
            }
        }
        self.fx.push(Effect::CommandDone(command_id));
        Some(c)
    }

    fn outstanding_for(&self, alloc: u64) -> Vec<u64> {
        self.outbox_by_alloc
            .get(&alloc)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// One Allocate command per disk the allocation uses and has not
    /// confirmed yet.
    pub(super) fn issue_allocates(&mut self, id: u64) {
        let a = &self.allocs[&id];
        let Some(g) = a.state.live_grant() else {
            return;
        };
        let confirmed = |node: u32, disk: u32| {
            g.placements
                .iter()
                .any(|p| p.node == node && p.disk == disk && p.attachment.is_some())
        };
        let cmds: Vec<(u32, CommandKind)> = g
            .disk_groups()
            .into_iter()
            .filter(|&(n, d, _)| !confirmed(n, d))
            .map(|(node, disk, capacity_bytes)| {
                (
                    node,
                    CommandKind::Allocate {
                        allocation_id: id,
                        disk,
                        capacity_bytes,
                        start_unix: g.start_unix,
                        end_unix: g.end_unix,
                        owner: a.owner,
                        host_nqns: a.request.host_nqns.clone(),
                    },
                )
            })
            .collect();
        for (node, c) in cmds {
            self.queue_command(node, c);
        }
    }

    /// Whether the allocation's Allocate commands went out (its start came).
    pub(super) fn issued(&self, id: u64) -> bool {
        match self.allocs[&id].state.live_grant() {
            Some(g) => !self.starts.contains(&(g.start_unix, id)),
            None => false,
        }
    }

    /// Drops Allocate commands not yet answered and queues a Release for
    /// every disk of the allocation except `except`.
    pub(super) fn release_storage(&mut self, id: u64, except: Option<(u32, u32)>) {
        for c in self.outstanding_for(id) {
            if self.outbox[&c].kind.is_allocate() {
                self.finish_command(c);
            }
        }
        let Some(g) = self.allocs[&id].state.grant() else {
            return;
        };
        for (node, disk, _) in g.disk_groups() {
            if Some((node, disk)) == except {
                continue;
            }
            self.queue_command(
                node,
                CommandKind::Release {
                    allocation_id: id,
                    disk,
                },
            );
        }
    }

    pub(super) fn index_live(&mut self, id: u64) {
        let Some(g) = self.allocs[&id].state.live_grant() else {
            return;
        };
        let nodes: Vec<u32> = g.placements.iter().map(|p| p.node).collect();
        for n in nodes {
            if let Some(set) = self.node_allocs.get_mut(n as usize) {
                set.insert(id);
            }
        }
    }

    /// Takes a live allocation out of the lifecycle's indexes (the core's
    /// own indexes are changed by the caller).
    pub(super) fn unindex_live(&mut self, id: u64) {
        let Some(g) = self.allocs[&id].state.live_grant() else {
            return;
        };
        let start = g.start_unix;
        let nodes: Vec<u32> = g.placements.iter().map(|p| p.node).collect();
        for n in nodes {
            if let Some(set) = self.node_allocs.get_mut(n as usize) {
                set.remove(&id);
            }
        }
        self.starts.remove(&(start, id));
    }

    /// Its time ran out: ENDED, storage released (the scheduler already
    /// forgot it: its end passed).
    pub(super) fn end_allocation(&mut self, id: u64, now: i64) {
        let issued = self.issued(id);
        self.unindex_live(id);
        if issued {
            self.release_storage(id, None);
        }
        let a = self.alloc_mut(id);
        let grant = a.state.take_grant().expect("a live allocation has a grant");
        let at = now.max(grant.end_unix);
        a.explanation = format!("its time ran out at {at}; the storage was released");
        a.degraded = false;
        a.set_state(AllocState::Ended { grant }, now);
        self.finished_at(id, now);
    }

    /// A server could not create the storage: FAILED, capacity back, the
    /// other disks released.
    pub(super) fn fail_allocation(
        &mut self,
        id: u64,
        why: String,
        failed: Option<(u32, u32)>,
        now: i64,
    ) {
        let issued = self.issued(id);
        self.unindex_live(id);
        if let Err(e) = self.sched.cancel(AllocId(id)) {
            tracing::warn!(allocation = id, error = %e, "cancel in the scheduler");
        }
        if issued {
            self.release_storage(id, failed);
        }
        let a = self.alloc_mut(id);
        let grant = a.state.take_grant();
        a.explanation = why;
        a.degraded = false;
        a.set_state(AllocState::Failed { grant }, now);
        self.finished_at(id, now);
    }

    /// An agent confirmed the storage of one disk slot of the allocation.
    pub(super) fn confirm(
        &mut self,
        id: u64,
        node: u32,
        disk: u32,
        attachment: Attachment,
        now: i64,
    ) {
        if !self.allocs.get(&id).is_some_and(|a| a.is_live()) {
            return;
        }
        let a = self.alloc_mut(id);
        let grant = a.state.live_grant_mut().expect("live");
        for p in grant.placements.iter_mut() {
            if p.node == node && p.disk == disk {
                p.attachment = Some(attachment.clone());
            }
        }
        if matches!(a.state, AllocState::Granted { .. }) && grant_ready(&a.state) {
            let grant = a.state.take_grant().expect("live");
            a.explanation = format!("storage ready on {} placement(s)", grant.placements.len());
            a.set_state(AllocState::Allocated { grant }, now);
        }
    }
}

fn grant_ready(s: &AllocState) -> bool {
    s.live_grant().is_some_and(|g| g.all_ready())
}
