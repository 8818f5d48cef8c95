//! The engine's thread. gRPC handlers send it closures; it runs a batch of
//! them, ticks the timers, commits once, and only then lets the answers
//! go: group commit, with a grant on disk before its client hears of it.

use crate::clock::SystemClock;
use crate::comm::ChannelComm;
use crate::engine::{Engine, EngineError};
use crate::store::StateStore;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tonic::Status;

pub type LiveEngine = Engine<Box<dyn StateStore>, ChannelComm, SystemClock>;
type Reply = Box<dyn FnOnce() + Send>;
type Call = Box<dyn FnOnce(&mut LiveEngine) -> Reply + Send>;

enum Msg {
    Call(Call),
    Shutdown,
}

/// Most calls folded into one commit: bounds the latency the first call of
/// a batch waits for the others.
const MAX_BATCH: usize = 512;
/// The timers' resolution; the clock counts whole seconds.
const IDLE_WAKE: Duration = Duration::from_millis(200);

/// A cheap, cloneable way to run calls on the engine thread.
#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<Msg>,
    /// Submit calls' time to answer, for `/metrics` (see `crate::observe`).
    pub(crate) submit_latency: prometheus_client::metrics::histogram::Histogram,
}

pub fn to_status(e: EngineError) -> Status {
    match e {
        EngineError::InvalidArgument(m) => Status::invalid_argument(m),
        EngineError::NotFound(m) => Status::not_found(m),
        EngineError::FailedPrecondition(m) => Status::failed_precondition(m),
    }
}

impl EngineHandle {
    /// Runs `f` on the engine; its result arrives after the commit that
    /// made its changes durable.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut LiveEngine) -> T + Send + 'static,
    ) -> Result<T, Status> {
        let (tx, rx) = oneshot::channel();
        let call: Call = Box::new(move |e| {
            let out = f(e);
            Box::new(move || {
                let _ = tx.send(out);
            })
        });
        self.tx
            .send(Msg::Call(call))
            .map_err(|_| Status::unavailable("the orchestrator is shutting down"))?;
        rx.await
            .map_err(|_| Status::unavailable("the orchestrator stopped before answering"))
    }

    /// Like [`EngineHandle::call`] for calls that can fail with an
    /// [`EngineError`].
    pub async fn try_call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut LiveEngine) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, Status> {
        self.call(f).await?.map_err(to_status)
    }

    /// Asks the engine thread to finish its batch and stop.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Msg::Shutdown);
    }
}

/// Starts the engine thread. `stopped` turns true when it ends, for any
/// reason (a failed commit stops it: memory would be ahead of the disk).
pub fn spawn(
    engine: LiveEngine,
) -> (
    EngineHandle,
    watch::Receiver<bool>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::channel();
    let (stopped_tx, stopped_rx) = watch::channel(false);
    let join = std::thread::Builder::new()
        .name("storalloc-engine".into())
        .spawn(move || {
            run(engine, rx);
            let _ = stopped_tx.send(true);
        })
        .expect("spawn the engine thread");
    let handle = EngineHandle {
        tx,
        submit_latency: crate::observe::latency_histogram(),
    };
    (handle, stopped_rx, join)
}

fn run(mut engine: LiveEngine, rx: mpsc::Receiver<Msg>) {
    let mut last_tick = engine.now();
    let mut replies: Vec<Reply> = Vec::new();
    loop {
        let mut stop = false;
        match rx.recv_timeout(IDLE_WAKE) {
            Ok(first) => {
                let mut next = Some(first);
                while let Some(m) = next {
                    match m {
                        Msg::Call(f) => replies.push(f(&mut engine)),
                        Msg::Shutdown => {
                            stop = true;
                            break;
                        }
                    }
                    next = if replies.len() < MAX_BATCH {
                        rx.try_recv().ok()
                    } else {
                        None
                    };
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => stop = true,
        }
        let now = engine.now();
        if now != last_tick {
            engine.tick();
            last_tick = now;
        }
        if let Err(e) = engine.commit() {
            tracing::error!(error = %e, "could not write the state store; stopping (restart to recover)");
            // Dropping the replies answers every waiting call with Unavailable.
            replies.clear();
            return;
        }
        if replies.len() > 1 {
            tracing::trace!(calls = replies.len(), "group commit");
        }
        for r in replies.drain(..) {
            r();
        }
        if stop {
            tracing::info!("engine stopped");
            return;
        }
    }
}
