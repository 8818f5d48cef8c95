//! Placement strategies. Each picks one disk for one block; the scheduler
//! handles splitting, retry and the calendars.

use serde::{Deserialize, Serialize};

/// The strategies storalloc knows. Names match the original's `sched_strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    RandomAlloc,
    RoundRobin,
    WorstFit,
    /// "best bandwidth" in the original's plots.
    WorstCase,
    BestFit,
    EarliestStart,
}

impl StrategyKind {
    pub const ALL: [StrategyKind; 6] = [
        StrategyKind::RandomAlloc,
        StrategyKind::RoundRobin,
        StrategyKind::WorstFit,
        StrategyKind::WorstCase,
        StrategyKind::BestFit,
        StrategyKind::EarliestStart,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::RandomAlloc => "random_alloc",
            StrategyKind::RoundRobin => "round_robin",
            StrategyKind::WorstFit => "worst_fit",
            StrategyKind::WorstCase => "worst_case",
            StrategyKind::BestFit => "best_fit",
            StrategyKind::EarliestStart => "earliest_start",
        }
    }
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown strategy name; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown strategy {name:?}: valid strategies are random_alloc, round_robin, worst_fit, worst_case, best_fit, earliest_start")]
pub struct UnknownStrategy {
    pub name: String,
}

impl std::str::FromStr for StrategyKind {
    type Err = UnknownStrategy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StrategyKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownStrategy {
                name: s.to_string(),
            })
    }
}

mod best_fit;
pub(crate) mod earliest_start;
mod random_alloc;
mod round_robin;
mod worst_case;
pub(crate) mod worst_fit;

use crate::state::{Block, Filter, State};
use rand::Rng;

/// The disk a strategy chose for one block, and why (for the explanation).
#[derive(Debug, Clone)]
pub(crate) struct Pick {
    pub disk: usize,
    pub why: String,
}

/// Why a strategy found no disk for one block.
#[derive(Debug, Clone)]
pub(crate) enum Miss {
    /// No allowed disk has room in the window.
    NoRoom,
    /// round_robin tried these disks in turn and none had room.
    Exhausted(Vec<usize>),
}

/// Pick a disk for `b` among the disks `f` allows, at the block's window.
/// `earliest_start` at a fixed window behaves like `worst_fit`; its search
/// over start times lives in [`earliest_start`].
pub(crate) fn pick(
    kind: StrategyKind,
    st: &mut State,
    f: &Filter,
    b: &Block,
) -> Result<Pick, Miss> {
    match kind {
        StrategyKind::RandomAlloc => random_alloc::pick(st, f, b),
        StrategyKind::RoundRobin => round_robin::pick(st, f, b),
        StrategyKind::WorstFit => worst_fit::pick(st, f, b, "worst_fit"),
        StrategyKind::EarliestStart => worst_fit::pick(st, f, b, "earliest_start"),
        StrategyKind::BestFit => best_fit::pick(st, f, b),
        StrategyKind::WorstCase => worst_case::pick(st, f, b),
    }
}

/// Uniform choice among tied disks. The ties are sorted first so the choice
/// does not depend on the order the disks were examined in, and the RNG is
/// only drawn from when there is a real tie.
pub(crate) fn break_tie(st: &mut State, ties: &mut [usize]) -> usize {
    if ties.len() == 1 {
        return ties[0];
    }
    ties.sort_unstable();
    ties[st.rng.random_range(0..ties.len())]
}
