//! What job users ask of the engine: submit, look up, list, cancel, watch
//! and status.

use super::{is_finished, Engine, EngineError};
use crate::clock::Clock;
use crate::comm::AgentComm;
use crate::store::StateStore;
use crate::validate::check_submit;
use storalloc_core::AllocId;
use storalloc_proto::v1::{
    Allocation, AllocationEvent, AllocationState, StatusResponse, SubmitRequest, SubmitResponse,
};
use tokio::sync::broadcast;

/// Who submitted a request. v1 has no authentication: this is what the
/// client says, recorded and passed on to agents for file ownership.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

impl<S: StateStore, A: AgentComm, C: Clock> Engine<S, A, C> {
    /// Records and decides a request. Idempotent on `request_id`: a known id
    /// returns the allocation it created, marked `duplicate`.
    pub fn submit(
        &mut self,
        req: SubmitRequest,
        owner: Owner,
    ) -> Result<SubmitResponse, EngineError> {
        let sr = check_submit(&req).map_err(EngineError::InvalidArgument)?;
        if let Some(id) = self.by_request_id.get(&req.request_id) {
            return Ok(SubmitResponse {
                allocation: Some(self.allocs[id].clone()),
                duplicate: true,
            });
        }
        let now = self.now();
        let id = self.next_alloc_id;
        self.next_alloc_id += 1;
        self.txn.ids_dirty = true;
        let mut a = Allocation {
            id,
            request_id: req.request_id.clone(),
            request: Some(sr.clone()),
            explanation: "waiting for a storage node to be up (and not drained)".into(),
            owner_uid: owner.uid,
            owner_gid: owner.gid,
            submitted_unix: now.0,
            ..Allocation::default()
        };
        a.set_state(AllocationState::Pending);
        self.allocs.insert(id, a);
        self.by_request_id.insert(req.request_id, id);
        self.touch(id);
        // Requests are decided in arrival order: a newcomer never overtakes
        // one that is waiting.
        if self.pending.is_empty() && self.any_node_available() {
            self.decide(id, now);
        } else {
            self.pending.insert(id);
        }
        Ok(SubmitResponse {
            allocation: Some(self.allocs[&id].clone()),
            duplicate: false,
        })
    }

    pub fn get(&self, id: u64) -> Result<Allocation, EngineError> {
        self.allocs.get(&id).cloned().ok_or_else(|| unknown(id))
    }

    /// Every allocation by id; finished ones only if asked.
    pub fn list(&self, include_finished: bool) -> Vec<Allocation> {
        let mut v: Vec<Allocation> = self
            .allocs
            .values()
            .filter(|a| include_finished || !is_finished(a))
            .cloned()
            .collect();
        v.sort_unstable_by_key(|a| a.id);
        v
    }

    /// Cancels a pending or live allocation; its storage is released and
    /// its capacity returns. Cancelling a finished one changes nothing.
    pub fn cancel(&mut self, id: u64) -> Result<Allocation, EngineError> {
        let state = self.allocs.get(&id).ok_or_else(|| unknown(id))?.state();
        let now = self.now();
        match state {
            AllocationState::Pending => {
                self.pending.remove(&id);
            }
            AllocationState::Granted | AllocationState::Allocated => {
                let issued = self.issued(id);
                self.unindex_live(id);
                if let Err(e) = self.sched().release(AllocId(id), now) {
                    tracing::warn!(allocation = id, error = %e, "release in the scheduler");
                }
                if issued {
                    self.release_storage(id, None);
                }
            }
            _ => return Ok(self.allocs[&id].clone()),
        }
        let a = self.alloc_mut(id);
        a.set_state(AllocationState::Cancelled);
        a.explanation = format!("cancelled at {}", now.0);
        a.degraded = false;
        Ok(a.clone())
    }

    /// The current state to replay to a new watcher, and the receiver of
    /// every later event (subscribed before the replay is taken, so nothing
    /// falls between them).
    pub fn watch(
        &self,
        id: Option<u64>,
    ) -> Result<(Vec<AllocationEvent>, broadcast::Receiver<AllocationEvent>), EngineError> {
        let now = self.now().0;
        let replay: Vec<Allocation> = match id {
            Some(id) => vec![self.get(id)?],
            None => self.list(false),
        };
        let rx = self.events.subscribe();
        let events = replay
            .into_iter()
            .map(|a| AllocationEvent {
                seq: self.seq,
                time_unix: now,
                allocation: Some(a),
            })
            .collect();
        Ok((events, rx))
    }

    /// Nodes with per-disk use now, and the allocations not finished.
    pub fn status(&mut self) -> StatusResponse {
        StatusResponse {
            nodes: self.node_infos(),
            allocations: self.list(false),
            strategy: self.cfg.scheduler.strategy.name().to_string(),
            now_unix: self.now().0,
        }
    }

    /// Live allocations (GRANTED or ALLOCATED).
    pub fn live_count(&self) -> usize {
        self.ends.len()
    }
}

fn unknown(id: u64) -> EngineError {
    EngineError::NotFound(format!("allocation {id} does not exist"))
}
