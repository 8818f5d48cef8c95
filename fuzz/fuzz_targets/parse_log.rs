//! Any byte string: the reader returns a log or an error naming a region,
//! and never panics or asks for an absurd allocation (libFuzzer's
//! `-rss_limit_mb` / `-malloc_limit_mb` catch the latter).
#![no_main]

use libfuzzer_sys::fuzz_target;
use storalloc_darshan::{DarshanLog, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let options = ReadOptions {
        max_region_bytes: 64 << 20,
    };
    match DarshanLog::parse_with(data, &options) {
        Ok(log) => {
            // Walk everything a caller could touch.
            let _ = log.summary();
            for m in &log.modules {
                if let storalloc_darshan::ModuleData::Counters(t) = &m.data {
                    for r in t.records() {
                        let _ = log.name_of(r.id);
                    }
                }
            }
        }
        Err(e) => assert!(e.region().is_some(), "error without a region: {e}"),
    }
});
