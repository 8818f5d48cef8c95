//! Where the engine gets the time. The core and the lifecycle never read a
//! clock; the engine reads this one (wall and monotonic, so a jump of the
//! wall clock can be told from time passing), and tests move it by hand.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use storalloc_core::Timestamp;

pub trait Clock: Send {
    /// The wall clock, in whole Unix seconds.
    fn now(&self) -> Timestamp;
    /// Seconds on a clock that never jumps, from an arbitrary origin.
    fn monotonic_s(&self) -> i64;
}

/// The system's clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Timestamp(secs)
    }

    fn monotonic_s(&self) -> i64 {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        ORIGIN.get_or_init(Instant::now).elapsed().as_secs() as i64
    }
}

/// Clocks tests set by hand; clones share the same time. Moving time
/// forward moves both clocks; [`ManualClock::jump`] moves the wall clock
/// alone, as an NTP step or an operator's typo would.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    wall: Arc<AtomicI64>,
    mono: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn new(t: i64) -> ManualClock {
        ManualClock {
            wall: Arc::new(AtomicI64::new(t)),
            mono: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Time passes until the wall clock reads `t` (going back is a jump).
    pub fn set(&self, t: i64) {
        let old = self.wall.swap(t, Ordering::SeqCst);
        if t > old {
            self.mono.fetch_add(t - old, Ordering::SeqCst);
        }
    }

    /// `secs` seconds pass.
    pub fn advance(&self, secs: i64) {
        self.wall.fetch_add(secs, Ordering::SeqCst);
        self.mono.fetch_add(secs.max(0), Ordering::SeqCst);
    }

    /// The wall clock alone jumps by `secs` (either way).
    pub fn jump(&self, secs: i64) {
        self.wall.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.wall.load(Ordering::SeqCst))
    }

    fn monotonic_s(&self) -> i64 {
        self.mono.load(Ordering::SeqCst)
    }
}
