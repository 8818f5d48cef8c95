//! `worst_fit`: the disk with the largest free fraction over the window
//! among the disks where the block fits; ties at random.

use super::{break_tie, Miss, Pick};
use crate::explain::pct;
use crate::state::{Block, Filter, State};

pub(crate) fn pick(st: &mut State, f: &Filter, b: &Block, name: &str) -> Result<Pick, Miss> {
    let total = f.count(st.disks.len());
    let (best, mut ties) = if st.index.prepare(b.start, b.end, st.horizon, &st.cals) {
        branch_and_bound(st, f, b)
    } else {
        scan(st, f, b)
    };
    if ties.is_empty() {
        return Err(Miss::NoRoom);
    }
    let d = break_tie(st, &mut ties);
    Ok(Pick {
        disk: d,
        why: format!("{name}: {} free, the most of {total} disks", pct(best)),
    })
}

/// Walk the disks by decreasing free-fraction bound (the index's level at
/// its time, which lies inside the window) and stop once no bound can reach
/// the best exact fraction found.
fn branch_and_bound(st: &State, f: &Filter, b: &Block) -> (f64, Vec<usize>) {
    let mut best = -1.0f64;
    let mut ties = Vec::new();
    for (bound, d) in st.index.by_bound_desc() {
        if bound < best {
            break;
        }
        if !f.allows(d) {
            continue;
        }
        let cap = st.disks[d].cap;
        if cap <= 0 || cap - st.index.level(d) < b.size {
            continue;
        }
        let free = match st.index.peak_from_now(d, b.start) {
            Some(peak) => cap - peak,
            None => st.free(d, b),
        };
        consider(cap, free, d, b, &mut best, &mut ties);
    }
    (best, ties)
}

fn scan(st: &State, f: &Filter, b: &Block) -> (f64, Vec<usize>) {
    let mut best = -1.0f64;
    let mut ties = Vec::new();
    for d in f.iter(st.disks.len()) {
        let cap = st.disks[d].cap;
        if cap > 0 {
            consider(cap, st.free(d, b), d, b, &mut best, &mut ties);
        }
    }
    (best, ties)
}

#[inline]
fn consider(cap: i64, free: i64, d: usize, b: &Block, best: &mut f64, ties: &mut Vec<usize>) {
    if free < b.size {
        return;
    }
    let frac = free as f64 / cap as f64;
    if frac > *best {
        *best = frac;
        ties.clear();
        ties.push(d);
    } else if frac == *best {
        ties.push(d);
    }
}
