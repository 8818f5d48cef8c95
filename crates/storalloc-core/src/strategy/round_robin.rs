//! `round_robin`: a cursor over the disks in (node, disk) order persists
//! across requests. The first candidate with room is taken and the cursor
//! moves past it; after 5 rejected candidates (or every allowed disk once,
//! if there are fewer) the block is refused. Unlike the original, which
//! accepted a disk whose free space was strictly greater than the block,
//! a disk is accepted when its free space is at least the block. Disks
//! added live leave the cursor after the same disk (see `State::rr_cursor`).

use super::{Miss, Pick};
use crate::state::{Block, Filter, State};

/// Candidates rejected before giving up, as in the original.
pub(crate) const BUDGET: usize = 5;

pub(crate) fn pick(st: &mut State, f: &Filter, b: &Block) -> Result<Pick, Miss> {
    let total = st.disks.len();
    if total == 0 {
        return Err(Miss::Exhausted(Vec::new()));
    }
    let budget = BUDGET.min(f.count(total));
    let mut tried = Vec::new();
    let mut pos = st.rr_cursor % total;
    let mut scanned = 0;
    while tried.len() < budget && scanned < total {
        let d = pos;
        pos = (pos + 1) % total;
        scanned += 1;
        if !f.allows(d) {
            continue;
        }
        if st.free(d, b) >= b.size {
            st.rr_cursor = d + 1;
            let why = match tried.len() {
                0 => "round_robin: next disk in turn".to_string(),
                n => format!("round_robin: next disk in turn after {n} without room"),
            };
            return Ok(Pick { disk: d, why });
        }
        tried.push(d);
    }
    if let Some(&last) = tried.last() {
        st.rr_cursor = last + 1;
    }
    Err(Miss::Exhausted(tried))
}
