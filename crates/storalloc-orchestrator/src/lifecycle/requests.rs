//! What job users ask: submit (and the decision), cancel.

use super::{EngineError, Step, World};
use crate::model::{AllocState, AllocationRecord, Grant, Owner, PlacementRecord, StorageRequest};
use storalloc_core::{AllocId, Decision, Timestamp};

/// What a submission returns: the allocation and whether the request id
/// was already known.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub id: u64,
    pub duplicate: bool,
}

impl World {
    /// Records and decides a request. Idempotent on `request_id`: a known
    /// id returns the allocation it created, marked `duplicate`.
    pub fn submit(
        &mut self,
        request_id: String,
        request: StorageRequest,
        owner: Owner,
        now: i64,
    ) -> Step<Result<Submitted, EngineError>> {
        self.step(|w| w.submit_inner(request_id, request, owner, now))
    }

    fn submit_inner(
        &mut self,
        request_id: String,
        request: StorageRequest,
        owner: Owner,
        now: i64,
    ) -> Result<Submitted, EngineError> {
        crate::validate::check_request_id(&request_id).map_err(EngineError::InvalidArgument)?;
        crate::validate::check_storage_request(&request).map_err(EngineError::InvalidArgument)?;
        if let Some(&id) = self.by_request_id.get(&request_id) {
            return Ok(Submitted {
                id,
                duplicate: true,
            });
        }
        let id = self.next_alloc_id;
        self.next_alloc_id += 1;
        self.fx.push(super::Effect::SaveCounters);
        let mut a = AllocationRecord {
            id,
            request_id: request_id.clone(),
            owner,
            request,
            submitted_unix: now,
            state: AllocState::Pending,
            explanation: "waiting for a storage node to be up (and not drained)".into(),
            degraded: false,
            history: Vec::new(),
        };
        a.set_state(AllocState::Pending, now);
        self.allocs.insert(id, a);
        self.by_request_id.insert(request_id, id);
        self.touch(id);
        // Requests are decided in arrival order: a newcomer never overtakes
        // one that is waiting.
        if self.pending.is_empty() && self.any_node_available() {
            self.decide(id, now);
        } else {
            self.pending.insert(id);
        }
        Ok(Submitted {
            id,
            duplicate: false,
        })
    }

    /// Decides one request with the scheduler.
    pub(super) fn decide(&mut self, id: u64, now: i64) {
        self.pending.remove(&id);
        let req = self.allocs[&id].request.core_request(Timestamp(now));
        let decision = self.sched.submit(AllocId(id), &req, Timestamp(now));
        match decision {
            Decision::Granted(g) => {
                let placements: Vec<PlacementRecord> = g
                    .allocation
                    .placements
                    .iter()
                    .map(|p| PlacementRecord {
                        node: p.disk.node,
                        disk: p.disk.disk,
                        capacity_bytes: p.capacity.0,
                        hostname: self.hostname(p.disk.node),
                        attachment: None,
                    })
                    .collect();
                let grant = Grant {
                    start_unix: g.allocation.start.0,
                    end_unix: g.allocation.end.0,
                    delay_s: g.delay.0,
                    retries: g.retries,
                    placements,
                };
                let start = grant.start_unix;
                let a = self.alloc_mut(id);
                a.explanation = g.explanation;
                a.degraded = false;
                a.set_state(AllocState::Granted { grant }, now);
                self.index_live(id);
                if start <= now {
                    self.issue_allocates(id);
                } else {
                    self.starts.insert((start, id));
                }
            }
            Decision::Refused(r) => {
                let a = self.alloc_mut(id);
                a.explanation = r.explanation;
                a.set_state(AllocState::Refused { retries: r.retries }, now);
                self.finished_at(id, now);
            }
        }
    }

    /// Decides the waiting requests once a node is up; refuses those that
    /// waited longer than `pending_timeout_s`.
    pub(super) fn decide_pending(&mut self, now: i64) {
        if self.pending.is_empty() {
            return;
        }
        let ids: Vec<u64> = self.pending.iter().copied().collect();
        if self.any_node_available() {
            for id in ids {
                self.decide(id, now);
            }
            return;
        }
        let limit = i64::from(self.cfg.pending_timeout_s);
        for id in ids {
            let since = self.allocs[&id].submitted_unix.max(self.opened_at);
            if now - since >= limit {
                self.pending.remove(&id);
                let a = self.alloc_mut(id);
                a.explanation = format!(
                    "no storage node was up (and not drained) within {limit} s of the request"
                );
                a.set_state(AllocState::Refused { retries: 0 }, now);
                self.finished_at(id, now);
            }
        }
    }

    /// Cancels a pending or live allocation; its storage is released and
    /// its capacity returns. Cancelling a finished one changes nothing.
    pub fn cancel(&mut self, id: u64, now: i64) -> Step<Result<u64, EngineError>> {
        self.step(|w| {
            let a = w.allocs.get(&id).ok_or_else(|| unknown(id))?;
            if a.is_finished() {
                return Ok(id);
            }
            if a.is_live() {
                let issued = w.issued(id);
                w.unindex_live(id);
                if let Err(e) = w.sched.release(AllocId(id), Timestamp(now)) {
                    tracing::warn!(allocation = id, error = %e, "release in the scheduler");
                }
                if issued {
                    w.release_storage(id, None);
                }
            } else {
                w.pending.remove(&id);
            }
            let a = w.alloc_mut(id);
            let grant = a.state.take_grant();
            a.explanation = format!("cancelled at {now}");
            a.degraded = false;
            a.set_state(AllocState::Cancelled { grant }, now);
            w.finished_at(id, now);
            Ok(id)
        })
    }

    pub fn get(&self, id: u64) -> Result<&AllocationRecord, EngineError> {
        self.allocs.get(&id).ok_or_else(|| unknown(id))
    }
}

pub(super) fn unknown(id: u64) -> EngineError {
    EngineError::NotFound(format!(
        "allocation {id} does not exist (or finished long ago: see `storalloc history`)"
    ))
}
