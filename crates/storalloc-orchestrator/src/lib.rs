//! The live storalloc orchestrator.
//!
//! - [`engine::Engine`] owns the pure scheduler and every record; it is
//!   driven by calls and writes each batch of changes through a
//!   [`store::StateStore`] before anyone hears of them.
//! - [`comm::AgentComm`] carries commands to agents; [`clock::Clock`] tells
//!   the time. Both have fakes for tests.
//! - [`service`] runs the engine on its own thread behind the `storalloc.v1`
//!   gRPC services.
//! - [`observe`] serves the dashboard, `/metrics` and the terminal view.

pub mod clock;
pub mod comm;
pub mod engine;
pub mod observe;
pub mod service;
pub mod store;
pub mod validate;

pub use clock::{Clock, ManualClock, SystemClock};
pub use comm::{AgentComm, ChannelComm, CommEvent, RecordingComm};
pub use engine::{Engine, EngineConfig, EngineError};
pub use service::{Endpoints, Orchestrator, OrchestratorError, OrchestratorOptions};
pub use store::{MemoryStore, SqliteStore, StateStore, StoreError};
