//! `best_fit`: the disk where the block fits with the least free space left
//! after placing it; ties at random.

use super::{break_tie, Miss, Pick};
use crate::explain::fmt_bytes_i;
use crate::state::{Block, Filter, State};

pub(crate) fn pick(st: &mut State, f: &Filter, b: &Block) -> Result<Pick, Miss> {
    let mut best = i64::MAX;
    let mut ties = Vec::new();
    let mut fitting = 0usize;
    for d in f.iter(st.disks.len()) {
        let left = st.free(d, b) - b.size;
        if left < 0 {
            continue;
        }
        fitting += 1;
        if left < best {
            best = left;
            ties.clear();
            ties.push(d);
        } else if left == best {
            ties.push(d);
        }
    }
    if ties.is_empty() {
        return Err(Miss::NoRoom);
    }
    let d = break_tie(st, &mut ties);
    Ok(Pick {
        disk: d,
        why: format!(
            "best_fit: leaves {} free, the least of {fitting} disks with room",
            fmt_bytes_i(best)
        ),
    })
}
