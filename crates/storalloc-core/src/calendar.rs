//! One disk's calendar: the capacity in use as a step function of time.
//!
//! The function is stored as deltas keyed by time (`+c` where a reservation
//! starts, `-c` where it ends) in an arena-backed treap. Every node carries
//! the sum of its subtree's deltas and the largest and smallest running sum
//! (prefix) inside its subtree, so "peak usage in a range" and "first time
//! after `x` at which the level rises above / falls to `L`" are single
//! O(log n) descents. Priorities are a hash of the key, so the tree's shape
//! depends only on the set of keys, never on the order of updates.
//!
//! Times before the compaction horizon are folded into `base`: the calendar
//! answers exactly for every time at or after its horizon, and reports the
//! horizon's level for earlier times.

/// Largest capacity the calendar represents exactly (2^61 bytes, 2.3 EB).
/// Larger disk capacities are clamped to it, which keeps every sum of
/// levels and blocks inside `i64`.
pub const MAX_CAPACITY: u64 = 1 << 61;

mod tree;

const NIL: u32 = 0;

#[derive(Debug, Clone, Copy)]
struct Node {
    key: i64,
    delta: i64,
    sum: i64,
    /// Largest running sum over the non-empty prefixes of the subtree.
    maxp: i64,
    /// Smallest running sum over the non-empty prefixes of the subtree.
    minp: i64,
    left: u32,
    right: u32,
    prio: u32,
}

const NIL_NODE: Node = Node {
    key: 0,
    delta: 0,
    sum: 0,
    maxp: i64::MIN,
    minp: i64::MAX,
    left: NIL,
    right: NIL,
    prio: 0,
};

fn prio_of(key: i64) -> u32 {
    // splitmix64 finaliser: a fixed, well-mixed priority per key.
    let mut z = (key as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 32) as u32 | 1
}

/// Capacity in use on one disk over time (in bytes).
#[derive(Debug, Clone)]
pub struct DiskCalendar {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    base: i64,
    horizon: i64,
}

impl Default for DiskCalendar {
    fn default() -> Self {
        Self::new()
    }
}

impl DiskCalendar {
    pub fn new() -> Self {
        DiskCalendar {
            nodes: vec![NIL_NODE],
            free: Vec::new(),
            root: NIL,
            base: 0,
            horizon: i64::MIN,
        }
    }

    /// Number of distinct change points stored.
    pub fn len(&self) -> usize {
        self.nodes.len() - 1 - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.root == NIL
    }

    /// Times before this were folded into the base level by [`Self::compact`].
    pub fn horizon(&self) -> i64 {
        self.horizon
    }

    /// Add `amount` bytes over `[t0, t1)`; a negative amount removes them.
    pub fn add_range(&mut self, t0: i64, t1: i64, amount: i64) {
        if t0 >= t1 || amount == 0 {
            return;
        }
        self.add_delta(t0, amount);
        self.add_delta(t1, -amount);
    }

    /// Change the level by `delta` from time `key` on.
    pub fn add_delta(&mut self, key: i64, delta: i64) {
        if delta == 0 {
            return;
        }
        if key < self.horizon {
            self.base += delta;
            return;
        }
        self.root = self.insert(self.root, key, delta);
    }

    /// Fold every change before `t` into the base level and free its nodes.
    pub fn compact(&mut self, t: i64) {
        if t <= self.horizon {
            return;
        }
        self.horizon = t;
        let (l, r) = self.split(self.root, t);
        self.base += self.nodes[l as usize].sum;
        self.free_tree(l);
        self.root = r;
        self.maybe_shrink();
    }

    /// Level at time `t` (for `t` before the horizon: the horizon's base).
    pub fn level_at(&self, t: i64) -> i64 {
        let mut acc = self.base;
        let mut n = self.root;
        while n != NIL {
            let node = &self.nodes[n as usize];
            if node.key <= t {
                acc += self.nodes[node.left as usize].sum + node.delta;
                n = node.right;
            } else {
                n = node.left;
            }
        }
        acc
    }

    /// Peak level during `[t0, t1)`; 0 for an empty range.
    ///
    /// One walk down: the level at `t0` and the running maxima of the keys
    /// in `(t0, t1)` come from the two boundary paths below the node where
    /// they part, with whole subtrees inside the range read from `maxp`.
    pub fn peak(&self, t0: i64, t1: i64) -> i64 {
        if t1 <= t0 {
            return 0;
        }
        let nodes = &self.nodes;
        let mut off = self.base;
        let mut n = self.root;
        // Down to the first key inside (t0, t1).
        while n != NIL {
            let node = &nodes[n as usize];
            if node.key <= t0 {
                off += nodes[node.left as usize].sum + node.delta;
                n = node.right;
            } else if node.key >= t1 {
                n = node.left;
            } else {
                break;
            }
        }
        if n == NIL {
            return off;
        }
        let split = &nodes[n as usize];
        let here = off + nodes[split.left as usize].sum + split.delta;
        let mut best = here;
        // Left boundary: keys ≤ t0 add to the level at t0; every key after
        // t0 in this subtree is inside the range.
        let mut m = split.left;
        let mut lo_off = off;
        while m != NIL {
            let node = &nodes[m as usize];
            let at = lo_off + nodes[node.left as usize].sum + node.delta;
            if node.key <= t0 {
                lo_off = at;
                m = node.right;
            } else {
                best = best.max(at);
                if node.right != NIL {
                    best = best.max(at + nodes[node.right as usize].maxp);
                }
                m = node.left;
            }
        }
        // Right boundary: keys before t1.
        let mut m = split.right;
        let mut hi_off = here;
        while m != NIL {
            let node = &nodes[m as usize];
            if node.key < t1 {
                if node.left != NIL {
                    best = best.max(hi_off + nodes[node.left as usize].maxp);
                }
                hi_off += nodes[node.left as usize].sum + node.delta;
                best = best.max(hi_off);
                m = node.right;
            } else {
                m = node.left;
            }
        }
        best.max(lo_off)
    }

    /// Highest level at any time at or after the horizon.
    pub fn max_level(&self) -> i64 {
        let at = self.level_at(self.horizon);
        match self.range_ext(self.root, 0, Some(self.horizon), None, false) {
            i64::MIN => at,
            m => at.max(self.base + m),
        }
    }

    /// Lowest level at any time at or after the horizon.
    pub fn min_level(&self) -> i64 {
        let at = self.level_at(self.horizon);
        match self.range_ext(self.root, 0, Some(self.horizon), None, true) {
            i64::MAX => at,
            m => at.min(self.base + m),
        }
    }

    /// Earliest `t` in `[t0, latest]` such that the level stays `≤ limit`
    /// throughout `[t, t + dur)`.
    pub fn earliest_fit(&self, t0: i64, latest: i64, dur: i64, limit: i64) -> Option<i64> {
        if limit < 0 {
            return None;
        }
        let mut t = t0;
        loop {
            if t > latest {
                return None;
            }
            if self.level_at(t) > limit {
                t = self.first_at_or_below(t, limit)?;
                continue;
            }
            let end = t.saturating_add(dur.max(1));
            match self.first_above(t, limit) {
                Some(k) if k < end => t = self.first_at_or_below(k, limit)?,
                _ => return Some(t),
            }
        }
    }

    /// First change point `k > x` at which the level becomes `> limit`.
    pub fn first_above(&self, x: i64, limit: i64) -> Option<i64> {
        self.find_first(
            self.root,
            self.base,
            x,
            &|off, n: &Node| off + n.maxp > limit,
            &|lv| lv > limit,
        )
    }

    /// First change point `k > x` at which the level becomes `≤ limit`.
    pub fn first_at_or_below(&self, x: i64, limit: i64) -> Option<i64> {
        self.find_first(
            self.root,
            self.base,
            x,
            &|off, n: &Node| off + n.minp <= limit,
            &|lv| lv <= limit,
        )
    }

    /// Change points at or after the horizon, as `(time, delta)`, in time order.
    pub fn changes(&self) -> Vec<(i64, i64)> {
        let mut out = Vec::with_capacity(self.len());
        let mut stack = Vec::new();
        let mut n = self.root;
        while n != NIL || !stack.is_empty() {
            while n != NIL {
                stack.push(n);
                n = self.nodes[n as usize].left;
            }
            let top = stack.pop().unwrap_or(NIL);
            let node = &self.nodes[top as usize];
            out.push((node.key, node.delta));
            n = node.right;
        }
        out
    }

    // ----- internals -----

    /// Generic "first key > x whose running level satisfies `hit`", pruned
    /// by `may_hit(offset, subtree)`.
    fn find_first(
        &self,
        n: u32,
        off: i64,
        x: i64,
        may_hit: &dyn Fn(i64, &Node) -> bool,
        hit: &dyn Fn(i64) -> bool,
    ) -> Option<i64> {
        if n == NIL {
            return None;
        }
        let node = &self.nodes[n as usize];
        if !may_hit(off, node) {
            return None;
        }
        let lsum = self.nodes[node.left as usize].sum;
        let here = off + lsum + node.delta;
        if node.key <= x {
            return self.find_first(node.right, here, x, may_hit, hit);
        }
        if let Some(k) = self.find_first(node.left, off, x, may_hit, hit) {
            return Some(k);
        }
        if hit(here) {
            return Some(node.key);
        }
        self.find_first(node.right, here, x, may_hit, hit)
    }

    /// Largest (or with `min`, smallest) running sum, relative to `base`,
    /// at keys in `(lo, hi)`; `i64::MIN` (`i64::MAX`) if there is none.
    fn range_ext(&self, n: u32, off: i64, lo: Option<i64>, hi: Option<i64>, min: bool) -> i64 {
        let none = if min { i64::MAX } else { i64::MIN };
        let mut n = n;
        let mut off = off;
        // Walk down while the whole range lies on one side of the node.
        loop {
            if n == NIL {
                return none;
            }
            let node = &self.nodes[n as usize];
            if lo.is_none() && hi.is_none() {
                return if min {
                    off + node.minp
                } else {
                    off + node.maxp
                };
            }
            let lsum = self.nodes[node.left as usize].sum;
            if lo.is_some_and(|lo| node.key <= lo) {
                off += lsum + node.delta;
                n = node.right;
                continue;
            }
            if hi.is_some_and(|hi| node.key >= hi) {
                n = node.left;
                continue;
            }
            let here = off + lsum + node.delta;
            let l = self.range_ext(node.left, off, lo, None, min);
            let r = self.range_ext(node.right, here, None, hi, min);
            return if min {
                l.min(here).min(r)
            } else {
                l.max(here).max(r)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_reservation() {
        let mut c = DiskCalendar::new();
        c.add_range(10, 20, 5);
        assert_eq!(c.level_at(9), 0);
        assert_eq!(c.level_at(10), 5);
        assert_eq!(c.level_at(19), 5);
        assert_eq!(c.level_at(20), 0);
        assert_eq!(c.peak(0, 10), 0);
        assert_eq!(c.peak(0, 11), 5);
        assert_eq!(c.peak(19, 30), 5);
        assert_eq!(c.peak(20, 30), 0);
        assert_eq!(c.earliest_fit(0, 100, 15, 0), Some(20));
        assert_eq!(c.earliest_fit(0, 100, 10, 0), Some(0));
        assert_eq!(c.earliest_fit(0, 100, 11, 0), Some(20));
        assert_eq!(c.earliest_fit(0, 100, 11, 5), Some(0));
        c.add_range(10, 20, -5);
        assert!(c.is_empty());
    }
}
