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
            .ok_or_else(|| UnknownStrategy { name: s.to_string() })
    }
}
