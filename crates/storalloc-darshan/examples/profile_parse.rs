//! Parses one log repeatedly, for profiling (`perf record`) and CPU-time
//! throughput (`perf stat -e task-clock`), with one reused [`Reader`].
//!
//! `cargo run --release -p storalloc-darshan --example profile_parse -- LOG [N]`

use storalloc_darshan::{ReadOptions, Reader};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: profile_parse LOG [N]");
    let n: usize = args.next().map_or(300, |s| s.parse().expect("N"));
    let bytes = std::fs::read(&path).expect("read log");
    let mut reader = Reader::new(ReadOptions::default());
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(reader.parse(&bytes).expect("parse"));
    }
    let dt = t.elapsed().as_secs_f64() / n as f64;
    println!(
        "{path}: {:.3} ms/parse (wall), {:.1} MB/s of compressed log",
        dt * 1e3,
        bytes.len() as f64 / dt / 1e6
    );
}
