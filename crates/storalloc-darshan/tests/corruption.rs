//! Truncated and corrupted copies of the real logs: always an error naming
//! the region (or a clean decode), never a panic, never a huge allocation.

mod common;

use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use storalloc_darshan::{DarshanError, DarshanLog};

/// Records the largest single allocation any test in this binary makes.
struct MaxAlloc;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for MaxAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: MaxAlloc = MaxAlloc;

/// No real log decompresses to more than a few MB; a corrupt one must not
/// make the reader ask for more than this in one allocation.
const ALLOCATION_BOUND: usize = 64 << 20;

fn assert_bounded_allocations() {
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest <= ALLOCATION_BOUND,
        "largest allocation {largest} bytes"
    );
}

fn assert_names_a_region(err: &DarshanError, what: &str) {
    assert!(
        err.region().is_some(),
        "{what}: error names no region: {err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("header") || text.contains("region"),
        "{what}: message names no region: {text}"
    );
}

/// Every offset where a region starts or ends, plus the header's end.
fn region_boundaries(log: &DarshanLog) -> Vec<u64> {
    let h = &log.header;
    let mut cuts = vec![
        0,
        8,
        16,
        h.size() / 2,
        h.size(),
        h.job_map.offset + h.job_map.len,
    ];
    for map in std::iter::once(h.name_map).chain(h.modules.iter().map(|m| m.map)) {
        if map.len > 0 {
            cuts.extend([map.offset, map.offset + map.len / 2, map.offset + map.len]);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

#[test]
fn truncating_at_every_region_boundary_is_an_error_naming_the_region() {
    for (rel, path) in common::real_logs() {
        let bytes = std::fs::read(&path).expect("read log");
        let log = DarshanLog::parse(&bytes).expect("original parses");
        let mut cuts = region_boundaries(&log);
        // And a spread of arbitrary cut points.
        cuts.extend((1..64).map(|i| bytes.len() as u64 * i / 64));
        for cut in cuts.into_iter().filter(|&c| c < bytes.len() as u64) {
            let what = format!("{rel} cut at {cut}");
            match DarshanLog::parse(&bytes[..cut as usize]) {
                Ok(_) => panic!("{what}: a truncated log decoded"),
                Err(e) => assert_names_a_region(&e, &what),
            }
        }
    }
    assert_bounded_allocations();
}

#[test]
fn flipping_bytes_never_panics_and_errors_name_the_region() {
    let mut errors = 0;
    for (rel, path) in common::real_logs() {
        let bytes = std::fs::read(&path).expect("read log");
        // Fewer, wider-spread flips in the big logs keep the test at a few
        // seconds in a debug build.
        let flips = if bytes.len() > 50_000 { 12 } else { 120 };
        let step = (bytes.len() / flips).max(1);
        for at in (0..bytes.len()).step_by(step) {
            for mask in [0xff_u8, 0x01] {
                let mut copy = bytes.clone();
                copy[at] ^= mask;
                if let Err(e) = DarshanLog::parse(&copy) {
                    assert_names_a_region(&e, &format!("{rel} byte {at} ^ {mask:#x}"));
                    errors += 1;
                }
            }
        }
    }
    // Compressed regions carry checksums, so most flips must be caught.
    assert!(errors > 500, "only {errors} corruptions detected");
    assert_bounded_allocations();
}

#[test]
fn header_maps_pointing_anywhere_are_rejected_cleanly() {
    let path = common::data_dir().join("release_logs/mpi-io-test-x86_64-3.4.7.darshan");
    let bytes = std::fs::read(path).expect("read log");
    // Name map length, then the POSIX map offset and length (format 3.41).
    for at in [40usize, 64, 72] {
        for value in [u64::MAX, u64::MAX / 2, 1 << 40, bytes.len() as u64, 0] {
            let mut copy = bytes.clone();
            copy[at..at + 8].copy_from_slice(&value.to_le_bytes());
            if let Err(e) = DarshanLog::parse(&copy) {
                assert_names_a_region(&e, &format!("map field {at} = {value}"));
            }
        }
    }
    assert_bounded_allocations();
}

fn small_logs() -> Vec<Vec<u8>> {
    common::real_logs()
        .into_iter()
        .map(|(_, p)| std::fs::read(p).expect("read log"))
        .filter(|b| b.len() < 20_000)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_corruption_never_panics(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let logs = small_logs();
        let mut bytes = pick.get(&logs).clone();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        if let Err(e) = DarshanLog::parse(&bytes) {
            prop_assert!(e.region().is_some(), "no region: {}", e);
        }
        prop_assert!(LARGEST.load(Ordering::Relaxed) <= ALLOCATION_BOUND);
    }
}
