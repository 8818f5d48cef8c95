//! `earliest_start` (backfilling): the earliest start `t` in
//! `[earliest_start, latest]` at which the request fits; at that `t`, each
//! block goes to the disk with the largest free fraction, ties at random.

use crate::placement::{next_start, place_all, BlockMiss};
use crate::request::AllocId;
use crate::state::{Filter, State};
use crate::strategy::{Pick, StrategyKind};

/// Find the earliest start and place the blocks there; the candidate
/// starts after a failure come from [`next_start`].
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
    // The refusal explains the requested start, so keep its miss.
    let mut first: Option<BlockMiss> = None;
    loop {
        let end = t.saturating_add(dur);
        let miss = match place_all(StrategyKind::EarliestStart, st, f, sizes, t, end, id) {
            Ok(picks) => return Ok((t, picks)),
            Err(m) => m,
        };
        let next = next_start(st, f, sizes.len(), &miss, t, dur, latest);
        let first = first.get_or_insert(miss);
        match next {
            Some(n) => t = n,
            None => return Err(first.clone()),
        }
    }
}
