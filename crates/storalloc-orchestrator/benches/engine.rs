//! Engine throughput with durable commits: submits decided and written to
//! SQLite (WAL, synchronous=FULL) in groups of 1 and 64, on a simulated
//! 1,000 nodes × 8 disks system.
//!
//! cargo bench -p storalloc-orchestrator --bench engine

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use storalloc_core::{SchedulerConfig, StrategyKind};
use storalloc_orchestrator::engine::Owner;
use storalloc_orchestrator::lifecycle::Registration;
use storalloc_orchestrator::model::{DiskSpec, StorageRequest};
use storalloc_orchestrator::{Engine, EngineConfig, ManualClock, RecordingComm, SqliteStore};

const GB: u64 = 1_000_000_000;

fn engine(
    dir: &std::path::Path,
    strategy: StrategyKind,
) -> Engine<SqliteStore, RecordingComm, ManualClock> {
    let mut cfg = EngineConfig::new(SchedulerConfig::new(strategy));
    cfg.heartbeat_timeout_s = u32::MAX / 2;
    let mut e = Engine::open(
        SqliteStore::open(dir).unwrap(),
        RecordingComm::new(),
        ManualClock::new(1_700_000_000),
        cfg,
    )
    .unwrap();
    for n in 0..1000 {
        e.register(Registration {
            hostname: format!("node{n:04}"),
            address: "10.0.0.1".into(),
            network_bw_gbps: 12.5,
            disks: (0..8)
                .map(|_| DiskSpec {
                    capacity_bytes: 8000 * GB,
                    write_bw_gbps: 2.93,
                    read_bw_gbps: 3.13,
                    backend: "simulate".into(),
                    ..Default::default()
                })
                .collect(),
            held: vec![],
        })
        .unwrap();
    }
    e.commit().unwrap();
    e
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("durable_submit");
    g.sample_size(10);
    for strategy in [StrategyKind::RoundRobin, StrategyKind::WorstCase] {
        for batch in [1usize, 64] {
            let dir = tempfile::tempdir().unwrap();
            let mut e = engine(dir.path(), strategy);
            let mut next = 0u64;
            g.throughput(Throughput::Elements(batch as u64));
            g.bench_function(BenchmarkId::new(strategy.name(), batch), |b| {
                b.iter(|| {
                    for _ in 0..batch {
                        next += 1;
                        let r = StorageRequest {
                            capacity_bytes: GB,
                            duration_s: 3600,
                            ..Default::default()
                        };
                        e.submit(format!("r{next}"), r, Owner::default()).unwrap();
                    }
                    e.commit().unwrap();
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
