//! Blocks the orchestrator named as orphans, waiting out the grace period
//! before the agent removes them.
//!
//! An orchestrator restored from an older state, or one that has not yet
//! heard every agent, can name storage as an orphan that it will claim a
//! moment later. Data is only deleted once the orchestrator has kept naming
//! the block for the whole grace period, across re-registrations, and has
//! sent no command for its allocation.

use crate::backend::HeldBlock;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// The orphans waiting for removal, keyed by (allocation, disk).
#[derive(Debug)]
pub struct PendingOrphans {
    grace: Duration,
    pending: BTreeMap<(u64, u32), (HeldBlock, Instant)>,
}

/// An orphan whose grace period is over.
#[derive(Debug, Clone)]
pub struct DueOrphan {
    pub held: HeldBlock,
    /// How long the orchestrator has been naming it.
    pub age: Duration,
}

impl PendingOrphans {
    /// `grace` zero: every orphan is due as soon as it is named.
    pub fn new(grace: Duration) -> Self {
        PendingOrphans {
            grace,
            pending: BTreeMap::new(),
        }
    }

    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// After a registration: `named` are the allocations the orchestrator
    /// calls orphans, `held` what the agent announced. Entries it no longer
    /// names, or that are no longer held, leave; newly named blocks start
    /// their grace period `now`; the others keep their start. Returns the
    /// newly pending blocks.
    pub fn registered(
        &mut self,
        named: &[u64],
        held: &[HeldBlock],
        now: Instant,
    ) -> Vec<HeldBlock> {
        let named: BTreeSet<u64> = named.iter().copied().collect();
        let wanted: BTreeMap<(u64, u32), &HeldBlock> = held
            .iter()
            .filter(|h| named.contains(&h.allocation_id))
            .map(|h| ((h.allocation_id, h.disk), h))
            .collect();
        self.pending.retain(|key, _| wanted.contains_key(key));
        let mut added = Vec::new();
        for (key, h) in wanted {
            self.pending.entry(key).or_insert_with(|| {
                added.push(h.clone());
                (h.clone(), now)
            });
        }
        added
    }

    /// The orchestrator sent a command for `allocation_id`: it knows the
    /// allocation, so none of its blocks is an orphan any more. Returns how
    /// many pending blocks were dropped.
    pub fn claimed(&mut self, allocation_id: u64) -> usize {
        let before = self.pending.len();
        self.pending.retain(|&(id, _), _| id != allocation_id);
        before - self.pending.len()
    }

    /// Takes out the orphans named for at least the grace period.
    pub fn take_due(&mut self, now: Instant) -> Vec<DueOrphan> {
        let due: Vec<(u64, u32)> = self
            .pending
            .iter()
            .filter(|(_, (_, since))| now.saturating_duration_since(*since) >= self.grace)
            .map(|(key, _)| *key)
            .collect();
        due.into_iter()
            .filter_map(|key| self.pending.remove(&key))
            .map(|(held, since)| DueOrphan {
                held,
                age: now.saturating_duration_since(since),
            })
            .collect()
    }

    /// Puts back an orphan whose removal failed, keeping its start, so the
    /// next check tries again.
    pub fn retry(&mut self, orphan: DueOrphan, now: Instant) {
        let since = now.checked_sub(orphan.age).unwrap_or(now);
        let key = (orphan.held.allocation_id, orphan.held.disk);
        self.pending.insert(key, (orphan.held, since));
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The pending (allocation, disk) pairs, in order.
    pub fn keys(&self) -> Vec<(u64, u32)> {
        self.pending.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::AttachmentInfo;

    fn held(id: u64, disk: u32) -> HeldBlock {
        HeldBlock {
            allocation_id: id,
            disk,
            capacity_bytes: 1,
            attachment: AttachmentInfo::default(),
        }
    }

    fn ids(due: &[DueOrphan]) -> Vec<(u64, u32)> {
        due.iter()
            .map(|d| (d.held.allocation_id, d.held.disk))
            .collect()
    }

    #[test]
    fn zero_grace_makes_every_named_block_due_at_once() {
        let t0 = Instant::now();
        let mut p = PendingOrphans::new(Duration::ZERO);
        let all = [held(7, 0), held(7, 1), held(8, 0)];
        assert_eq!(p.registered(&[7], &all, t0).len(), 2);
        assert_eq!(ids(&p.take_due(t0)), vec![(7, 0), (7, 1)]);
        assert!(p.is_empty());
    }

    #[test]
    fn the_grace_period_counts_from_the_first_naming_across_registrations() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut p = PendingOrphans::new(60 * s);
        let all = [held(7, 0), held(8, 0), held(9, 1)];
        p.registered(&[7, 8], &all, t0);
        assert!(p.take_due(t0 + 59 * s).is_empty());
        // Named again (7) or no longer (8); 9 newly.
        let added = p.registered(&[7, 9], &all, t0 + 30 * s);
        assert_eq!(ids_of(&added), vec![(9, 1)]);
        assert_eq!(p.keys(), vec![(7, 0), (9, 1)]);
        let due = p.take_due(t0 + 60 * s);
        assert_eq!(ids(&due), vec![(7, 0)]);
        assert_eq!(due[0].age, 60 * s);
        assert_eq!(ids(&p.take_due(t0 + 90 * s)), vec![(9, 1)]);
    }

    fn ids_of(h: &[HeldBlock]) -> Vec<(u64, u32)> {
        h.iter().map(|h| (h.allocation_id, h.disk)).collect()
    }

    #[test]
    fn a_command_for_the_allocation_or_losing_the_block_ends_the_wait() {
        let t0 = Instant::now();
        let mut p = PendingOrphans::new(Duration::from_secs(5));
        let all = [held(7, 0), held(7, 1), held(8, 0)];
        p.registered(&[7, 8], &all, t0);
        assert_eq!(p.claimed(7), 2);
        assert_eq!(p.claimed(7), 0);
        assert_eq!(p.keys(), vec![(8, 0)]);
        // Still named, but the agent no longer holds it.
        p.registered(&[8], &all[..2], t0);
        assert!(p.is_empty());
    }

    #[test]
    fn a_failed_removal_is_retried_with_its_age_kept() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut p = PendingOrphans::new(10 * s);
        p.registered(&[7], &[held(7, 0)], t0);
        let due = p.take_due(t0 + 12 * s);
        assert_eq!(due.len(), 1);
        p.retry(due[0].clone(), t0 + 12 * s);
        let again = p.take_due(t0 + 13 * s);
        assert_eq!(ids(&again), vec![(7, 0)]);
        assert_eq!(again[0].age, 13 * s);
    }
}
