//! The fast paths (the free-space index, the calendar descents) choose what
//! a brute-force reading of the calendars says they should, on random
//! systems with reservations under way and booked ahead.

mod common;

use common::*;
use proptest::prelude::*;
use storalloc_core::{
    AllocId, Allocation, Decision, DiskRef, Placement, Request, Scheduler, StrategyKind, Timestamp,
};

#[derive(Debug, Clone)]
struct Setup {
    caps: Vec<u64>,
    /// (disk index, GB, start minute, length in minutes)
    res: Vec<(usize, u64, i64, i64)>,
    now: i64,
    req: (u64, u64, i64),
}

fn setup() -> impl Strategy<Value = Setup> {
    (prop::collection::vec(50u64..400, 1..12), 0i64..60).prop_flat_map(|(caps, now)| {
        let n = caps.len();
        (
            Just(caps),
            prop::collection::vec((0..n, 1u64..200, -60i64..180, 1i64..240), 0..60),
            Just(now),
            (1u64..300, 1u64..180, 0i64..120),
        )
            .prop_map(|(caps, res, now, req)| Setup {
                caps,
                res,
                now,
                req,
            })
    })
}

fn disk_ref(i: usize) -> DiskRef {
    DiskRef {
        node: (i / 3) as u32,
        disk: (i % 3) as u32,
    }
}

/// Build the scheduler; reservations that do not fit are skipped. Returns
/// the reservations' end times (the only moments room can appear).
fn build(kind: StrategyKind, s: &Setup) -> (Scheduler, Vec<i64>) {
    let nodes: Vec<Vec<u64>> = s.caps.chunks(3).map(|c| c.to_vec()).collect();
    let refs: Vec<&[u64]> = nodes.iter().map(|n| n.as_slice()).collect();
    let mut sch = sched(system(&refs), kind);
    let mut ends = Vec::new();
    for (i, &(d, g, start, len)) in s.res.iter().enumerate() {
        let a = Allocation {
            id: AllocId(1000 + i as u64),
            start: at_min(start),
            end: at_min(start + len),
            placements: vec![Placement {
                disk: disk_ref(d),
                capacity: gb(g),
            }],
        };
        if sch.restore(a).is_ok() {
            ends.push(at_min(start + len).0);
        }
    }
    sch.advance(at_min(s.now));
    (sch, ends)
}

fn free(s: &Scheduler, caps: &[u64], d: usize, t0: i64, t1: i64) -> u64 {
    gb(caps[d]).0 - s.peak_usage(disk_ref(d), Timestamp(t0), Timestamp(t1)).0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn fixed_window_strategies_choose_the_best_disk(s in setup()) {
        let (cap, dur, off) = s.req;
        let start = at_min(s.now + off);
        let r = Request::new(gb(cap), mins(dur), start);
        let (t0, t1) = (start.0, start.0 + dur as i64 * 60);
        for kind in [StrategyKind::WorstFit, StrategyKind::BestFit, StrategyKind::RandomAlloc] {
            let (mut sch, _) = build(kind, &s);
            let fitting: Vec<usize> = (0..s.caps.len())
                .filter(|&d| free(&sch, &s.caps, d, t0, t1) >= gb(cap).0)
                .collect();
            match sch.submit(AllocId(1), &r, at_min(s.now)) {
                Decision::Granted(g) => {
                    let p = g.allocation.placements[0].disk;
                    let d = fitting.iter().copied().find(|&d| disk_ref(d) == p);
                    prop_assert!(d.is_some(), "{kind}: chose {p}, which has no room");
                    // Free space as it was before the grant.
                    let f = |d: usize| free(&sch, &s.caps, d, t0, t1) + if disk_ref(d) == p { gb(cap).0 } else { 0 };
                    let chosen = d.unwrap();
                    match kind {
                        StrategyKind::WorstFit => {
                            let frac = |d: usize| f(d) as f64 / gb(s.caps[d]).0 as f64;
                            let best = fitting.iter().map(|&d| frac(d)).fold(f64::MIN, f64::max);
                            prop_assert_eq!(frac(chosen), best);
                        }
                        StrategyKind::BestFit => {
                            let best = fitting.iter().map(|&d| f(d) - gb(cap).0).min().unwrap();
                            prop_assert_eq!(f(chosen) - gb(cap).0, best);
                        }
                        _ => {}
                    }
                }
                Decision::Refused(x) => prop_assert!(fitting.is_empty(), "{kind}: refused with room: {}", x.explanation),
            }
            sch.check_invariants().unwrap();
        }
    }

    #[test]
    fn earliest_start_finds_the_earliest_start(s in setup(), bounded in any::<bool>()) {
        let (cap, dur, off) = s.req;
        let es = at_min(s.now + off);
        let mut r = Request::new(gb(cap), mins(dur), es);
        if bounded {
            r = r.with_max_delay(mins(90));
        }
        let (mut sch, ends) = build(StrategyKind::EarliestStart, &s);
        let d = dur as i64 * 60;
        let fits_at = |sch: &Scheduler, t: i64| (0..s.caps.len()).any(|x| free(sch, &s.caps, x, t, t + d) >= gb(cap).0);
        // Room can only appear at the requested start or where a reservation ends.
        let mut candidates: Vec<i64> = ends.into_iter().filter(|&t| t > es.0).collect();
        candidates.push(es.0);
        candidates.sort_unstable();
        let latest = if bounded { es.0 + 90 * 60 } else { i64::MAX };
        let expected = candidates.into_iter().filter(|&t| t <= latest).find(|&t| fits_at(&sch, t));
        match sch.submit(AllocId(1), &r, at_min(s.now)) {
            Decision::Granted(g) => {
                prop_assert_eq!(Some(g.allocation.start.0), expected);
                prop_assert_eq!(g.delay.0 as i64, g.allocation.start.0 - es.0);
            }
            Decision::Refused(_) => prop_assert_eq!(expected, None),
        }
        sch.check_invariants().unwrap();
    }
}
