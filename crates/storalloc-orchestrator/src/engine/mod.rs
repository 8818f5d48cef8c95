//! The engine: the thread-side executor of the lifecycle. It reads the
//! clock, runs a transition of the pure [`World`], and carries out its
//! effects: store writes are batched until [`Engine::commit`] writes them in
//! one transaction, and only then are agent commands sent and watch events
//! published. The caller answers clients after `commit` returns, so a grant
//! is on disk before anyone hears of it, and several calls share one commit
//! (group commit).

mod batch;
#[cfg(test)]
mod tests;

pub use crate::lifecycle::{EngineConfig, EngineError};
pub use crate::model::Owner;

use crate::clock::Clock;
use crate::comm::AgentComm;
use crate::lifecycle::{
    ClockAlert, CommandOutcome, Effect, NodeName, NodeView, Registered, Registration, Step,
    TimeKeeper, World,
};
use crate::model::{AllocationRecord, StorageRequest};
use crate::store::{HistoryQuery, StateStore, StoreError};
use batch::Pending;
use std::sync::Arc;
use tokio::sync::broadcast;

/// What watchers hear, after the commit that made it durable.
#[derive(Debug, Clone)]
pub enum Event {
    Allocation {
        seq: u64,
        time_unix: i64,
        record: Arc<AllocationRecord>,
    },
    Clock {
        seq: u64,
        time_unix: i64,
        alert: ClockAlert,
    },
}

impl Event {
    pub fn allocation(&self) -> Option<&AllocationRecord> {
        match self {
            Event::Allocation { record, .. } => Some(record),
            Event::Clock { .. } => None,
        }
    }
}

/// Everything `status` shows.
#[derive(Debug, Clone)]
pub struct StatusView {
    pub nodes: Vec<NodeView>,
    pub allocations: Vec<AllocationRecord>,
    pub strategy: String,
    pub now_unix: i64,
}

/// A page of finished allocations.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    pub allocations: Vec<AllocationRecord>,
    /// The `after_id` of the next page; `None` after the last one.
    pub next_after_id: Option<u64>,
}

/// Why the engine could not open its state.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the state store holds a record that cannot be used: {0}; nothing was changed (restore a backup, or fix or remove that record)")]
    Recovery(#[from] crate::lifecycle::RecoveryError),
}

pub struct Engine<S: StateStore, A: AgentComm, C: Clock> {
    world: World,
    keeper: TimeKeeper,
    store: S,
    comm: A,
    clock: C,
    pending: Pending,
    seq: u64,
    events: broadcast::Sender<Event>,
    clock_alerts: u64,
}

impl<S: StateStore, A: AgentComm, C: Clock> Engine<S, A, C> {
    /// Loads the store and restores the world; a record that cannot be
    /// used stops here with an error naming it, and the store is untouched.
    pub fn open(mut store: S, comm: A, clock: C, cfg: EngineConfig) -> Result<Self, OpenError> {
        let loaded = store.load()?;
        let mut keeper = TimeKeeper::new();
        let (now, _) = keeper.observe(clock.now().0, clock.monotonic_s(), cfg.clock_jump_grace_s);
        let run_nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let Step {
            out: world,
            effects,
        } = World::restore(cfg, loaded, now, run_nonce)?;
        let (events, _) = broadcast::channel(4096);
        let mut engine = Engine {
            world,
            keeper,
            store,
            comm,
            clock,
            pending: Pending::default(),
            seq: 0,
            events,
            clock_alerts: 0,
        };
        engine.absorb(effects);
        engine.commit()?;
        Ok(engine)
    }

    /// The lifecycle's time now (see `lifecycle::clock_guard`).
    pub fn now(&mut self) -> i64 {
        let wall = self.clock.now().0;
        let mono = self.clock.monotonic_s();
        let step = self.world.observe_clock(&mut self.keeper, wall, mono);
        self.run(step)
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn config(&self) -> &EngineConfig {
        self.world.config()
    }

    /// The state store, for reads outside the lifecycle (a benchmark counts
    /// the history table's rows).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// How many clock jumps were seen since start.
    pub fn clock_alerts(&self) -> u64 {
        self.clock_alerts
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub fn check_invariants(&self) -> Result<(), storalloc_core::InvariantViolation> {
        self.world.check_invariants()
    }

    pub fn has_uncommitted(&self) -> bool {
        !self.pending.is_empty()
    }

    fn run<T>(&mut self, step: Step<T>) -> T {
        self.absorb(step.effects);
        step.out
    }

    fn absorb(&mut self, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::CloseStream(n) => self.comm.close_stream(n),
                Effect::Alert(a) => {
                    self.clock_alerts += 1;
                    tracing::error!(alert = ?a, "THE WALL CLOCK JUMPED: {}", describe(&a));
                    self.pending.alerts.push(a);
                }
                other => self.pending.add(other),
            }
        }
    }

    /// Writes every change since the last commit in one transaction, then
    /// sends the new agent commands and publishes events. On error nothing
    /// was written and the engine must not be used any more: memory is
    /// ahead of the disk, and only a restart (recovery) is safe.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let batch = pending.batch(&self.world);
        self.store.commit(&batch)?;
        for d in &pending.sends {
            if !pending.done.contains(&d.command.id) {
                self.comm.send(d);
            }
        }
        let now = self.keeper.effective();
        if self.events.receiver_count() > 0 {
            for a in batch.allocations {
                self.seq += 1;
                let _ = self.events.send(Event::Allocation {
                    seq: self.seq,
                    time_unix: now,
                    record: Arc::new(a),
                });
            }
            for alert in pending.alerts {
                self.seq += 1;
                let _ = self.events.send(Event::Clock {
                    seq: self.seq,
                    time_unix: now,
                    alert,
                });
            }
        }
        Ok(())
    }

    /// Runs the timers at the current time.
    pub fn tick(&mut self) {
        let now = self.now();
        let step = self.world.tick(now);
        self.run(step)
    }

    pub fn submit(
        &mut self,
        request_id: String,
        request: StorageRequest,
        owner: Owner,
    ) -> Result<(AllocationRecord, bool), EngineError> {
        let now = self.now();
        let step = self.world.submit(request_id, request, owner, now);
        let s = self.run(step)?;
        Ok((self.world.get(s.id)?.clone(), s.duplicate))
    }

    pub fn get(&self, id: u64) -> Result<AllocationRecord, EngineError> {
        self.world.get(id).cloned()
    }

    pub fn list(&self, include_finished: bool) -> Vec<AllocationRecord> {
        self.world
            .list(include_finished)
            .into_iter()
            .cloned()
            .collect()
    }

    pub fn cancel(&mut self, id: u64) -> Result<AllocationRecord, EngineError> {
        let now = self.now();
        let step = self.world.cancel(id, now);
        self.run(step)?;
        self.get(id)
    }

    /// The current state to replay to a new watcher, and the receiver of
    /// every later event (subscribed before the replay is taken, so nothing
    /// falls between them).
    pub fn watch(
        &mut self,
        id: Option<u64>,
    ) -> Result<(Vec<Event>, broadcast::Receiver<Event>), EngineError> {
        let now = self.now();
        let replay: Vec<AllocationRecord> = match id {
            Some(id) => vec![self.get(id)?],
            None => self.list(false),
        };
        let rx = self.events.subscribe();
        let events = replay
            .into_iter()
            .map(|a| Event::Allocation {
                seq: self.seq,
                time_unix: now,
                record: Arc::new(a),
            })
            .collect();
        Ok((events, rx))
    }

    pub fn node_views(&mut self) -> Vec<NodeView> {
        let now = self.now();
        self.world.node_views(now)
    }

    /// Nodes with per-disk use now, and the allocations not finished.
    pub fn status(&mut self) -> StatusView {
        let now = self.now();
        StatusView {
            nodes: self.world.node_views(now),
            allocations: self.list(false),
            strategy: self.config().scheduler.strategy.name().to_string(),
            now_unix: now,
        }
    }

    pub fn drain_node(&mut self, name: &NodeName) -> Result<NodeView, EngineError> {
        let now = self.now();
        let step = self.world.drain_node(name, now);
        self.run(step)
    }

    pub fn resume_node(&mut self, name: &NodeName) -> Result<NodeView, EngineError> {
        let now = self.now();
        let step = self.world.resume_node(name, now);
        self.run(step)
    }

    pub fn register(&mut self, reg: Registration) -> Result<Registered, EngineError> {
        let now = self.now();
        let step = self.world.register(reg, now);
        self.run(step)
    }

    pub fn heartbeat(&mut self, session_id: &str) -> bool {
        let now = self.now();
        self.world.heartbeat(session_id, now)
    }

    /// The agent of `session_id` opens its command stream: every command of
    /// its node without a result is sent again, in order (those of the
    /// uncommitted batch go out at commit).
    pub fn open_commands(&mut self, session_id: &str) -> Result<A::Stream, EngineError> {
        let (node, dispatches) = self.world.commands_for_session(session_id)?;
        let stream = self.comm.open_stream(node);
        for d in dispatches {
            if !self.pending.added.contains(&d.command.id) {
                self.comm.send(&d);
            }
        }
        Ok(stream)
    }

    pub fn report_result(
        &mut self,
        session_id: &str,
        command_id: u64,
        outcome: CommandOutcome,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let step = self
            .world
            .report_result(session_id, command_id, outcome, now);
        self.run(step)
    }

    /// Finished allocations, oldest first: those still in memory, then the
    /// history table's (ids are unique, so paging by id covers both).
    pub fn history(&mut self, q: &HistoryQuery) -> Result<HistoryPage, StoreError> {
        let limit = q.limit.clamp(1, 5000);
        let mut out: Vec<AllocationRecord> = self.store.history(&HistoryQuery {
            limit: limit + 1,
            ..q.clone()
        })?;
        out.extend(
            self.world
                .list(true)
                .into_iter()
                .filter(|a| a.is_finished() && q.matches(a))
                .cloned(),
        );
        out.sort_by_key(|a| a.id);
        out.dedup_by_key(|a| a.id);
        let more = out.len() > limit;
        out.truncate(limit);
        let next_after_id = if more { out.last().map(|a| a.id) } else { None };
        Ok(HistoryPage {
            allocations: out,
            next_after_id,
        })
    }
}

fn describe(a: &ClockAlert) -> String {
    match a {
        ClockAlert::ForwardJumpHeld { jump_s, until_unix } => format!(
            "it is {jump_s} s ahead of the monotonic clock; expiries it would cause are held until {until_unix} (fix the clock now)"
        ),
        ClockAlert::ForwardJumpAccepted { jump_s } => {
            format!("the {jump_s} s forward jump outlasted the grace period and is now believed")
        }
        ClockAlert::BackwardJump { jump_s } => {
            format!("it went back {jump_s} s; grants keep their length")
        }
    }
}
