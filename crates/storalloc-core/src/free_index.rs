//! An index over the disks ordered by an upper bound of their free fraction.
//!
//! The index holds every disk's level at one instant `t` (the "index time").
//! For any window `[s, e)` that contains `t`, a disk's peak usage in the
//! window is at least its level at `t`, so `(capacity − level(t)) / capacity`
//! bounds its free fraction from above. Strategies that want the largest
//! free fraction walk the disks in decreasing bound order and stop as soon
//! as the next bound cannot beat the best exact value found
//! (branch-and-bound). Requests that start at the index time, the common
//! case in trace replay and in the live system, then cost O(log disks).
//!
//! To move the index time, the index keeps every calendar change point
//! `(time, disk) → delta` at or after the scheduler's horizon, and replays
//! the ones in between (or rebuilds from the calendars when that is cheaper).

use crate::calendar::DiskCalendar;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone)]
pub(crate) struct FreeIndex {
    t: i64,
    caps: Vec<i64>,
    level: Vec<i64>,
    key: Vec<u64>,
    order: BTreeSet<(u64, u32)>,
    events: BTreeMap<(i64, u32), i64>,
    /// Per disk, how many change points after `t` raise its use. With none,
    /// the use never exceeds its level at `t` from `t` on, so a window
    /// starting at `t` has that level as its exact peak.
    rises_after: Vec<u32>,
}

/// Order-preserving key of a non-negative fraction.
fn frac_key(cap: i64, level: i64) -> u64 {
    if cap <= 0 {
        return 0;
    }
    let f = ((cap - level) as f64 / cap as f64).max(0.0);
    f.to_bits()
}

impl FreeIndex {
    /// An index over no disks; they come with [`FreeIndex::insert_disk`].
    pub fn new() -> FreeIndex {
        FreeIndex {
            t: i64::MIN,
            caps: Vec::new(),
            level: Vec::new(),
            key: Vec::new(),
            order: BTreeSet::new(),
            events: BTreeMap::new(),
            rises_after: Vec::new(),
        }
    }

    pub fn level(&self, d: usize) -> i64 {
        self.level[d]
    }

    /// The exact peak of disk `d` over a window starting at the index time,
    /// if it is known without reading the calendar.
    #[inline]
    pub fn peak_from_now(&self, d: usize, start: i64) -> Option<i64> {
        (start == self.t && self.rises_after[d] == 0).then_some(self.level[d])
    }

    /// Record a calendar change of `delta` at `at` on disk `d`.
    pub fn on_delta(&mut self, d: usize, at: i64, delta: i64, cap: i64) {
        debug_assert_eq!(cap, self.caps[d]);
        let e = self.events.entry((at, d as u32)).or_insert(0);
        let was_rise = *e > 0;
        *e += delta;
        let is_rise = *e > 0;
        if *e == 0 {
            self.events.remove(&(at, d as u32));
        }
        if at > self.t && was_rise != is_rise {
            if is_rise {
                self.rises_after[d] += 1;
            } else {
                self.rises_after[d] -= 1;
            }
        }
        if at <= self.t {
            self.level[d] += delta;
            self.rekey(d);
        }
    }

    /// Insert an empty disk of capacity `cap` at index `g`; the disks from
    /// `g` on move up by one. Appending costs O(log disks); inserting before
    /// other disks renumbers every change point (rare: a disk added live).
    pub fn insert_disk(&mut self, g: usize, cap: i64) {
        let g32 = g as u32;
        let shift = |d: u32| if d >= g32 { d + 1 } else { d };
        if g < self.caps.len() {
            self.order = self.order.iter().map(|&(k, d)| (k, shift(d))).collect();
            self.events = std::mem::take(&mut self.events)
                .into_iter()
                .map(|((t, d), delta)| ((t, shift(d)), delta))
                .collect();
        }
        let key = frac_key(cap, 0);
        self.caps.insert(g, cap);
        self.level.insert(g, 0);
        self.key.insert(g, key);
        self.rises_after.insert(g, 0);
        self.order.insert((key, g32));
    }

    /// Disk `d`'s capacity changed to `cap`: its bound moves, its use does not.
    pub fn set_cap(&mut self, d: usize, cap: i64) {
        self.caps[d] = cap;
        self.rekey(d);
    }

    fn rekey(&mut self, d: usize) {
        let k = frac_key(self.caps[d], self.level[d]);
        if k != self.key[d] {
            self.order.remove(&(self.key[d], d as u32));
            self.order.insert((k, d as u32));
            self.key[d] = k;
        }
    }

    /// Move the index time to `target`, replaying change points in between
    /// or, when there are more of them than disks, re-reading the calendars.
    pub fn seek(&mut self, target: i64, cals: &[DiskCalendar]) {
        if target == self.t {
            return;
        }
        let n = self.caps.len();
        let mut touched: Vec<u32> = Vec::new();
        let mut too_many = false;
        if target > self.t {
            let lo = self.t.saturating_add(1);
            if self.t != i64::MAX {
                for (&(_, d), &delta) in self.events.range((lo, 0)..=(target, u32::MAX)) {
                    if touched.len() > n {
                        too_many = true;
                        break;
                    }
                    self.level[d as usize] += delta;
                    if delta > 0 {
                        self.rises_after[d as usize] -= 1;
                    }
                    touched.push(d);
                }
            }
        } else {
            let lo = target.saturating_add(1);
            for (&(_, d), &delta) in self.events.range((lo, 0)..=(self.t, u32::MAX)) {
                if touched.len() > n {
                    too_many = true;
                    break;
                }
                self.level[d as usize] -= delta;
                if delta > 0 {
                    self.rises_after[d as usize] += 1;
                }
                touched.push(d);
            }
        }
        self.t = target;
        if too_many {
            self.rebuild(cals);
        } else {
            for d in touched {
                self.rekey(d as usize);
            }
        }
    }

    fn rebuild(&mut self, cals: &[DiskCalendar]) {
        for (d, cal) in cals.iter().enumerate() {
            self.level[d] = cal.level_at(self.t);
        }
        self.rises_after.iter_mut().for_each(|r| *r = 0);
        if self.t != i64::MAX {
            for (&(_, d), &delta) in self.events.range((self.t + 1, 0)..) {
                if delta > 0 {
                    self.rises_after[d as usize] += 1;
                }
            }
        }
        self.order.clear();
        for d in 0..self.caps.len() {
            self.key[d] = frac_key(self.caps[d], self.level[d]);
            self.order.insert((self.key[d], d as u32));
        }
    }

    /// Make the index usable for the window `[s, e)` (times before
    /// `horizon` do not exist any more). False if no instant qualifies.
    pub fn prepare(&mut self, s: i64, e: i64, horizon: i64, cals: &[DiskCalendar]) -> bool {
        if self.t >= s && self.t < e && self.t >= horizon {
            return true;
        }
        let target = s.max(horizon);
        if target >= e {
            return false;
        }
        self.seek(target, cals);
        true
    }

    /// Disks in decreasing order of free-fraction bound, with the bound.
    pub fn by_bound_desc(&self) -> impl Iterator<Item = (f64, usize)> + '_ {
        self.order
            .iter()
            .rev()
            .map(|&(k, d)| (f64::from_bits(k), d as usize))
    }

    /// The first change point at or after `from` (and at most `latest`)
    /// where the use of an allowed disk drops.
    pub fn next_drop(&self, from: i64, latest: i64, allows: impl Fn(usize) -> bool) -> Option<i64> {
        if from > latest {
            return None;
        }
        self.events
            .range((from, 0)..=(latest, u32::MAX))
            .find(|(&(_, d), &delta)| delta < 0 && allows(d as usize))
            .map(|(&(t, _), _)| t)
    }

    /// Forget change points before `horizon`; the index time moves up to it
    /// if it was earlier. Returns the disks that had such change points.
    pub fn compact(&mut self, horizon: i64, cals: &[DiskCalendar]) -> Vec<usize> {
        if self.t < horizon {
            self.seek(horizon, cals);
        }
        let keep = self.events.split_off(&(horizon, 0));
        let old = std::mem::replace(&mut self.events, keep);
        let mut disks: Vec<usize> = old.keys().map(|&(_, d)| d as usize).collect();
        disks.sort_unstable();
        disks.dedup();
        disks
    }

    /// Check the index against the calendars and the disks' capacities (for
    /// the invariant checker).
    pub fn verify(&self, cals: &[DiskCalendar], caps: &[i64]) -> Result<(), String> {
        if self.caps != caps {
            return Err("free index holds other capacities than the disks".into());
        }
        if cals.len() != caps.len() {
            return Err(format!("{} calendars for {} disks", cals.len(), caps.len()));
        }
        for (d, cal) in cals.iter().enumerate() {
            if cal.level_at(self.t) != self.level[d] {
                return Err(format!(
                    "free index holds level {} for disk #{d} at {}, the calendar {}",
                    self.level[d],
                    self.t,
                    cal.level_at(self.t)
                ));
            }
            if self.key[d] != frac_key(self.caps[d], self.level[d]) {
                return Err(format!("free index holds a stale bound for disk #{d}"));
            }
            if !self.order.contains(&(self.key[d], d as u32)) {
                return Err(format!("free index lost disk #{d}"));
            }
        }
        if self.order.len() != self.caps.len() {
            return Err("free index has stale entries".into());
        }
        let mut rises = vec![0u32; self.caps.len()];
        if let Some(&(t, d)) = self.events.keys().find(|&&(_, d)| d as usize >= cals.len()) {
            return Err(format!(
                "free index holds a change at {t} for disk #{d}, which does not exist"
            ));
        }
        for (&(t, d), &delta) in &self.events {
            if t > self.t && delta > 0 {
                rises[d as usize] += 1;
            }
        }
        if rises != self.rises_after {
            return Err("free index miscounts the rises after its time".into());
        }
        Ok(())
    }
}
