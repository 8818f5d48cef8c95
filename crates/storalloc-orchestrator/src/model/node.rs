//! A storage node as the engine keeps it. Each disk has a slot, the index
//! the scheduler and every placement use; a slot is matched to what the
//! agent reports by the disk's identity, never by its position in the
//! system file, so reordering, adding or removing disks moves no data.

pub use storalloc_core::DiskIdentity;

/// The identities of a node's disk specs, in list order.
pub fn identities(specs: &[DiskSpec]) -> Vec<DiskIdentity> {
    DiskIdentity::assign(
        specs
            .iter()
            .map(|s| (s.serial.as_str(), s.block_device.as_str())),
    )
}

/// A disk as its agent describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DiskSpec {
    pub capacity_bytes: u64,
    pub write_bw_gbps: f64,
    pub read_bw_gbps: f64,
    pub vendor: String,
    pub model: String,
    pub serial: String,
    pub block_device: String,
    pub medium: Option<String>,
    pub tier: Option<String>,
    pub labels: Vec<String>,
    pub backend: String,
    pub mount: Option<String>,
}

/// One disk slot of a node.
#[derive(Debug, Clone, PartialEq)]
pub struct DiskSlot {
    pub identity: DiskIdentity,
    pub spec: DiskSpec,
    /// Its index in the agent's latest disk list; `None` while the agent
    /// does not report it (its allocations are LOST).
    pub position: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeRecord {
    pub id: u32,
    pub hostname: String,
    pub address: String,
    pub network_bw_gbps: f64,
    pub disks: Vec<DiskSlot>,
    /// An admin's drain: no new placements.
    pub drained: bool,
}

impl NodeRecord {
    /// The slot the agent's disk `position` is in.
    pub fn slot_at(&self, position: u32) -> Option<u32> {
        self.disks
            .iter()
            .position(|d| d.position == Some(position))
            .map(|s| s as u32)
    }

    /// The agent's position of disk slot `slot`, if the agent has it now.
    pub fn position_of(&self, slot: u32) -> Option<u32> {
        self.disks.get(slot as usize).and_then(|d| d.position)
    }

    /// The disks the agent reports now, in its order.
    pub fn present_disks(&self) -> Vec<(u32, &DiskSlot)> {
        let mut v: Vec<(u32, &DiskSlot)> = self
            .disks
            .iter()
            .enumerate()
            .filter(|(_, d)| d.position.is_some())
            .map(|(i, d)| (i as u32, d))
            .collect();
        v.sort_by_key(|(_, d)| d.position);
        v
    }
}
