//! What the effects since the last commit add up to: one store batch, the
//! commands to send after it, and the alerts to publish.

use crate::lifecycle::{ClockAlert, Effect, World};
use crate::model::Dispatch;
use crate::store::Batch;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Default)]
pub(super) struct Pending {
    allocs: BTreeSet<u64>,
    nodes: BTreeSet<u32>,
    archived: BTreeMap<u64, crate::model::AllocationRecord>,
    /// Commands that joined the outbox in this batch, in order.
    pub added: Vec<u64>,
    added_cmds: BTreeMap<u64, crate::model::Command>,
    /// Commands that left the outbox in this batch.
    pub done: BTreeSet<u64>,
    pub sends: Vec<Dispatch>,
    counters: bool,
    pub alerts: Vec<ClockAlert>,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.allocs.is_empty()
            && self.nodes.is_empty()
            && self.archived.is_empty()
            && self.added.is_empty()
            && self.done.is_empty()
            && !self.counters
            && self.alerts.is_empty()
    }

    pub fn add(&mut self, e: Effect) {
        match e {
            Effect::SaveAllocation(id) => {
                self.allocs.insert(id);
            }
            Effect::SaveNode(id) => {
                self.nodes.insert(id);
            }
            Effect::Archive(record) => {
                self.allocs.remove(&record.id);
                self.archived.insert(record.id, *record);
            }
            Effect::AddCommand(c) => {
                self.added.push(c.id);
                self.added_cmds.insert(c.id, c);
            }
            Effect::CommandDone(id) => {
                self.done.insert(id);
            }
            Effect::Send(d) => self.sends.push(d),
            Effect::SaveCounters => self.counters = true,
            Effect::CloseStream(_) | Effect::Alert(_) => {
                unreachable!("executed at once by the engine")
            }
        }
    }

    /// The store batch, with records as the world holds them now. A command
    /// added and done within the batch never reaches the disk.
    pub fn batch(&self, w: &World) -> Batch {
        let (next_allocation_id, next_command_id) = w.next_ids();
        Batch {
            nodes: self
                .nodes
                .iter()
                .filter_map(|&n| w.node(n).cloned())
                .collect(),
            allocations: self
                .allocs
                .iter()
                .filter_map(|id| w.allocation(*id).cloned())
                .collect(),
            archived: self.archived.values().cloned().collect(),
            commands_added: self
                .added
                .iter()
                .filter(|id| !self.done.contains(id))
                .filter_map(|id| self.added_cmds.get(id).cloned())
                .collect(),
            commands_done: self
                .done
                .iter()
                .filter(|id| !self.added_cmds.contains_key(id))
                .copied()
                .collect(),
            next_allocation_id: self.counters.then_some(next_allocation_id),
            next_command_id: self.counters.then_some(next_command_id),
            keep_history: w.config().keep_history,
        }
    }
}
