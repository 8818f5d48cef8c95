//! The live storalloc orchestrator.
//!
//! - [`model`]: the engine's own records (allocations, nodes, commands) and
//!   their versioned stored encoding, apart from the wire types.
//! - [`lifecycle`]: the pure transitions, `(state, input, now)` to effects.
//! - [`engine::Engine`] executes those effects: it writes each batch through
//!   a [`store::StateStore`] before anyone hears of it, then sends agent
//!   commands through [`comm::AgentComm`]; [`clock::Clock`] tells the time.
//! - [`service`] runs the engine on its own thread behind the `storalloc.v1`
//!   gRPC services, and converts between wire messages and records.
//! - [`observe`] serves the dashboard, `/metrics` and the terminal view.

pub mod clock;
pub mod comm;
pub mod engine;
pub mod lifecycle;
pub mod model;
pub mod observe;
pub mod service;
pub mod store;
pub mod validate;

pub use clock::{Clock, ManualClock, SystemClock};
pub use comm::{AgentComm, ChannelComm, CommEvent, RecordingComm};
pub use engine::{Engine, EngineConfig, EngineError, Event, OpenError};
pub use service::{Endpoints, Orchestrator, OrchestratorError, OrchestratorOptions};
pub use store::{MemoryStore, SqliteStore, StateStore, StoreError};
