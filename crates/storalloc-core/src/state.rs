//! The scheduler's working state shared by the strategies: per-disk facts,
//! calendars, the free-space index, the RNG and the round-robin cursor.
//! Every change of a calendar goes through [`State::add_range`], so the
//! calendars and the index never disagree.

use crate::calendar::{DiskCalendar, MAX_CAPACITY};
use crate::free_index::FreeIndex;
use crate::request::{AllocId, Request};
use crate::system::{DiskRef, System};
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
    pub available: Vec<bool>,
    pub unavailable_nodes: usize,
    pub cals: Vec<DiskCalendar>,
    pub spans: Vec<Vec<Span>>,
    pub index: FreeIndex,
    pub rng: ChaCha8Rng,
    /// round_robin: the next global disk index to try.
    pub rr_cursor: usize,
    /// Everything before this was folded into the calendars' base levels.
    pub horizon: i64,
    /// The largest disk capacity.
    pub max_cap: i64,
}

impl State {
    pub fn new(system: System, rng: ChaCha8Rng) -> State {
        let mut disks = Vec::new();
        let mut node_first = Vec::new();
        for (n, node) in system.nodes.iter().enumerate() {
            node_first.push(disks.len());
            for (i, d) in node.disks.iter().enumerate() {
                disks.push(DiskInfo {
                    r: DiskRef {
                        node: n as u32,
                        disk: i as u32,
                    },
                    node: n,
                    cap: d.capacity.0.min(MAX_CAPACITY) as i64,
                    write_bw: d.write_bandwidth.0,
                    read_bw: d.read_bandwidth.0,
                });
            }
        }
        let caps: Vec<i64> = disks.iter().map(|d| d.cap).collect();
        State {
            available: vec![true; system.nodes.len()],
            unavailable_nodes: 0,
            cals: vec![DiskCalendar::new(); disks.len()],
            spans: vec![Vec::new(); disks.len()],
            index: FreeIndex::new(&caps),
            node_first,
            disks,
            system,
            rng,
            rr_cursor: 0,
            horizon: i64::MIN,
            max_cap: caps.iter().copied().max().unwrap_or(0),
        }
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

    /// The disks `req` may use now: available nodes, matching medium, tier
    /// and bandwidth wishes.
    pub fn filter(&self, req: &Request) -> Filter {
        let unfiltered = req.medium.is_none() && req.tier.is_none() && req.bandwidth.is_none();
        if unfiltered && self.unavailable_nodes == 0 {
            return Filter::All;
        }
        let mut mask = vec![false; self.disks.len()];
        let mut list = Vec::new();
        for (g, info) in self.disks.iter().enumerate() {
            if !self.available[info.node] {
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
