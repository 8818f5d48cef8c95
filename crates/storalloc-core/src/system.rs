//! The storage system as the scheduler sees it: nodes (storage servers) and
//! their disks. A node's id is its index in [`System::nodes`]; a disk's id is
//! its index in [`Node::disks`], as in the original prototype.

use crate::units::{Bandwidth, Bytes};
use serde::{Deserialize, Serialize};

/// Identifies one disk: its node's index and its index on that node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DiskRef {
    pub node: u32,
    pub disk: u32,
}

impl std::fmt::Display for DiskRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "node {} disk {}", self.node, self.disk)
    }
}

/// The kind of device behind a disk. An extension of the original format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Medium {
    Nvme,
    Ssd,
    Hdd,
    Pmem,
}

impl Medium {
    pub const ALL: [Medium; 4] = [Medium::Nvme, Medium::Ssd, Medium::Hdd, Medium::Pmem];

    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Nvme => "nvme",
            Medium::Ssd => "ssd",
            Medium::Hdd => "hdd",
            Medium::Pmem => "pmem",
        }
    }
}

impl std::fmt::Display for Medium {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Medium {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Medium::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown medium {s:?}: expected one of nvme, ssd, hdd, pmem"))
    }
}

/// One disk of a storage node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disk {
    pub capacity: Bytes,
    pub write_bandwidth: Bandwidth,
    pub read_bandwidth: Bandwidth,
    /// Descriptive fields of the original format; the scheduler ignores them.
    pub vendor: String,
    pub model: String,
    pub serial: String,
    pub block_device: String,
    /// Extensions (see docs/formats.md).
    pub medium: Option<Medium>,
    pub tier: Option<String>,
    pub labels: Vec<String>,
    /// Storage backend for this disk on the agent (`simulate`, `fs`, `nvmet`).
    pub backend: Option<String>,
    /// Where the disk's filesystem is mounted, for the `fs` backend.
    pub mount: Option<String>,
}

/// One storage node (a storage server running the agent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub hostname: String,
    /// Descriptive only; storalloc never connects to it from the system file.
    pub ipv4: String,
    pub network_bw: Bandwidth,
    pub disks: Vec<Disk>,
}

/// A whole storage system description.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct System {
    pub nodes: Vec<Node>,
}

impl System {
    /// Every disk with its reference, in node then disk order.
    pub fn disks(&self) -> impl Iterator<Item = (DiskRef, &Disk)> {
        self.nodes.iter().enumerate().flat_map(|(n, node)| {
            node.disks.iter().enumerate().map(move |(d, disk)| {
                (
                    DiskRef {
                        node: n as u32,
                        disk: d as u32,
                    },
                    disk,
                )
            })
        })
    }

    pub fn disk(&self, r: DiskRef) -> Option<&Disk> {
        self.nodes.get(r.node as usize)?.disks.get(r.disk as usize)
    }

    pub fn disk_count(&self) -> usize {
        self.nodes.iter().map(|n| n.disks.len()).sum()
    }

    pub fn total_capacity(&self) -> Bytes {
        self.disks().map(|(_, d)| d.capacity).sum()
    }

    /// Sum of the disks' write bandwidths, each node capped by its network link.
    pub fn aggregate_write_bandwidth(&self) -> Bandwidth {
        Bandwidth(
            self.nodes
                .iter()
                .map(|n| {
                    let disks: f64 = n.disks.iter().map(|d| d.write_bandwidth.0).sum();
                    disks.min(n.network_bw.0)
                })
                .sum(),
        )
    }
}

impl Disk {
    /// A disk with only the fields the scheduler uses; handy in tests and benchmarks.
    pub fn simple(capacity: Bytes, write_bw: f64, read_bw: f64) -> Disk {
        Disk {
            capacity,
            write_bandwidth: Bandwidth(write_bw),
            read_bandwidth: Bandwidth(read_bw),
            vendor: String::new(),
            model: String::new(),
            serial: String::new(),
            block_device: String::new(),
            medium: None,
            tier: None,
            labels: Vec::new(),
            backend: None,
            mount: None,
        }
    }
}

impl System {
    /// `nodes` identical nodes of `disks_per_node` identical disks; for tests and benchmarks.
    pub fn uniform(nodes: usize, disks_per_node: usize, capacity: Bytes) -> System {
        System {
            nodes: (0..nodes)
                .map(|n| Node {
                    hostname: format!("node{n}"),
                    ipv4: String::new(),
                    network_bw: Bandwidth(12.5),
                    disks: (0..disks_per_node)
                        .map(|_| Disk::simple(capacity, 2.93, 3.13))
                        .collect(),
                })
                .collect(),
        }
    }
}
