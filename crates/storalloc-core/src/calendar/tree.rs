//! The treap's structural operations: node allocation, aggregate upkeep,
//! insertion (merging equal keys), merge and split.

use super::{prio_of, DiskCalendar, Node, NIL, NIL_NODE};

impl DiskCalendar {
    pub(super) fn alloc(&mut self, key: i64, delta: i64) -> u32 {
        let node = Node {
            key,
            delta,
            sum: delta,
            maxp: delta,
            minp: delta,
            left: NIL,
            right: NIL,
            prio: prio_of(key),
        };
        if let Some(i) = self.free.pop() {
            self.nodes[i as usize] = node;
            i
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    pub(super) fn pull(&mut self, n: u32) {
        let node = self.nodes[n as usize];
        let l = self.nodes[node.left as usize];
        let r = self.nodes[node.right as usize];
        let at = l.sum + node.delta;
        let mut maxp = l.maxp.max(at);
        let mut minp = l.minp.min(at);
        if node.right != NIL {
            maxp = maxp.max(at + r.maxp);
            minp = minp.min(at + r.minp);
        }
        let m = &mut self.nodes[n as usize];
        m.sum = at + r.sum;
        m.maxp = maxp;
        m.minp = minp;
    }

    pub(super) fn insert(&mut self, n: u32, key: i64, delta: i64) -> u32 {
        if n == NIL {
            return self.alloc(key, delta);
        }
        let nk = self.nodes[n as usize].key;
        if key == nk {
            let d = self.nodes[n as usize].delta + delta;
            if d == 0 {
                let (l, r) = (self.nodes[n as usize].left, self.nodes[n as usize].right);
                self.free.push(n);
                return self.merge(l, r);
            }
            self.nodes[n as usize].delta = d;
            self.pull(n);
            return n;
        }
        if key < nk {
            let c = self.insert(self.nodes[n as usize].left, key, delta);
            self.nodes[n as usize].left = c;
            if c != NIL && self.nodes[c as usize].prio > self.nodes[n as usize].prio {
                // rotate right
                self.nodes[n as usize].left = self.nodes[c as usize].right;
                self.pull(n);
                self.nodes[c as usize].right = n;
                self.pull(c);
                return c;
            }
        } else {
            let c = self.insert(self.nodes[n as usize].right, key, delta);
            self.nodes[n as usize].right = c;
            if c != NIL && self.nodes[c as usize].prio > self.nodes[n as usize].prio {
                // rotate left
                self.nodes[n as usize].right = self.nodes[c as usize].left;
                self.pull(n);
                self.nodes[c as usize].left = n;
                self.pull(c);
                return c;
            }
        }
        self.pull(n);
        n
    }

    pub(super) fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio > self.nodes[b as usize].prio {
            let r = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = r;
            self.pull(a);
            a
        } else {
            let l = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = l;
            self.pull(b);
            b
        }
    }

    /// Split into keys `< t` and keys `≥ t`.
    pub(super) fn split(&mut self, n: u32, t: i64) -> (u32, u32) {
        if n == NIL {
            return (NIL, NIL);
        }
        if self.nodes[n as usize].key < t {
            let (a, b) = self.split(self.nodes[n as usize].right, t);
            self.nodes[n as usize].right = a;
            self.pull(n);
            (n, b)
        } else {
            let (a, b) = self.split(self.nodes[n as usize].left, t);
            self.nodes[n as usize].left = b;
            self.pull(n);
            (a, n)
        }
    }

    pub(super) fn free_tree(&mut self, n: u32) {
        let mut stack = vec![n];
        while let Some(n) = stack.pop() {
            if n == NIL {
                continue;
            }
            let node = self.nodes[n as usize];
            stack.push(node.left);
            stack.push(node.right);
            self.free.push(n);
        }
    }

    /// Re-pack live nodes when most of the arena is free, so a calendar does
    /// not keep its high-water mark forever.
    pub(super) fn maybe_shrink(&mut self) {
        if self.free.len() <= 1024 || self.free.len() * 2 <= self.nodes.len() {
            return;
        }
        let changes = self.changes();
        self.nodes.clear();
        self.nodes.push(NIL_NODE);
        self.free.clear();
        self.root = NIL;
        for (k, d) in changes {
            self.root = self.insert(self.root, k, d);
        }
        self.nodes.shrink_to_fit();
        self.free.shrink_to_fit();
    }
}
