//! A state store in memory, for tests and benchmarks. Clones share the same
//! data, so "reopening" is cloning.

use super::{Batch, HistoryQuery, Loaded, StateStore, StoreError};
use crate::model::{AllocationRecord, Command, NodeRecord};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
struct Inner {
    nodes: BTreeMap<u32, NodeRecord>,
    allocations: BTreeMap<u64, AllocationRecord>,
    history: BTreeMap<u64, AllocationRecord>,
    request_ids: BTreeMap<String, u64>,
    outbox: BTreeMap<u64, Command>,
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

    /// How many archived allocations it holds.
    pub fn history_len(&self) -> usize {
        self.inner.lock().expect("store poisoned").history.len()
    }
}

impl Inner {
    /// Checks the batch against the current data without changing anything,
    /// so a rejected batch leaves no trace (as a rolled-back transaction).
    fn check(&self, batch: &Batch) -> Result<(), StoreError> {
        let mut ids = self.request_ids.clone();
        for a in &batch.archived {
            ids.remove(&a.request_id);
        }
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
            .map(|n| (n.hostname.as_str(), n.id))
            .collect();
        for n in &batch.nodes {
            match hosts.get(n.hostname.as_str()) {
                Some(&existing) if existing != n.id => {
                    return Err(StoreError::DuplicateHostname {
                        hostname: n.hostname.clone(),
                        existing,
                    })
                }
                _ => {
                    hosts.insert(&n.hostname, n.id);
                }
            }
        }
        Ok(())
    }
}

impl StateStore for MemoryStore {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        let g = self.inner.lock().expect("store poisoned");
        Ok(Loaded {
            nodes: g.nodes.values().cloned().collect(),
            allocations: g.allocations.values().cloned().collect(),
            outbox: g.outbox.values().cloned().collect(),
            next_allocation_id: g.next_allocation_id.max(1),
            next_command_id: g.next_command_id.max(1),
        })
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let mut g = self.inner.lock().expect("store poisoned");
        g.check(batch)?;
        for n in &batch.nodes {
            g.nodes.insert(n.id, n.clone());
        }
        for a in &batch.allocations {
            g.request_ids.insert(a.request_id.clone(), a.id);
            g.allocations.insert(a.id, a.clone());
        }
        for a in &batch.archived {
            g.allocations.remove(&a.id);
            g.request_ids.remove(&a.request_id);
            if batch.keep_history {
                g.history.insert(a.id, a.clone());
            }
        }
        for c in &batch.commands_added {
            g.outbox.insert(c.id, c.clone());
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

    fn history(&mut self, q: &HistoryQuery) -> Result<Vec<AllocationRecord>, StoreError> {
        let g = self.inner.lock().expect("store poisoned");
        Ok(g.history
            .range(q.after_id + 1..)
            .map(|(_, a)| a)
            .filter(|a| q.matches(a))
            .take(q.limit)
            .cloned()
            .collect())
    }
}
