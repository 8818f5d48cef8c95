//! `worst_case`, "best bandwidth" in the original's plots: the disk with the
//! highest expected bandwidth over the window, following the original's
//! formula exactly (see docs/policies.md), among the disks where the block
//! fits; ties at random.

use super::{break_tie, Miss, Pick};
use crate::state::{Block, Filter, State};

/// Per-disk overlap facts: how many reservations overlap the window and the
/// longest overlap, in seconds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Overlap {
    pub count: u64,
    pub longest: i64,
}

pub(crate) fn overlap(st: &State, d: usize, b: &Block) -> Overlap {
    let mut o = Overlap::default();
    for s in &st.spans[d] {
        if s.start < b.end && s.end > b.start {
            o.count += 1;
            o.longest = o.longest.max(s.end.min(b.end) - s.start.max(b.start));
        }
    }
    o
}

/// The disk's mean bandwidth over the window: `((D − M)·w + M·w/(n+1)) / D`
/// rounded to 3 decimals, or `w` with no overlap.
pub(crate) fn disk_bandwidth(w: f64, o: Overlap, window: i64) -> f64 {
    if o.count == 0 || window <= 0 {
        return w;
    }
    let d = window as f64;
    let m = o.longest as f64;
    let bw = ((d - m) * w + m * w / (o.count as f64 + 1.0)) / d;
    (bw * 1000.0).round() / 1000.0
}

/// The node's bandwidth: `network − S` if `S < network`, else
/// `network / (k + 1)`, where S sums the read bandwidths of the node's `k`
/// disks with any overlap.
pub(crate) fn node_bandwidth(network: f64, busy_read_bw: f64, busy_disks: usize) -> f64 {
    if busy_read_bw < network {
        network - busy_read_bw
    } else {
        network / (busy_disks as f64 + 1.0)
    }
}

pub(crate) fn pick(st: &mut State, f: &Filter, b: &Block) -> Result<Pick, Miss> {
    let total = st.disks.len();
    let overlaps: Vec<Overlap> = (0..total).map(|d| overlap(st, d, b)).collect();
    let mut node_bw = Vec::with_capacity(st.node_first.len());
    for (n, node) in st.system.nodes.iter().enumerate() {
        let first = st.node_first[n];
        let mut s = 0.0;
        let mut k = 0;
        for i in 0..node.disks.len() {
            if overlaps[first + i].count > 0 {
                s += st.disks[first + i].read_bw;
                k += 1;
            }
        }
        node_bw.push(node_bandwidth(node.network_bw.0, s, k));
    }
    let mut best = f64::NEG_INFINITY;
    let mut ties = Vec::new();
    let mut fitting = 0usize;
    for d in f.iter(total) {
        if st.free(d, b) < b.size {
            continue;
        }
        fitting += 1;
        let info = &st.disks[d];
        let bw =
            disk_bandwidth(info.write_bw, overlaps[d], b.end - b.start).min(node_bw[info.node]);
        if bw > best {
            best = bw;
            ties.clear();
            ties.push(d);
        } else if bw == best {
            ties.push(d);
        }
    }
    if ties.is_empty() {
        return Err(Miss::NoRoom);
    }
    let d = break_tie(st, &mut ties);
    let best_overlaps = overlaps[d].count;
    Ok(Pick {
        disk: d,
        why: format!(
            "worst_case: expected bandwidth {best:.3} GB/s with {best_overlaps} overlapping reservations, the best of {fitting} disks with room"
        ),
    })
}
