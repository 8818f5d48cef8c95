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
                for (p, &size) in picks.iter().zip(sizes).rev() {
                    unreserve(st, p.disk, start, end, size, id);
                }
                return Err(BlockMiss {
                    index: i,
                    size,
                    miss,
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
