//! A state store in memory, for tests and `--state-dir :memory:`-style runs.
//! Clones share the same data, so "reopening" is cloning.

use super::{Batch, OutboxCommand, Snapshot, StateStore, StoreError, StoredNode};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use storalloc_proto::v1::Allocation;

#[derive(Debug, Default)]
struct Inner {
    nodes: BTreeMap<u32, StoredNode>,
    allocations: BTreeMap<u64, Allocation>,
    request_ids: BTreeMap<String, u64>,
    outbox: BTreeMap<u64, OutboxCommand>,
    next_allocation_id: u64,
    next_command_id: u64,
}

#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

impl Inner {
    /// Checks the batch against the current data without changing anything,
    /// so a rejected batch leaves no trace (as a rolled-back transaction).
    fn check(&self, batch: &Batch) -> Result<(), StoreError> {
        let mut ids = self.request_ids.clone();
        for a in &batch.allocations {
            match ids.get(&a.request_id) {
                Some(&existing) if existing != a.id => {
                    return Err(StoreError::DuplicateRequestId {
                        request_id: a.request_id.clone(),
                        existing,
                    })
                }
                _ => {
                    ids.insert(a.request_id.clone(), a.id);
                }
            }
        }
        let mut hosts: BTreeMap<&str, u32> = self
            .nodes
            .values()
            .map(|n| (n.description.hostname.as_str(), n.id))
            .collect();
        for n in &batch.nodes {
            match hosts.get(n.description.hostname.as_str()) {
                Some(&existing) if existing != n.id => {
                    return Err(StoreError::DuplicateHostname {
                        hostname: n.description.hostname.clone(),
                        existing,
                    })
                }
                _ => {
                    hosts.insert(&n.description.hostname, n.id);
                }
            }
        }
        Ok(())
    }
}

impl StateStore for MemoryStore {
    fn load(&mut self) -> Result<Snapshot, StoreError> {
        let g = self.inner.lock().expect("memory store poisoned");
        Ok(Snapshot {
            nodes: g.nodes.values().cloned().collect(),
            allocations: g.allocations.values().cloned().collect(),
            outbox: g.outbox.values().cloned().collect(),
            next_allocation_id: g.next_allocation_id.max(1),
            next_command_id: g.next_command_id.max(1),
        })
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let mut g = self.inner.lock().expect("memory store poisoned");
        g.check(batch)?;
        for n in &batch.nodes {
            g.nodes.insert(n.id, n.clone());
        }
        for a in &batch.allocations {
            g.request_ids.insert(a.request_id.clone(), a.id);
            g.allocations.insert(a.id, a.clone());
        }
        for c in &batch.commands_added {
            g.outbox.insert(c.command.command_id, c.clone());
        }
        for id in &batch.commands_done {
            g.outbox.remove(id);
        }
        if let Some(n) = batch.next_allocation_id {
            g.next_allocation_id = n;
        }
        if let Some(n) = batch.next_command_id {
            g.next_command_id = n;
        }
        Ok(())
    }
}
