//! Placing all blocks of a request in one window, all or nothing.

use crate::request::AllocId;
use crate::state::{Block, Filter, Span, State};
use crate::strategy::{self, Miss, Pick, StrategyKind};

/// The block that could not be placed, and why.
#[derive(Debug, Clone)]
pub(crate) struct BlockMiss {
    pub index: usize,
    pub size: i64,
    pub miss: Miss,
    /// For `NoRoom`: the matching disk with the most free space for this
    /// block, with the blocks before it still in place.
    pub largest: Option<(usize, i64)>,
}

/// Place every block in `[start, end)`, each seeing the ones before it.
/// On success the reservations stay in the calendars; on failure every
/// block placed so far is rolled back.
pub(crate) fn place_all(
    kind: StrategyKind,
    st: &mut State,
    f: &Filter,
    sizes: &[i64],
    start: i64,
    end: i64,
    id: AllocId,
) -> Result<Vec<Pick>, BlockMiss> {
    let mut picks: Vec<Pick> = Vec::with_capacity(sizes.len());
    for (i, &size) in sizes.iter().enumerate() {
        let b = Block { size, start, end };
        match strategy::pick(kind, st, f, &b) {
            Ok(p) => {
                reserve(st, p.disk, start, end, size, id);
                picks.push(p);
            }
            Err(miss) => {
                let largest = match miss {
                    Miss::NoRoom => st.largest_free(f, &b),
                    Miss::Exhausted(_) => None,
                };
                for (p, &size) in picks.iter().zip(sizes).rev() {
                    unreserve(st, p.disk, start, end, size, id);
                }
                return Err(BlockMiss {
                    index: i,
                    size,
                    miss,
                    largest,
                });
            }
        }
    }
    Ok(picks)
}

pub(crate) fn reserve(st: &mut State, d: usize, start: i64, end: i64, size: i64, id: AllocId) {
    st.add_range(d, start, end, size);
    st.spans[d].push(Span { id, start, end });
}

fn unreserve(st: &mut State, d: usize, start: i64, end: i64, size: i64, id: AllocId) {
    st.add_range(d, start, end, -size);
    let spans = &mut st.spans[d];
    if let Some(i) = spans
        .iter()
        .rposition(|s| s.id == id && s.start == start && s.end == end)
    {
        spans.remove(i);
    }
}

/// The earliest start after `t` (at most `latest`) worth trying once
/// placing `sizes` at `t` failed on block `miss`.
///
/// No start before the time the failing block fits some allowed disk on
/// its own can work. For a single block that time is the answer. For
/// several blocks, moving the start can only help once the window has lost
/// a moment of higher use, i.e. at a change point where some allowed
/// disk's use drops, so the next such change point at or after that time is
/// the next candidate.
pub(crate) fn next_start(
    st: &State,
    f: &Filter,
    blocks: usize,
    miss: &BlockMiss,
    t: i64,
    dur: i64,
    latest: i64,
) -> Option<i64> {
    let from = t.checked_add(1)?;
    let alone = earliest_any(st, f, miss.size, from, latest, dur)?;
    if blocks == 1 {
        return Some(alone);
    }
    st.index.next_drop(alone, latest, |d| f.allows(d))
}

/// Earliest `t` in `[from, latest]` at which a block of `size` fits on
/// some allowed disk for `dur`.
pub(crate) fn earliest_any(
    st: &State,
    f: &Filter,
    size: i64,
    from: i64,
    latest: i64,
    dur: i64,
) -> Option<i64> {
    let mut best: Option<i64> = None;
    for d in f.iter(st.disks.len()) {
        let bound = best.map_or(latest, |b| b - 1);
        if bound < from {
            break;
        }
        let limit = st.disks[d].cap - size;
        if let Some(t) = st.cals[d].earliest_fit(from, bound, dur, limit) {
            best = Some(t);
        }
    }
    best
}

/// Whether a block of `size` fits some allowed disk in `[t, t + dur)`.
pub(crate) fn fits_somewhere(st: &State, f: &Filter, size: i64, t: i64, dur: i64) -> bool {
    let b = Block {
        size,
        start: t,
        end: t.saturating_add(dur),
    };
    f.iter(st.disks.len()).any(|d| st.free(d, &b) >= size)
}
