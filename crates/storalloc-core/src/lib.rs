//! The scheduling core of storalloc.
//!
//! Everything here is pure: no I/O, no async, no wall clock. Time is passed
//! in as `now`, and randomness comes from a seeded RNG, so the live
//! orchestrator and the simulator make the same decisions from the same
//! inputs.

pub mod calendar;
pub mod decision;
pub mod disk_identity;
pub mod explain;
mod free_index;
mod placement;
pub mod request;
pub mod scheduler;
mod state;
pub mod strategy;
pub mod system;
pub mod units;

pub use calendar::DiskCalendar;
pub use decision::{Allocation, Decision, Grant, Placement, Refusal, RefusalReason};
pub use disk_identity::DiskIdentity;
pub use request::{AllocId, Request, RequestError};
pub use scheduler::{CoreError, InvariantViolation, Scheduler, SchedulerConfig};
pub use strategy::{StrategyKind, UnknownStrategy};
pub use system::{Disk, DiskRef, Medium, Node, System};
pub use units::{Bandwidth, Bytes, TimeSpan, Timestamp, UnitError};
