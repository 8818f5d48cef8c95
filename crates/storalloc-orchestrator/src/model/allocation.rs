//! An allocation's record. Its state is an enum that carries what the state
//! needs: a grant exists exactly in the states that have one, so no code
//! checks an optional field "elsewhere".

use super::request::StorageRequest;

/// Who submitted a request: recorded and passed on to agents for file
/// ownership.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

/// How a client reaches one placement's storage, as its agent reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachment {
    /// `directory`, `nvmeof` or `simulated`.
    pub kind: String,
    pub nqn: String,
    pub transport: String,
    pub address: String,
    pub port: u32,
    pub path: String,
    pub connect_command: String,
}

/// One block of a grant on one disk. `disk` is the node's disk slot (see
/// `NodeRecord`), stable across agent restarts and system-file changes.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacementRecord {
    pub node: u32,
    pub disk: u32,
    pub capacity_bytes: u64,
    /// The node's hostname when it was granted, for display.
    pub hostname: String,
    /// Set once the agent confirmed the storage exists.
    pub attachment: Option<Attachment>,
}

/// Where and when the scheduler placed an allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub start_unix: i64,
    pub end_unix: i64,
    pub delay_s: u64,
    pub retries: u32,
    pub placements: Vec<PlacementRecord>,
}

impl Grant {
    /// Placements merged per `(node, disk)`: one agent command covers every
    /// block of an allocation on one disk.
    pub fn disk_groups(&self) -> Vec<(u32, u32, u64)> {
        let mut out: Vec<(u32, u32, u64)> = Vec::new();
        for p in &self.placements {
            match out.iter_mut().find(|g| g.0 == p.node && g.1 == p.disk) {
                Some(g) => g.2 += p.capacity_bytes,
                None => out.push((p.node, p.disk, p.capacity_bytes)),
            }
        }
        out
    }

    pub fn all_ready(&self) -> bool {
        self.placements.iter().all(|p| p.attachment.is_some())
    }

    pub fn none_ready(&self) -> bool {
        self.placements.iter().all(|p| p.attachment.is_none())
    }
}

/// An allocation's state and what it carries.
#[derive(Debug, Clone, PartialEq)]
pub enum AllocState {
    /// Received, waiting for a storage node to be up.
    Pending,
    /// Placed and durable; storage not (all) created yet.
    Granted {
        grant: Grant,
    },
    /// Every placement's storage exists.
    Allocated {
        grant: Grant,
    },
    /// A disk it uses vanished from its node: its capacity stays booked and
    /// nothing is released, so an admin can put the disk back.
    Lost {
        grant: Grant,
    },
    Refused {
        retries: u32,
    },
    /// A server could not create the storage; capacity was returned.
    Failed {
        grant: Option<Grant>,
    },
    /// Its time ran out; the storage was released.
    Ended {
        grant: Grant,
    },
    Cancelled {
        grant: Option<Grant>,
    },
}

/// A state's name without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateName {
    Pending,
    Granted,
    Allocated,
    Lost,
    Refused,
    Failed,
    Ended,
    Cancelled,
}

impl StateName {
    pub fn as_str(self) -> &'static str {
        match self {
            StateName::Pending => "PENDING",
            StateName::Granted => "GRANTED",
            StateName::Allocated => "ALLOCATED",
            StateName::Lost => "LOST",
            StateName::Refused => "REFUSED",
            StateName::Failed => "FAILED",
            StateName::Ended => "ENDED",
            StateName::Cancelled => "CANCELLED",
        }
    }

    /// Nothing will change any more.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            StateName::Refused | StateName::Failed | StateName::Ended | StateName::Cancelled
        )
    }
}

impl AllocState {
    pub fn name(&self) -> StateName {
        match self {
            AllocState::Pending => StateName::Pending,
            AllocState::Granted { .. } => StateName::Granted,
            AllocState::Allocated { .. } => StateName::Allocated,
            AllocState::Lost { .. } => StateName::Lost,
            AllocState::Refused { .. } => StateName::Refused,
            AllocState::Failed { .. } => StateName::Failed,
            AllocState::Ended { .. } => StateName::Ended,
            AllocState::Cancelled { .. } => StateName::Cancelled,
        }
    }

    pub fn grant(&self) -> Option<&Grant> {
        match self {
            AllocState::Granted { grant }
            | AllocState::Allocated { grant }
            | AllocState::Lost { grant }
            | AllocState::Ended { grant } => Some(grant),
            AllocState::Failed { grant } | AllocState::Cancelled { grant } => grant.as_ref(),
            AllocState::Pending | AllocState::Refused { .. } => None,
        }
    }

    /// The grant of an allocation that holds capacity in the scheduler.
    pub fn live_grant(&self) -> Option<&Grant> {
        match self {
            AllocState::Granted { grant }
            | AllocState::Allocated { grant }
            | AllocState::Lost { grant } => Some(grant),
            _ => None,
        }
    }

    pub fn live_grant_mut(&mut self) -> Option<&mut Grant> {
        match self {
            AllocState::Granted { grant }
            | AllocState::Allocated { grant }
            | AllocState::Lost { grant } => Some(grant),
            _ => None,
        }
    }

    /// Takes the grant out, leaving `Pending` behind (for transitions that
    /// move it into the next state).
    pub fn take_grant(&mut self) -> Option<Grant> {
        match std::mem::replace(self, AllocState::Pending) {
            AllocState::Granted { grant }
            | AllocState::Allocated { grant }
            | AllocState::Lost { grant }
            | AllocState::Ended { grant } => Some(grant),
            AllocState::Failed { grant } | AllocState::Cancelled { grant } => grant,
            AllocState::Pending | AllocState::Refused { .. } => None,
        }
    }
}

/// One step of an allocation's life.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub at_unix: i64,
    pub state: StateName,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AllocationRecord {
    pub id: u64,
    /// The client's idempotency key, unique per orchestrator.
    pub request_id: String,
    pub owner: Owner,
    pub request: StorageRequest,
    pub submitted_unix: i64,
    pub state: AllocState,
    /// Why it is in its state, for people.
    pub explanation: String,
    /// A node it uses is DOWN.
    pub degraded: bool,
    /// Every state it went through, oldest first.
    pub history: Vec<Transition>,
}

impl AllocationRecord {
    pub fn state_name(&self) -> StateName {
        self.state.name()
    }

    pub fn is_live(&self) -> bool {
        self.state.live_grant().is_some()
    }

    pub fn is_finished(&self) -> bool {
        self.state_name().is_finished()
    }

    /// When it entered a finished state.
    pub fn finished_unix(&self) -> Option<i64> {
        if !self.is_finished() {
            return None;
        }
        Some(
            self.history
                .last()
                .map(|t| t.at_unix)
                .unwrap_or(self.submitted_unix),
        )
    }

    /// Moves to `state` at `at`, noting the step in the history.
    pub fn set_state(&mut self, state: AllocState, at: i64) {
        let name = state.name();
        self.state = state;
        if self.history.last().map(|t| t.state) != Some(name) {
            self.history.push(Transition {
                at_unix: at,
                state: name,
            });
        }
    }
}
