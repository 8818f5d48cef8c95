//! Time passing: the clock guard, allocations whose end came, reservations
//! whose start came, silent nodes, waiting requests, and retention.

use super::{Effect, Step, World};
use crate::model::StateName;
use storalloc_core::Timestamp;

impl World {
    /// The lifecycle's time for a `(wall, monotonic)` reading; an alert
    /// effect when the wall clock jumped (see `clock_guard`).
    pub fn observe_clock(
        &mut self,
        keeper: &mut super::TimeKeeper,
        wall: i64,
        mono: i64,
    ) -> Step<i64> {
        let grace = self.cfg.clock_jump_grace_s;
        self.step(|w| {
            let (now, alert) = keeper.observe(wall, mono, grace);
            if let Some(a) = alert {
                w.fx.push(Effect::Alert(a));
            }
            now
        })
    }

    /// Runs the timers at `now`.
    pub fn tick(&mut self, now: i64) -> Step<()> {
        self.step(|w| w.tick_inner(now))
    }

    fn tick_inner(&mut self, now: i64) {
        // The core keeps the one end-time index: it says who ended.
        for id in self.sched.advance(Timestamp(now)) {
            if self.allocs.get(&id.0).is_some_and(|a| a.is_live()) {
                self.end_allocation(id.0, now);
            }
        }
        while let Some(&(start, id)) = self.starts.first() {
            if start > now {
                break;
            }
            self.starts.remove(&(start, id));
            if self.state_of(id) == Some(StateName::Granted) {
                self.issue_allocates(id);
            }
        }
        let timeout = i64::from(self.cfg.heartbeat_timeout_s);
        let silent: Vec<u32> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.up && now - n.last_heartbeat > timeout)
            .map(|(i, _)| i as u32)
            .collect();
        for n in silent {
            tracing::warn!(node = n, "no heartbeat for {timeout} s: node is DOWN");
            self.mark_down(n);
        }
        self.decide_pending(now);
        self.retire_finished(now);
    }

    /// Finished allocations older than the retention period leave memory.
    fn retire_finished(&mut self, now: i64) {
        let limit = now.saturating_sub(self.cfg.retention_s as i64);
        let mut due = Vec::new();
        while let Some(&(at, id)) = self.finished.first() {
            if at > limit {
                break;
            }
            self.finished.pop_first();
            due.push(id);
        }
        for id in due {
            // Commands still owed for it (a release) keep it in memory
            // until they are answered.
            if self.outbox_by_alloc.contains_key(&id) {
                self.finished.insert((now + 1, id));
                continue;
            }
            if let Some(a) = self.allocs.remove(&id) {
                self.by_request_id.remove(&a.request_id);
                self.fx.push(Effect::Archive(Box::new(a)));
            }
        }
    }
}
