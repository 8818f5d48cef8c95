//! Decisions per second for each strategy, by number of disks and by number
//! of live reservations. Run with
//! `cargo bench -p storalloc-core --bench decisions`
//! (figures and setup in docs/benchmarks.md).
//!
//! One "decision" is `submit` of a 10 GB, 1-hour request starting at `now`
//! followed by `cancel` of the grant, so the state stays the same from one
//! iteration to the next (the cancel is included in the time).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;
use storalloc_core::{
    AllocId, Allocation, Bytes, Decision, DiskRef, Placement, Request, Scheduler, SchedulerConfig,
    StrategyKind, System, TimeSpan, Timestamp,
};

const NOW: i64 = 1_704_103_200;
const DISKS_PER_NODE: usize = 10;

/// Where the live reservations sit in time.
#[derive(Clone, Copy)]
enum Mix {
    /// All under way at `NOW`: started in the last 4 hours, ending in the
    /// next 4 (trace replay and the live system: requests start when asked).
    Ongoing,
    /// Half under way, half booked ahead (starting in the next 2 hours).
    Ahead,
}

/// `disks` disks with `reservations` live reservations of 1–20 GB spread
/// evenly. Capacities leave the disks about half full at `NOW`.
fn setup(kind: StrategyKind, disks: usize, reservations: usize, mix: Mix) -> Scheduler {
    let per_disk = reservations.div_ceil(disks).max(1) as u64;
    let cap = Bytes::from_gb((per_disk * 20).max(1000));
    let system = System::uniform(disks.div_ceil(DISKS_PER_NODE), DISKS_PER_NODE, cap);
    let mut s = Scheduler::new(system, SchedulerConfig::new(kind));
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    for i in 0..reservations {
        let d = i % disks;
        let (start, end) = match mix {
            Mix::Ongoing => (
                NOW - rng.random_range(0..4 * 3600),
                NOW + rng.random_range(1..=4 * 3600),
            ),
            Mix::Ahead if i % 2 == 0 => (
                NOW - rng.random_range(0..4 * 3600),
                NOW + rng.random_range(1..=4 * 3600),
            ),
            Mix::Ahead => {
                let s = NOW + rng.random_range(0..2 * 3600);
                (s, s + rng.random_range(3600..=4 * 3600))
            }
        };
        let alloc = Allocation {
            id: AllocId(1_000_000_000 + i as u64),
            start: Timestamp(start),
            end: Timestamp(end),
            placements: vec![Placement {
                disk: DiskRef {
                    node: (d / DISKS_PER_NODE) as u32,
                    disk: (d % DISKS_PER_NODE) as u32,
                },
                capacity: Bytes::from_gb(rng.random_range(1..=20)),
            }],
        };
        s.restore(alloc).expect("setup fits");
    }
    s.advance(Timestamp(NOW));
    s
}

fn decide(s: &mut Scheduler, id: &mut u64, req: &Request) {
    *id += 1;
    match s.submit(AllocId(*id), req, Timestamp(NOW)) {
        Decision::Granted(_) => {
            s.cancel(AllocId(*id)).expect("just granted");
        }
        Decision::Refused(r) => panic!("benchmark request refused: {}", r.explanation),
    }
}

fn request() -> Request {
    Request::new(Bytes::from_gb(10), TimeSpan::from_hours(1), Timestamp(NOW))
}

fn by_disks(c: &mut Criterion) {
    let mut g = c.benchmark_group("decisions_100k_reservations");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
    for disks in [100usize, 1_000, 10_000] {
        for kind in StrategyKind::ALL {
            // Built on first use, so a filtered run skips the others' setup.
            let mut state = None;
            let req = request();
            let mut id = 0u64;
            g.bench_with_input(BenchmarkId::new(kind.name(), disks), &disks, |b, _| {
                let s = state.get_or_insert_with(|| setup(kind, disks, 100_000, Mix::Ongoing));
                b.iter(|| decide(s, &mut id, &req))
            });
        }
    }
    g.finish();
}

fn by_reservations(c: &mut Criterion) {
    let mut g = c.benchmark_group("decisions_1000_disks");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
    for reservations in [1_000usize, 10_000, 100_000, 1_000_000] {
        for kind in [
            StrategyKind::WorstFit,
            StrategyKind::EarliestStart,
            StrategyKind::RoundRobin,
        ] {
            let mut state = None;
            let req = request();
            let mut id = 0u64;
            g.bench_with_input(
                BenchmarkId::new(kind.name(), reservations),
                &reservations,
                |b, _| {
                    let s =
                        state.get_or_insert_with(|| setup(kind, 1_000, reservations, Mix::Ongoing));
                    b.iter(|| decide(s, &mut id, &req))
                },
            );
        }
    }
    g.finish();
}

fn booked_ahead(c: &mut Criterion) {
    let mut g = c.benchmark_group("decisions_1000_disks_100k_half_booked_ahead");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
    for kind in StrategyKind::ALL {
        let mut state = None;
        let req = request();
        let mut id = 0u64;
        g.bench_function(kind.name(), |b| {
            let s = state.get_or_insert_with(|| setup(kind, 1_000, 100_000, Mix::Ahead));
            b.iter(|| decide(s, &mut id, &req))
        });
    }
    g.finish();
}

/// A trace-replay stream: 10 jobs per second of 1–20 GB for 1–4 hours, on
/// 1,000 disks of 2 TB, with `advance` every simulated second. In steady
/// state about 90,000 jobs are live. One element is one job: its `submit`
/// plus a tenth of an `advance` (ends and compaction included).
struct Stream {
    s: Scheduler,
    rng: ChaCha8Rng,
    now: i64,
    next: u64,
    /// Jobs since the last `advance`.
    tick: u8,
}

impl Stream {
    fn new(kind: StrategyKind) -> Stream {
        let system = System::uniform(100, DISKS_PER_NODE, Bytes::from_gb(2_000));
        let mut st = Stream {
            s: Scheduler::new(system, SchedulerConfig::new(kind)),
            rng: ChaCha8Rng::seed_from_u64(7),
            now: NOW,
            next: 0,
            tick: 0,
        };
        // Reach the steady state: more than the longest job's length.
        for _ in 0..5 * 3600 * 10 {
            st.job();
        }
        st
    }

    fn job(&mut self) {
        self.next += 1;
        self.tick += 1;
        if self.tick == 10 {
            self.tick = 0;
            self.now += 1;
            self.s.advance(Timestamp(self.now));
        }
        let req = Request::new(
            Bytes::from_gb(self.rng.random_range(1..=20)),
            TimeSpan(self.rng.random_range(3600..=4 * 3600)),
            Timestamp(self.now),
        );
        let d = self.s.submit(AllocId(self.next), &req, Timestamp(self.now));
        assert!(d.is_granted(), "{}", d.explanation());
    }
}

fn replay(c: &mut Criterion) {
    let mut g = c.benchmark_group("replay_1000_disks_90k_live");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(1));
    for kind in [
        StrategyKind::WorstFit,
        StrategyKind::EarliestStart,
        StrategyKind::RoundRobin,
    ] {
        let mut state = None;
        g.bench_function(kind.name(), |b| {
            let st = state.get_or_insert_with(|| Stream::new(kind));
            b.iter(|| st.job())
        });
    }
    g.finish();
}

criterion_group!(benches, by_disks, by_reservations, booked_ahead, replay);
criterion_main!(benches);
