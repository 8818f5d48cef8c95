//! How long and how often the client retries an unreachable orchestrator.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub initial_delay: Duration,
    pub max_delay: Duration,
    /// Stop retrying a call once it has failed for this long.
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(2),
            give_up_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Fail fast: one attempt, no waiting.
    pub fn no_retry() -> Self {
        RetryPolicy {
            give_up_after: Duration::ZERO,
            ..RetryPolicy::default()
        }
    }

    pub(crate) fn backoff(&self) -> Backoff {
        Backoff {
            next: self.initial_delay,
            max: self.max_delay,
        }
    }
}

pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }
}
