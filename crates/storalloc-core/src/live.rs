//! A granted allocation as the scheduler tracks it: the public view plus
//! what is needed to recompute its calendar footprint after shrinks.

use crate::decision::Allocation;

#[derive(Debug, Clone)]
pub(crate) struct Live {
    pub alloc: Allocation,
    /// Each placement's capacity at the start.
    pub initial: Vec<u64>,
    /// `(from, capacity per placement)` in the order they were asked for.
    pub shrinks: Vec<(i64, u64)>,
}

/// One piece of a placement's footprint: `cap` bytes over `[t0, t1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    pub placement: usize,
    pub t0: i64,
    pub t1: i64,
    pub cap: u64,
}

impl Live {
    pub fn new(alloc: Allocation) -> Live {
        let initial = alloc.placements.iter().map(|p| p.capacity.0).collect();
        Live {
            alloc,
            initial,
            shrinks: Vec::new(),
        }
    }

    /// Every placement's capacity as a step function over `[start, end)`:
    /// the initial capacity, lowered by each shrink from its time on.
    pub fn segments(&self) -> Vec<Segment> {
        let start = self.alloc.start.0;
        let end = self.alloc.end.0;
        let mut shrinks = self.shrinks.clone();
        shrinks.sort_by_key(|&(t, _)| t);
        let mut out = Vec::new();
        for (i, &initial) in self.initial.iter().enumerate() {
            let mut cur = initial;
            let mut t = start;
            for &(ts, x) in &shrinks {
                let at = ts.max(start).min(end);
                if x < cur {
                    if t < at {
                        out.push(Segment {
                            placement: i,
                            t0: t,
                            t1: at,
                            cap: cur,
                        });
                    }
                    t = t.max(at);
                    cur = x;
                }
            }
            if t < end && cur > 0 {
                out.push(Segment {
                    placement: i,
                    t0: t,
                    t1: end,
                    cap: cur,
                });
            }
        }
        out
    }
}
