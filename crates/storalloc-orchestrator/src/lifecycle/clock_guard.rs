//! Which time the lifecycle runs on. Expiry follows the wall clock, but the
//! wall clock can jump: an NTP step, an operator's typo. A forward jump that
//! outruns the monotonic clock by more than [`JUMP_TOLERANCE_S`] would end
//! every allocation it passes at once, so the time it adds is held for a
//! grace period (loudly: an alert) while an operator fixes the clock. A
//! backward jump never shortens or lengthens a grant: time keeps advancing
//! at the monotonic rate until the wall clock catches up.

/// How far the wall clock may run ahead of the monotonic clock between two
/// readings before it counts as a jump.
pub const JUMP_TOLERANCE_S: i64 = 60;

/// An operator must hear of this at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockAlert {
    /// The wall clock jumped forward by `jump_s` beyond the monotonic
    /// clock; expiries it would cause are held until `until_unix`
    /// (effective time).
    ForwardJumpHeld { jump_s: i64, until_unix: i64 },
    /// The grace period passed and the jump was accepted.
    ForwardJumpAccepted { jump_s: i64 },
    /// The wall clock went back by `jump_s`; the lifecycle keeps time.
    BackwardJump { jump_s: i64 },
}

/// Turns `(wall, monotonic)` readings into the lifecycle's time.
#[derive(Debug, Clone)]
pub struct TimeKeeper {
    last_wall: Option<i64>,
    last_mono: i64,
    effective: i64,
    /// A held forward jump: its size, and the monotonic time it ends.
    hold: Option<(i64, i64)>,
}

impl TimeKeeper {
    pub fn new() -> TimeKeeper {
        TimeKeeper {
            last_wall: None,
            last_mono: 0,
            effective: i64::MIN,
            hold: None,
        }
    }

    /// The time now, and an alert if this reading shows a jump.
    pub fn observe(&mut self, wall: i64, mono: i64, grace_s: u64) -> (i64, Option<ClockAlert>) {
        let Some(last_wall) = self.last_wall else {
            self.last_wall = Some(wall);
            self.last_mono = mono;
            self.effective = wall;
            return (wall, None);
        };
        let mono_delta = (mono - self.last_mono).max(0);
        let expected = self.effective + mono_delta;
        self.last_wall = Some(wall);
        self.last_mono = mono;
        let mut alert = None;
        if let Some((jump, until_mono)) = self.hold {
            if mono >= until_mono {
                self.hold = None;
                self.effective = wall.max(expected);
                return (
                    self.effective,
                    Some(ClockAlert::ForwardJumpAccepted { jump_s: jump }),
                );
            }
            if wall <= expected + JUMP_TOLERANCE_S {
                // The clock was fixed: nothing held any more.
                self.hold = None;
            } else {
                self.effective = expected;
                return (self.effective, None);
            }
        }
        let wall_delta = wall - last_wall;
        if wall_delta - mono_delta > JUMP_TOLERANCE_S && wall > expected + JUMP_TOLERANCE_S {
            let jump = wall - expected;
            self.hold = Some((jump, mono + grace_s as i64));
            self.effective = expected;
            alert = Some(ClockAlert::ForwardJumpHeld {
                jump_s: jump,
                until_unix: expected + grace_s as i64,
            });
        } else if wall < expected {
            if wall_delta < 0 {
                alert = Some(ClockAlert::BackwardJump {
                    jump_s: -wall_delta,
                });
            }
            self.effective = expected;
        } else {
            self.effective = wall;
        }
        (self.effective, alert)
    }

    /// The last effective time handed out.
    pub fn effective(&self) -> i64 {
        self.effective
    }

    pub fn holding(&self) -> bool {
        self.hold.is_some()
    }
}

impl Default for TimeKeeper {
    fn default() -> Self {
        TimeKeeper::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_clocks_give_wall_time() {
        let mut k = TimeKeeper::new();
        assert_eq!(k.observe(1000, 0, 900), (1000, None));
        assert_eq!(k.observe(1010, 10, 900), (1010, None));
        // Small drift within the tolerance follows the wall clock.
        assert_eq!(k.observe(1050, 20, 900), (1050, None));
    }

    #[test]
    fn a_forward_jump_is_held_for_the_grace_period_then_accepted() {
        let mut k = TimeKeeper::new();
        k.observe(1000, 0, 900);
        let (t, a) = k.observe(1000 + 86_400, 5, 900);
        assert_eq!(t, 1005);
        assert_eq!(
            a,
            Some(ClockAlert::ForwardJumpHeld {
                jump_s: 86_395,
                until_unix: 1905
            })
        );
        assert!(k.holding());
        // Still held: time moves at the monotonic rate.
        assert_eq!(k.observe(1000 + 86_500, 105, 900), (1105, None));
        // The grace period is over: the wall clock is believed.
        let (t, a) = k.observe(1000 + 87_400, 905, 900);
        assert_eq!(t, 88_400);
        assert_eq!(a, Some(ClockAlert::ForwardJumpAccepted { jump_s: 86_395 }));
    }

    #[test]
    fn a_jump_fixed_within_the_grace_period_is_forgotten() {
        let mut k = TimeKeeper::new();
        k.observe(1000, 0, 900);
        k.observe(90_000, 10, 900);
        assert_eq!(k.observe(1020, 20, 900), (1020, None));
        assert!(!k.holding());
    }

    #[test]
    fn a_backward_jump_neither_shortens_nor_lengthens_time() {
        let mut k = TimeKeeper::new();
        k.observe(1000, 0, 900);
        let (t, a) = k.observe(500, 10, 900);
        assert_eq!(t, 1010);
        assert_eq!(a, Some(ClockAlert::BackwardJump { jump_s: 500 }));
        assert_eq!(k.observe(510, 20, 900), (1020, None));
        // Once the wall clock is ahead again it is followed.
        assert_eq!(k.observe(1100, 90, 900), (1100, None));
    }
}
