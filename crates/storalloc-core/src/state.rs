//! The scheduler's working state shared by the strategies: per-disk facts,
//! calendars, the free-space index, the RNG and the round-robin cursor.
//! Every change of a calendar goes through [`State::add_range`], so the
//! calendars and the index never disagree.

use crate::calendar::{DiskCalendar, MAX_CAPACITY};
use crate::free_index::FreeIndex;
use crate::request::{AllocId, Request};
use crate::system::{Disk, DiskRef, Node, System};
use rand_chacha::ChaCha8Rng;

/// What the strategies need to know about one disk, by global index
/// (disks in node then disk order).
#[derive(Debug, Clone)]
pub(crate) struct DiskInfo {
    pub r: DiskRef,
    pub node: usize,
    /// Capacity in bytes, clamped to [`MAX_CAPACITY`].
    pub cap: i64,
    pub write_bw: f64,
    pub read_bw: f64,
}

impl DiskInfo {
    fn new(r: DiskRef, disk: &Disk) -> DiskInfo {
        DiskInfo {
            r,
            node: r.node as usize,
            cap: clamp_cap(disk),
            write_bw: disk.write_bandwidth.0,
            read_bw: disk.read_bandwidth.0,
        }
    }
}

/// A disk's capacity as the calendars count it.
pub(crate) fn clamp_cap(disk: &Disk) -> i64 {
    disk.capacity.0.min(MAX_CAPACITY) as i64
}

/// One reservation's window on a disk, for the overlap counts of `worst_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub id: AllocId,
    pub start: i64,
    pub end: i64,
}

/// One block to place: its size and the window it needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block {
    pub size: i64,
    pub start: i64,
    pub end: i64,
}

/// Which disks a request may use.
#[derive(Debug, Clone)]
pub(crate) enum Filter {
    /// Every disk qualifies.
    All,
    /// Only these global disk indices (ascending), also given as a mask.
    Some { list: Vec<u32>, mask: Vec<bool> },
}

impl Filter {
    #[inline]
    pub fn allows(&self, d: usize) -> bool {
        match self {
            Filter::All => true,
            Filter::Some { mask, .. } => mask[d],
        }
    }

    pub fn count(&self, total: usize) -> usize {
        match self {
            Filter::All => total,
            Filter::Some { list, .. } => list.len(),
        }
    }

    /// The allowed disks in ascending order.
    pub fn iter(&self, total: usize) -> Box<dyn Iterator<Item = usize> + '_> {
        match self {
            Filter::All => Box::new(0..total),
            Filter::Some { list, .. } => Box::new(list.iter().map(|&d| d as usize)),
        }
    }

    /// The `i`-th allowed disk.
    pub fn nth(&self, i: usize) -> usize {
        match self {
            Filter::All => i,
            Filter::Some { list, .. } => list[i] as usize,
        }
    }
}

pub(crate) struct State {
    pub system: System,
    pub disks: Vec<DiskInfo>,
    /// Global index of each node's first disk.
    pub node_first: Vec<usize>,
    /// Per node: whether it takes new placements.
    pub available: Vec<bool>,
    pub unavailable_nodes: usize,
    /// Per disk (global index): its own flag, its node's aside. Kept out of
    /// [`DiskInfo`], which the strategies scan, since only filtering reads it.
    pub disk_available: Vec<bool>,
    /// Disks whose own flag is off.
    pub unavailable_disks: usize,
    pub cals: Vec<DiskCalendar>,
    pub spans: Vec<Vec<Span>>,
    pub index: FreeIndex,
    pub rng: ChaCha8Rng,
    /// round_robin: the global index after the last disk it took or tried,
    /// not wrapped, so that when that was the last disk of the system a
    /// disk appended later is the next in turn (taken modulo the disk count
    /// when used).
    pub rr_cursor: usize,
    /// Everything before this was folded into the calendars' base levels.
    pub horizon: i64,
    /// The largest disk capacity.
    pub max_cap: i64,
}

impl State {
    pub fn new(system: System, rng: ChaCha8Rng) -> State {
        let mut st = State {
            system: System::default(),
            disks: Vec::new(),
            node_first: Vec::new(),
            available: Vec::new(),
            unavailable_nodes: 0,
            disk_available: Vec::new(),
            unavailable_disks: 0,
            cals: Vec::new(),
            spans: Vec::new(),
            index: FreeIndex::new(),
            rng,
            rr_cursor: 0,
            horizon: i64::MIN,
            max_cap: 0,
        };
        for node in system.nodes {
            st.push_node(node);
        }
        st
    }

    /// Append a node with its disks; returns its id.
    pub fn push_node(&mut self, mut node: Node) -> u32 {
        let n = self.system.nodes.len();
        let disks = std::mem::take(&mut node.disks);
        self.system.nodes.push(node);
        self.node_first.push(self.disks.len());
        self.available.push(true);
        for disk in disks {
            self.insert_disk(n, disk);
        }
        n as u32
    }

    /// Append a disk to node `n`. Its global index is after the node's
    /// other disks; the disks of later nodes move up by one, and so does the
    /// round-robin cursor when it is past the new disk, so it stays after the
    /// same disk.
    pub fn insert_disk(&mut self, n: usize, disk: Disk) -> DiskRef {
        let r = DiskRef {
            node: n as u32,
            disk: self.system.nodes[n].disks.len() as u32,
        };
        let g = self.node_first[n] + r.disk as usize;
        let info = DiskInfo::new(r, &disk);
        self.index.insert_disk(g, info.cap);
        self.max_cap = self.max_cap.max(info.cap);
        self.disks.insert(g, info);
        self.disk_available.insert(g, true);
        self.cals.insert(g, DiskCalendar::new());
        self.spans.insert(g, Vec::new());
        for first in &mut self.node_first[n + 1..] {
            *first += 1;
        }
        if self.rr_cursor > g {
            self.rr_cursor += 1;
        }
        self.system.nodes[n].disks.push(disk);
        r
    }

    /// Replace the description of disk `g` (the caller checked that its
    /// bookings fit the new capacity).
    pub fn replace_disk(&mut self, g: usize, disk: Disk) {
        let info = &mut self.disks[g];
        let r = info.r;
        let cap = clamp_cap(&disk);
        info.cap = cap;
        info.write_bw = disk.write_bandwidth.0;
        info.read_bw = disk.read_bandwidth.0;
        self.index.set_cap(g, cap);
        self.max_cap = self.disks.iter().map(|d| d.cap).max().unwrap_or(0);
        self.system.nodes[r.node as usize].disks[r.disk as usize] = disk;
    }

    /// Set disk `g`'s own availability flag.
    pub fn set_disk_available(&mut self, g: usize, available: bool) {
        let flag = &mut self.disk_available[g];
        if *flag != available {
            *flag = available;
            if available {
                self.unavailable_disks -= 1;
            } else {
                self.unavailable_disks += 1;
            }
        }
    }

    /// Check that the per-disk facts, the node table and the counters agree
    /// with the system description (for the invariant checker).
    pub fn verify_layout(&self) -> Result<(), String> {
        let n_disks = self.system.disk_count();
        let n_nodes = self.system.nodes.len();
        let lens = [
            self.disks.len(),
            self.disk_available.len(),
            self.cals.len(),
            self.spans.len(),
        ];
        if lens != [n_disks; 4] {
            return Err(format!(
                "{} disk entries, {} disk flags, {} calendars and {} overlap lists for {n_disks} disks",
                lens[0], lens[1], lens[2], lens[3]
            ));
        }
        if self.node_first.len() != n_nodes || self.available.len() != n_nodes {
            return Err(format!(
                "{} node offsets and {} node flags for {n_nodes} nodes",
                self.node_first.len(),
                self.available.len()
            ));
        }
        let mut g = 0;
        for (n, node) in self.system.nodes.iter().enumerate() {
            if self.node_first[n] != g {
                return Err(format!(
                    "node {n}'s first disk is #{g}, the table says #{}",
                    self.node_first[n]
                ));
            }
            for (i, disk) in node.disks.iter().enumerate() {
                let info = &self.disks[g];
                let r = DiskRef {
                    node: n as u32,
                    disk: i as u32,
                };
                let same = info.r == r
                    && info.node == n
                    && info.cap == clamp_cap(disk)
                    && info.write_bw.to_bits() == disk.write_bandwidth.0.to_bits()
                    && info.read_bw.to_bits() == disk.read_bandwidth.0.to_bits();
                if !same {
                    return Err(format!("disk #{g} ({}) does not describe {r}", info.r));
                }
                g += 1;
            }
        }
        let down_nodes = self.available.iter().filter(|&&a| !a).count();
        let down_disks = self.disk_available.iter().filter(|&&a| !a).count();
        if (down_nodes, down_disks) != (self.unavailable_nodes, self.unavailable_disks) {
            return Err(format!(
                "{down_nodes} nodes and {down_disks} disks are unavailable, the counters say {} and {}",
                self.unavailable_nodes, self.unavailable_disks
            ));
        }
        let max_cap = self.disks.iter().map(|d| d.cap).max().unwrap_or(0);
        if self.max_cap != max_cap {
            return Err(format!(
                "the largest capacity is {max_cap}, the state says {}",
                self.max_cap
            ));
        }
        if self.rr_cursor > self.disks.len() {
            return Err(format!(
                "the round-robin cursor #{} is past the {} disks",
                self.rr_cursor,
                self.disks.len()
            ));
        }
        let caps: Vec<i64> = self.disks.iter().map(|d| d.cap).collect();
        self.index.verify(&self.cals, &caps)
    }

    pub fn global(&self, r: DiskRef) -> Option<usize> {
        let first = *self.node_first.get(r.node as usize)?;
        let n = self.system.nodes[r.node as usize].disks.len();
        ((r.disk as usize) < n).then_some(first + r.disk as usize)
    }

    /// Add `amount` bytes on disk `d` over `[t0, t1)` (negative removes).
    /// Times before the horizon count as the horizon: the past is folded.
    pub fn add_range(&mut self, d: usize, t0: i64, t1: i64, amount: i64) {
        let t0 = t0.max(self.horizon);
        let t1 = t1.max(self.horizon);
        if t0 >= t1 || amount == 0 {
            return;
        }
        self.cals[d].add_range(t0, t1, amount);
        let cap = self.disks[d].cap;
        self.index.on_delta(d, t0, amount, cap);
        self.index.on_delta(d, t1, -amount, cap);
    }

    /// Peak usage of disk `d` in the block's window.
    #[inline]
    pub fn peak(&self, d: usize, b: &Block) -> i64 {
        self.cals[d].peak(b.start, b.end)
    }

    /// Free bytes on disk `d` throughout the block's window.
    #[inline]
    pub fn free(&self, d: usize, b: &Block) -> i64 {
        self.disks[d].cap - self.peak(d, b)
    }

    /// The disks `req` may use now: available disks on available nodes,
    /// matching medium, tier and bandwidth wishes.
    pub fn filter(&self, req: &Request) -> Filter {
        let unfiltered = req.medium.is_none() && req.tier.is_none() && req.bandwidth.is_none();
        if unfiltered && self.unavailable_nodes == 0 && self.unavailable_disks == 0 {
            return Filter::All;
        }
        let mut mask = vec![false; self.disks.len()];
        let mut list = Vec::new();
        for (g, info) in self.disks.iter().enumerate() {
            if !self.disk_available[g] || !self.available[info.node] {
                continue;
            }
            let disk = &self.system.nodes[info.node].disks[info.r.disk as usize];
            if let Some(m) = req.medium {
                if disk.medium != Some(m) {
                    continue;
                }
            }
            if let Some(t) = &req.tier {
                if disk.tier.as_deref() != Some(t.as_str()) {
                    continue;
                }
            }
            if let Some(bw) = req.bandwidth {
                if disk.write_bandwidth.0 < bw.0 {
                    continue;
                }
            }
            mask[g] = true;
            list.push(g as u32);
        }
        Filter::Some { list, mask }
    }

    /// Among the allowed disks, the one with the most free bytes in the
    /// window (for refusal explanations).
    pub fn largest_free(&self, f: &Filter, b: &Block) -> Option<(usize, i64)> {
        let mut best: Option<(usize, i64)> = None;
        for d in f.iter(self.disks.len()) {
            let free = self.free(d, b);
            match best {
                Some((_, bf)) if free <= bf => {}
                _ => best = Some((d, free)),
            }
        }
        best
    }
}
