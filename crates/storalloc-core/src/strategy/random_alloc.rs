//! `random_alloc`: a disk drawn uniformly at random among the disks where
//! the block fits. Unlike the original it checks capacity, so it never
//! over-commits a disk.

use super::{Miss, Pick};
use crate::state::{Block, Filter, State};
use rand::Rng;

/// Draws before falling back to listing every disk with room. Drawing
/// until a disk fits is uniform over the disks that fit, and so is the
/// fallback, so the choice stays uniform either way.
const DRAWS: usize = 8;

pub(crate) fn pick(st: &mut State, f: &Filter, b: &Block) -> Result<Pick, Miss> {
    let n = f.count(st.disks.len());
    if n == 0 {
        return Err(Miss::NoRoom);
    }
    for _ in 0..DRAWS {
        let d = f.nth(st.rng.random_range(0..n));
        if st.free(d, b) >= b.size {
            return Ok(found(d, n));
        }
    }
    let fitting: Vec<usize> = f
        .iter(st.disks.len())
        .filter(|&d| st.free(d, b) >= b.size)
        .collect();
    if fitting.is_empty() {
        return Err(Miss::NoRoom);
    }
    let d = fitting[st.rng.random_range(0..fitting.len())];
    Ok(found(d, n))
}

fn found(_d: usize, n: usize) -> Pick {
    Pick {
        disk: _d,
        why: format!("random_alloc: drawn at random among the {n} matching disks with room"),
    }
}
