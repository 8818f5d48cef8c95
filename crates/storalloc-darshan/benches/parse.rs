//! Parsing throughput, in MB/s of compressed log, on one core.
//!
//! `cargo bench -p storalloc-darshan --bench parse`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::Path;
use storalloc_darshan::{DarshanLog, ReadOptions, Reader};

fn data(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/darshan")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("darshan_parse");
    for name in [
        "sample-badost.darshan",
        "example.darshan",
        "release_logs/mpi-io-test-x86_64-3.4.7.darshan",
    ] {
        let bytes = data(name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        // A reused Reader, as `traces extract` uses it over many logs.
        let mut reader = Reader::new(ReadOptions::default());
        group.bench_function(format!("reader/{name}"), |b| {
            b.iter(|| reader.parse(std::hint::black_box(&bytes)).expect("parses"))
        });
        // A one-off parse, which allocates its decompression buffer.
        group.bench_function(format!("oneshot/{name}"), |b| {
            b.iter(|| DarshanLog::parse(std::hint::black_box(&bytes)).expect("parses"))
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
