//! The engine's own records, apart from the wire: allocations with a state
//! that carries what that state needs, nodes with their disks' identities,
//! and the commands owed to agents. `service::convert` maps them to and from
//! `storalloc.v1` at the edge; `encoding` writes them to the store, versioned.

pub mod allocation;
pub mod command;
pub mod encoding;
pub mod node;
pub mod request;

pub use allocation::{
    AllocState, AllocationRecord, Attachment, Grant, Owner, PlacementRecord, StateName, Transition,
};
pub use command::{Command, CommandKind, Dispatch};
pub use node::{DiskIdentity, DiskSlot, DiskSpec, NodeRecord};
pub use request::StorageRequest;
