fn main() {
    let path = std::env::args().nth(1).expect("log path");
    let bytes = std::fs::read(path).expect("read");
    let n = 300;
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(storalloc_darshan::DarshanLog::parse(&bytes).expect("parse"));
    }
    let dt = t.elapsed().as_secs_f64() / n as f64;
    println!("{:.3} ms/parse, {:.1} MB/s", dt * 1e3, bytes.len() as f64 / dt / 1e6);
}
