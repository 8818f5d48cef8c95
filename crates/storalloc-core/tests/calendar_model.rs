//! The calendar against a naive model: a list of reservations whose level
//! at any instant is the sum of those covering it.

use proptest::prelude::*;
use storalloc_core::DiskCalendar;

#[derive(Debug, Clone, Copy)]
struct Res {
    t0: i64,
    t1: i64,
    amount: i64,
}

struct Model {
    res: Vec<Res>,
    horizon: i64,
}

impl Model {
    /// Exact for every time at or after the horizon.
    fn level_at(&self, t: i64) -> i64 {
        self.res
            .iter()
            .filter(|r| r.t0 <= t && t < r.t1)
            .map(|r| r.amount)
            .sum()
    }
    fn peak(&self, t0: i64, t1: i64) -> i64 {
        (t0..t1).map(|t| self.level_at(t)).max().unwrap_or(0)
    }
    fn earliest_fit(&self, t0: i64, latest: i64, dur: i64, limit: i64) -> Option<i64> {
        (t0..=latest).find(|&t| self.peak(t, t + dur) <= limit)
    }
}

#[derive(Debug, Clone)]
enum Op {
    Add { t0: i64, len: i64, amount: i64 },
    Remove { which: usize },
    Truncate { which: usize, at: i64 },
    Compact { at: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0i64..60, 1i64..30, 1i64..10).prop_map(|(t0, len, amount)| Op::Add { t0, len, amount }),
        1 => any::<usize>().prop_map(|which| Op::Remove { which }),
        1 => (any::<usize>(), 0i64..90).prop_map(|(which, at)| Op::Truncate { which, at }),
        1 => (0i64..60).prop_map(|at| Op::Compact { at }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn calendar_matches_model(ops in prop::collection::vec(op(), 1..60),
                              q in prop::collection::vec((0i64..100, 1i64..40, 0i64..30), 10)) {
        let mut cal = DiskCalendar::new();
        let mut model = Model { res: Vec::new(), horizon: i64::MIN };
        for o in ops {
            // All updates are clamped to the horizon, as the scheduler does.
            let h = model.horizon;
            match o {
                Op::Add { t0, len, amount } => {
                    // The model keeps the range as clamped when it was added.
                    let r = Res { t0: t0.max(h), t1: (t0 + len).max(h), amount };
                    cal.add_range(r.t0, r.t1, amount);
                    model.res.push(r);
                }
                Op::Remove { which } => {
                    if !model.res.is_empty() {
                        let r = model.res.remove(which % model.res.len());
                        cal.add_range(r.t0.max(h), r.t1.max(h), -r.amount);
                    }
                }
                Op::Truncate { which, at } => {
                    if !model.res.is_empty() {
                        let i = which % model.res.len();
                        let r = model.res[i];
                        if at < r.t1 {
                            let from = at.max(r.t0);
                            cal.add_range(from.max(h), r.t1.max(h), -r.amount);
                            model.res[i].t1 = from;
                        }
                    }
                }
                Op::Compact { at } => {
                    if at > model.horizon {
                        cal.compact(at);
                        model.horizon = at;
                    }
                }
            }
        }
        let h = model.horizon.max(0);
        for (t, len, limit) in q {
            let t = t.max(h);
            prop_assert_eq!(cal.level_at(t), model.level_at(t), "level at {}", t);
            prop_assert_eq!(cal.peak(t, t + len), model.peak(t, t + len), "peak in [{}, {})", t, t + len);
            prop_assert_eq!(
                cal.earliest_fit(t, t + 50, len, limit),
                model.earliest_fit(t, t + 50, len, limit),
                "earliest fit from {} for {} under {}", t, len, limit
            );
            let from = if model.horizon == i64::MIN { -1 } else { model.horizon };
            let mx = (from..130).map(|t| model.level_at(t)).max().unwrap();
            prop_assert_eq!(cal.max_level(), mx);
            let mn = (from..130).map(|t| model.level_at(t)).min().unwrap();
            prop_assert_eq!(cal.min_level(), mn);
        }
    }
}
