//! `earliest_start` (backfilling): the earliest start `t` in
//! `[earliest_start, latest]` at which the request fits; at that `t`, each
//! block goes to the disk with the largest free fraction, ties at random.

use crate::placement::{place_all, BlockMiss};
use crate::request::AllocId;
use crate::state::{Filter, State};
use crate::strategy::{Pick, StrategyKind};

/// Find the earliest start and place the blocks there. For one block, the
/// first failure jumps straight to the earliest time any disk fits it. For
/// several, each failure jumps to the earliest later time at which the
/// failing block alone fits some disk: no start in between can hold every
/// block, so no feasible start is skipped.
pub(crate) fn place(
    st: &mut State,
    f: &Filter,
    sizes: &[i64],
    start: i64,
    dur: i64,
    latest: i64,
    id: AllocId,
) -> Result<(i64, Vec<Pick>), BlockMiss> {
    let mut t = start;
    loop {
        let end = t.saturating_add(dur);
        let miss = match place_all(StrategyKind::EarliestStart, st, f, sizes, t, end, id) {
            Ok(picks) => return Ok((t, picks)),
            Err(m) => m,
        };
        if t >= latest {
            return Err(miss);
        }
        let mut next: Option<i64> = None;
        for d in f.iter(st.disks.len()) {
            let limit = st.disks[d].cap - miss.size;
            let bound = next.map_or(latest, |n| n - 1);
            if let Some(x) = st.cals[d].earliest_fit(t + 1, bound, dur, limit) {
                next = Some(x);
            }
        }
        match next {
            Some(n) => t = n,
            None => return Err(miss),
        }
    }
}
