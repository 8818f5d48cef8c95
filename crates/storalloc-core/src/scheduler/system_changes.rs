//! Changing the system under a running scheduler: nodes and disks join,
//! disks change or leave service, nodes go down. Everything else carries on
//! (the RNG stream, the round-robin cursor, the calendars), so a scheduler
//! changed in place decides like one that knew the final system from the
//! start with the newcomers unavailable until they came (docs/policies.md,
//! *Changing the system live*).

use super::{CoreError, Scheduler};
use crate::request::AllocId;
use crate::state::clamp_cap;
use crate::system::{Disk, DiskRef, Node};
use crate::units::Bytes;
use std::collections::BTreeSet;

impl Scheduler {
    /// Appends a node (it becomes node id = previous node count) with its
    /// disks. Available at once. The RNG stream, the round-robin cursor (it
    /// keeps pointing at the same disk) and every calendar carry on.
    pub fn add_node(&mut self, node: Node) -> u32 {
        self.st.push_node(node)
    }

    /// Appends a disk to an existing node (disk index = that node's
    /// previous disk count). Global indices of later nodes' disks shift
    /// internally; calendars, spans, the free index and the round-robin
    /// cursor (same disk as before) follow.
    pub fn add_disk(&mut self, node: u32, disk: Disk) -> Result<DiskRef, CoreError> {
        if node as usize >= self.st.system.nodes.len() {
            return Err(CoreError::UnknownNode(node));
        }
        Ok(self.st.insert_disk(node as usize, disk))
    }

    /// Replaces a disk's description in place (capacity, bandwidths,
    /// medium, tier, labels...). A capacity below what is booked on the
    /// disk at any time from the horizon on is refused with
    /// [`CoreError::CapacityBelowBooked`], and nothing changes.
    pub fn update_disk(&mut self, r: DiskRef, disk: Disk) -> Result<(), CoreError> {
        let g = self.st.global(r).ok_or(CoreError::UnknownDisk(r))?;
        // The same measure as the invariant checker's over-capacity test.
        let booked = self.st.cals[g].max_level();
        if booked > clamp_cap(&disk) {
            return Err(CoreError::CapacityBelowBooked {
                disk: r,
                capacity: disk.capacity,
                booked: Bytes(booked as u64),
                allocations: self.allocations_on_disk(r),
            });
        }
        self.st.replace_disk(g, disk);
        Ok(())
    }

    /// A disk that is not available takes no new placements (like an
    /// unavailable node), but its allocations keep their bookings.
    pub fn set_disk_available(&mut self, r: DiskRef, available: bool) -> Result<(), CoreError> {
        let g = self.st.global(r).ok_or(CoreError::UnknownDisk(r))?;
        self.st.set_disk_available(g, available);
        Ok(())
    }

    /// The disk's own availability flag (its node's is
    /// [`Scheduler::node_available`]); `None` for an unknown disk.
    pub fn disk_available(&self, r: DiskRef) -> Option<bool> {
        self.st.global(r).map(|g| self.st.disk_available[g])
    }

    /// Live (not released/cancelled) allocations with a placement on the
    /// disk, ascending by id; empty for an unknown disk.
    pub fn allocations_on_disk(&self, r: DiskRef) -> Vec<AllocId> {
        let Some(g) = self.st.global(r) else {
            return Vec::new();
        };
        // The overlap spans name every reservation on the disk, released
        // ones included until `advance` forgets them.
        let ids: BTreeSet<AllocId> = self.st.spans[g]
            .iter()
            .map(|s| s.id)
            .filter(|id| self.live.contains_key(id))
            .collect();
        ids.into_iter().collect()
    }

    /// A node that is DOWN or drained gets no new placements.
    pub fn set_node_available(&mut self, node: u32, available: bool) -> Result<(), CoreError> {
        let slot = self
            .st
            .available
            .get_mut(node as usize)
            .ok_or(CoreError::UnknownNode(node))?;
        if *slot != available {
            *slot = available;
            if available {
                self.st.unavailable_nodes -= 1;
            } else {
                self.st.unavailable_nodes += 1;
            }
        }
        Ok(())
    }

    /// Whether new placements may go to `node`; `None` for an unknown node.
    pub fn node_available(&self, node: u32) -> Option<bool> {
        self.st.available.get(node as usize).copied()
    }
}
