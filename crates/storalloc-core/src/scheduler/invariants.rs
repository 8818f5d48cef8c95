//! The invariant checker: recomputes every disk's use from the allocations
//! and compares it with the calendars, the overlap spans and the index.

use super::{InvariantViolation, Scheduler};
use crate::state::Span;
use std::collections::BTreeMap;

impl Scheduler {
    pub(super) fn check_invariants_impl(&self) -> Result<(), InvariantViolation> {
        let st = &self.st;
        // The layout first: everything below indexes by it.
        st.verify_layout().map_err(InvariantViolation)?;
        let h = st.horizon;
        let n = st.disks.len();
        let mut expected: Vec<BTreeMap<i64, i64>> = vec![BTreeMap::new(); n];
        let mut spans: Vec<Vec<Span>> = vec![Vec::new(); n];
        for a in self.live.values().chain(self.ghosts.values()) {
            for p in &a.placements {
                let g = st.global(p.disk).ok_or_else(|| {
                    InvariantViolation(format!(
                        "allocation {} names {}, which does not exist",
                        a.id, p.disk
                    ))
                })?;
                spans[g].push(Span {
                    id: a.id,
                    start: a.start.0,
                    end: a.end.0,
                });
                let (t0, t1) = (a.start.0.max(h), a.end.0.max(h));
                if t0 < t1 {
                    let m = &mut expected[g];
                    *m.entry(t0).or_insert(0) += p.capacity.0 as i64;
                    *m.entry(t1).or_insert(0) -= p.capacity.0 as i64;
                }
            }
        }
        for (d, cal) in st.cals.iter().enumerate() {
            let r = st.disks[d].r;
            let cap = st.disks[d].cap;
            if cal.max_level() > cap {
                return Err(InvariantViolation(format!(
                    "{r} is over capacity: {} in use of {cap}",
                    cal.max_level()
                )));
            }
            if cal.min_level() < 0 {
                return Err(InvariantViolation(format!(
                    "{r} has negative use: {}",
                    cal.min_level()
                )));
            }
            // Compare the two step functions at the horizon and at every
            // change point after it.
            let mut times: Vec<i64> = expected[d].keys().copied().collect();
            times.extend(cal.changes().into_iter().map(|(t, _)| t));
            times.push(h);
            times.retain(|&t| t >= h);
            times.sort_unstable();
            times.dedup();
            let mut level = 0i64;
            let mut it = expected[d].iter().peekable();
            for t in times {
                while let Some((&k, &delta)) = it.peek() {
                    if k > t {
                        break;
                    }
                    level += delta;
                    it.next();
                }
                let got = cal.level_at(t);
                if got != level {
                    return Err(InvariantViolation(format!(
                        "{r} calendar holds {got} bytes at t={t}, the allocations add up to {level}"
                    )));
                }
            }
            let mut want = spans[d].clone();
            let mut have = st.spans[d].clone();
            want.sort_by_key(|s| (s.id, s.start, s.end));
            have.sort_by_key(|s| (s.id, s.start, s.end));
            if want != have {
                return Err(InvariantViolation(format!(
                    "{r} overlap list holds {} reservations, the allocations {}",
                    have.len(),
                    want.len()
                )));
            }
        }
        if self.ends.len() != self.live.len()
            || self
                .live
                .values()
                .any(|a| !self.ends.contains(&(a.end.0, a.id)))
        {
            return Err(InvariantViolation(
                "end-time queue disagrees with the live allocations".into(),
            ));
        }
        Ok(())
    }
}
