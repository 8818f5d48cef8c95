//! Commands owed to agents. The outbox keeps them until the agent reports a
//! result; they name disk slots, translated to the agent's positions only
//! when sent ([`Dispatch`]).

use super::allocation::Owner;

#[derive(Debug, Clone, PartialEq)]
pub enum CommandKind {
    Allocate {
        allocation_id: u64,
        disk: u32,
        capacity_bytes: u64,
        start_unix: i64,
        end_unix: i64,
        owner: Owner,
        host_nqns: Vec<String>,
    },
    Release {
        allocation_id: u64,
        disk: u32,
    },
}

impl CommandKind {
    pub fn allocation_id(&self) -> u64 {
        match self {
            CommandKind::Allocate { allocation_id, .. }
            | CommandKind::Release { allocation_id, .. } => *allocation_id,
        }
    }

    pub fn disk(&self) -> u32 {
        match self {
            CommandKind::Allocate { disk, .. } | CommandKind::Release { disk, .. } => *disk,
        }
    }

    pub fn is_allocate(&self) -> bool {
        matches!(self, CommandKind::Allocate { .. })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub id: u64,
    pub node: u32,
    pub kind: CommandKind,
}

/// A command on its way to an agent: `position` is the disk's index in that
/// agent's own list.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatch {
    pub node: u32,
    pub position: u32,
    pub command: Command,
}
